"""The cyclic garbage collector, paused while `mockserver serve` starts.

Start-up imports ~50 modules and builds the app: ~70 collections of the collector's youngest
generations (~17 ms of a ~0.3 s start-up here), which find nothing, since what start-up makes
lives as long as the server. Reference counting frees everything else as usual. Pausing only
pays when start-up ends with `gc.freeze()` (as `serve` does): otherwise the first collection
after the pause walks everything start-up made (why the pytest fixture, in someone else's
process, doesn't pause it).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collections inside the block; the collector's state before it is restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
