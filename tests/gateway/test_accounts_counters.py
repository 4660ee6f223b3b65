"""Balances as store counters (`mockserver.gateway.accounts`): what requests spend is counted
beside the records, every read answers the numbers as they are now, a write of a record sets
the balance it is given without losing a spend, two processes spending one quota never both
take it, and a state file keeps it all across a restart."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from msgspec.structs import replace

from mockserver.gateway.accounts import ENABLED, EXHAUSTED, Accounts, TokenRecord, UserRecord
from mockserver.store import MemoryStore, Store
from mockserver.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


def seed(accounts: Accounts, remain: int = 1000, quota: int = 5000) -> TokenRecord:
    accounts.put_user(
        UserRecord(
            id=1,
            username="alice",
            display_name="alice",
            role=1,
            status=ENABLED,
            email="",
            group="default",
            quota=quota,
            access_token="alice-access",
        )
    )
    token = TokenRecord(id=accounts.next_token_id(), user_id=1, key="k1", name="main")
    accounts.put_token(replace(token, remain_quota=remain))
    return token


def test_a_bill_is_counted_and_every_read_shows_it(store: Store) -> None:
    accounts = Accounts(store)
    token = seed(accounts)
    accounts.adjust(token.id, 1, 120, request=True)
    accounts.adjust(token.id, 1, -20)  # a refund
    now = accounts.token(token.id)
    user = accounts.user(1)
    assert now is not None and user is not None
    assert (now.remain_quota, now.used_quota) == (900, 100)
    assert (user.quota, user.used_quota, user.request_count) == (4900, 100, 1)
    assert accounts.token_by_key("k1") == now
    assert accounts.tokens_of(1) == [now] == accounts.all_tokens()
    assert accounts.user_by_access_token("alice-access") == user
    found = accounts.caller("k1")
    assert found == (now, user)
    # The records themselves were not rewritten by the bills: only counters moved.
    stored = accounts.tokens.get(str(token.id), TokenRecord)
    assert stored is not None and (stored.remain_quota, stored.used_quota) == (1000, 0)


def test_a_put_sets_the_balance_given_and_used_keeps_counting(store: Store) -> None:
    """`PUT /api/token/` while the key spends: the balance is the one put, what was spent
    before stays in `used_quota`, and what a request in flight settles afterwards is taken
    from the new balance (as new-api's bill after an edit)."""
    accounts = Accounts(store)
    token = seed(accounts)
    assert accounts.pre_consume(token.id, 1, 300) == "ok"  # a request in flight
    read = accounts.token(token.id)
    assert read is not None and read.remain_quota == 700
    accounts.put_token(replace(read, remain_quota=2000, name="renamed"))
    after = accounts.token(token.id)
    assert after is not None
    assert (after.remain_quota, after.used_quota, after.name) == (2000, 300, "renamed")
    accounts.adjust(token.id, 1, 50, request=True)  # it settles: 350 in all
    settled = accounts.token(token.id)
    assert settled is not None and (settled.remain_quota, settled.used_quota) == (1950, 350)
    user = accounts.user(1)
    assert user is not None and (user.quota, user.used_quota) == (5000 - 350, 350)


def test_a_put_user_keeps_what_was_spent(store: Store) -> None:
    accounts = Accounts(store)
    token = seed(accounts)
    accounts.adjust(token.id, 1, 400, request=True)
    user = accounts.user(1)
    assert user is not None
    accounts.put_user(replace(user, quota=10_000))
    again = accounts.user(1)
    assert again is not None
    assert (again.quota, again.used_quota, again.request_count) == (10_000, 400, 1)


def test_an_exhausted_balance_refuses_the_pre_charge(store: Store) -> None:
    accounts = Accounts(store)
    token = seed(accounts, remain=100)
    assert accounts.pre_consume(token.id, 1, 60) == "ok"
    assert accounts.pre_consume(token.id, 1, 60) == "token_short"
    now = accounts.token(token.id)
    assert now is not None and now.remain_quota == 40  # the refused one took nothing
    poor = Accounts(MemoryStore())
    seed(poor, remain=10_000, quota=50)
    assert poor.pre_consume(1, 1, 60) == "user_short"


def test_the_key_check_sees_a_record_written_by_another_worker(tmp_path: Path) -> None:
    """Each worker keeps the records the key check reads; a write by another one (a status,
    a deletion) is seen on the next request (the store's notices)."""
    path = tmp_path / "shared.db"
    one, two = SqliteStore(path), SqliteStore(path)
    try:
        first, second = Accounts(one), Accounts(two)
        token = seed(first)
        found = second.caller("k1")
        assert found is not None and found[0].status == ENABLED
        first.set_status(token.id, 2)
        found = second.caller("k1")
        assert found is not None and found[0].status == 2
        first.adjust(token.id, 1, 10)
        found = second.caller("k1")
        assert found is not None and found[0].remain_quota == 990  # counters: never kept
        removed = first.token(token.id)
        assert removed is not None
        first.delete_token(removed)
        assert second.caller("k1") is None
    finally:
        one.close()
        two.close()


def test_a_stale_copy_never_exhausts_a_token_another_worker_refilled(tmp_path: Path) -> None:
    """Between another worker's write and its notice, a key check sees its own copy of the
    record beside the live counters: a balance that looks used up there is read again before
    the token is marked exhausted for good."""
    path = tmp_path / "shared.db"
    one, two = SqliteStore(path), SqliteStore(path)
    try:
        first, second = Accounts(one), Accounts(two)
        token = seed(first, remain=100)
        assert second.caller("k1") is not None  # the second worker's copy: 100 left
        stored = first.tokens.get(str(token.id), TokenRecord)
        assert stored is not None
        # A refill written by the first worker, its notice not yet out; then spending.
        first.tokens.set(str(token.id), replace(stored, remain_quota=400))
        first.adjust(token.id, 1, 150)
        found = second.caller("k1")
        assert found is not None and found[0].remain_quota == -50  # the stale copy's view
        assert second.mark_exhausted(token.id) is False
        fresh = first.token(token.id)
        assert fresh is not None and (fresh.status, fresh.remain_quota) == (ENABLED, 250)
        first.adjust(token.id, 1, 300)  # now really used up
        assert second.mark_exhausted(token.id) is True
        spent = first.token(token.id)
        assert spent is not None and spent.status == EXHAUSTED
    finally:
        one.close()
        two.close()


def _spend(path: str, times: int, cost: int, results: multiprocessing.Queue[int]) -> None:
    store = SqliteStore(path)
    accounts = Accounts(store)
    ok = 0
    for _ in range(times):
        if accounts.pre_consume(1, 1, cost) == "ok":
            accounts.adjust(1, 1, 0, request=True)  # settled at the pre-charge
            ok += 1
    store.close()
    results.put(ok)


def test_two_processes_spending_one_quota_never_both_take_it(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    store = SqliteStore(path)
    accounts = Accounts(store)
    seed(accounts, remain=1000, quota=100_000)
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_spend, args=(path, 40, 30, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    served = results.get(timeout=5) + results.get(timeout=5)
    assert served == 1000 // 30  # 33: as many as the quota pays for, no more, no fewer
    token, user = accounts.token(1), accounts.user(1)
    assert token is not None and user is not None
    assert (token.remain_quota, token.used_quota) == (1000 - 33 * 30, 33 * 30)
    assert (user.used_quota, user.request_count) == (33 * 30, 33)
    store.close()


def test_a_state_file_keeps_balances_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SqliteStore(path)
    accounts = Accounts(store)
    token = seed(accounts)
    accounts.adjust(token.id, 1, 250, request=True)
    read = accounts.token(token.id)
    assert read is not None
    accounts.put_token(replace(read, remain_quota=600))
    accounts.adjust(token.id, 1, 100, request=True)
    store.close()
    again = SqliteStore(path)
    try:
        restarted = Accounts(again)
        found = restarted.caller("k1")
        assert found is not None
        token_now, user_now = found
        assert (token_now.remain_quota, token_now.used_quota) == (500, 350)
        assert user_now is not None
        assert (user_now.quota, user_now.used_quota, user_now.request_count) == (4650, 350, 2)
    finally:
        again.close()


def test_clear_forgets_the_counters_with_the_records(store: Store) -> None:
    accounts = Accounts(store)
    token = seed(accounts)
    accounts.adjust(token.id, 1, 70, request=True)
    accounts.clear()
    assert accounts.caller("k1") is None
    seed(accounts)  # the same ids again: balances start afresh
    now, user = accounts.token(1), accounts.user(1)
    assert now is not None and user is not None
    assert (now.remain_quota, now.used_quota, user.used_quota, user.request_count) == (
        1000,
        0,
        0,
        0,
    )
