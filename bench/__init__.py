"""`make bench`: mockserver's performance, as ratios against a baseline measured in the same run.

    python -m bench                  # every figure (about 6-8 minutes on 2 cores)
    python -m bench --quick          # fewer rounds, shorter wrk runs (about 2 minutes)
    python -m bench --only nonstream --only startup

Each figure runs on its own; one that cannot run yet (an endpoint not implemented, the pytest
fixture missing) is reported as "unavailable: <reason>" and the others go on. The table goes
to stdout and, with machine information, to `bench/results/latest.json`.
"""
