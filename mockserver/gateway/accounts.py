"""The gateway's state — users, tokens (keys), counters and the usage log — behind one small
interface over the shared store (`mockserver.store`), so that every worker agrees on every
balance and, with `--state FILE`, balances survive a restart.

Keys are stored without `sk-` (as new-api stores them); the full key never leaves this module
except through `Accounts.full_key` (the System API's `POST /api/token/:id/key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct
from msgspec.structs import replace

from mockserver.core import ids

if TYPE_CHECKING:
    from mockserver.store import Store

# new-api's token status numbers (common/constants.go)
ENABLED, DISABLED, EXPIRED, EXHAUSTED = 1, 2, 3, 4
STATUS_NUMBERS = {"enabled": ENABLED, "disabled": DISABLED, "expired": EXPIRED, "exhausted": 4}


class TokenRecord(Struct):
    id: int
    user_id: int
    key: str  # without "sk-"
    name: str
    status: int = ENABLED
    created_time: int = 0
    accessed_time: int = 0
    expired_time: int = -1
    remain_quota: int = 0
    unlimited_quota: bool = False
    model_limits_enabled: bool = False
    model_limits: str = ""  # comma-separated, as new-api keeps it
    allow_ips: str = ""  # newline-separated
    used_quota: int = 0
    group: str = ""

    def to_api(self, masked: bool = True) -> dict[str, Any]:
        """The token as new-api's JSON shows it (`model/token.go`)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "key": mask_key(self.key) if masked else self.key,
            "status": self.status,
            "name": self.name,
            "created_time": self.created_time,
            "accessed_time": self.accessed_time,
            "expired_time": self.expired_time,
            "remain_quota": self.remain_quota,
            "unlimited_quota": self.unlimited_quota,
            "model_limits_enabled": self.model_limits_enabled,
            "model_limits": self.model_limits,
            "allow_ips": self.allow_ips,
            "used_quota": self.used_quota,
            "group": self.group,
            "cross_group_retry": False,
        }


class UserRecord(Struct):
    id: int
    username: str
    display_name: str
    role: int
    status: int  # 1 enabled, 2 disabled
    email: str
    group: str
    quota: int
    access_token: str
    used_quota: int = 0
    request_count: int = 0


class UsageLog(Struct, frozen=True):
    """One billed request (new-api's consume log, trimmed): never the key, only its name."""

    id: int
    user_id: int
    token_id: int
    token_name: str
    model_name: str
    quota: int
    prompt_tokens: int
    completion_tokens: int
    created_at: int
    request_id: str
    is_stream: bool = False
    type: int = 2  # new-api's LogTypeConsume
    username: str = ""
    group: str = ""
    other: str = "{}"  # JSON: the ratios it was billed at (`GenerateTextOtherInfo`)
    content: str = ""  # a system log's words (a failed task's refund)

    def to_api(self, number: int) -> dict[str, Any]:
        """As new-api lists a log to its user (`formatUserLogs`: numbered anew from 1 in the
        order listed, no channel name)."""
        return {
            "id": number,
            "user_id": self.user_id,
            "created_at": self.created_at,
            "type": self.type,
            "content": self.content,
            "username": self.username,
            "token_name": self.token_name,
            "model_name": self.model_name,
            "quota": self.quota,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "use_time": 0,
            "is_stream": self.is_stream,
            "channel": 1,
            "channel_name": "",
            "token_id": self.token_id,
            "group": self.group,
            "ip": "",
            "request_id": self.request_id,
            "other": self.other,
        }


def mask_key(key: str) -> str:
    """new-api's `MaskTokenKey`."""
    if not key:
        return ""
    if len(key) <= 4:
        return "*" * len(key)
    if len(key) <= 8:
        return key[:2] + "****" + key[-2:]
    return key[:4] + "**********" + key[-4:]


def derive_key(seed: int, name: str, user_id: int) -> str:
    """A 48-character key (new-api's length) for a token the scenario gives no key."""
    return ids.base62(ids.digest(seed, "gateway-key", user_id, name), "token", 48)


def derive_access_token(seed: int, user_id: int) -> str:
    """A System API access token for a user the scenario gives none (32 characters)."""
    return ids.base62(ids.digest(seed, "gateway-access-token", user_id), "access", 32)


CAPACITY = 10_000  # tokens, users and key index entries kept per table
LOG_CAPACITY = 10_000  # billed requests kept
RECORDS = "gateway_records"  # the store's notice: a token or user record was written

ChargeResult = Literal["ok", "token_short", "user_short"]


class Accounts:
    """Users, tokens and the usage log of one gateway, on the shared store: every worker sees
    the same balances.

    What requests spend is kept apart from the records, as store counters (`incr`: atomic
    across workers, one small write a bill instead of two records rewritten): per token
    `t<id>` (quota spent), per user `u<id>` (quota spent) and `r<id>` (requests). A record
    keeps the balance it had when it was written, plus what was spent since then:
    `remain_quota` (stored) − spent is what the key has left, `used_quota` (stored) + spent
    what it used; a user's `quota`, `used_quota` and `request_count` the same. Every read
    (`token`, `user`, ...) answers the numbers as they are now; writing a record
    (`put_token`: `PUT /api/token/`, the admin API) sets the balance the caller gives, in one
    transaction with the counter it is measured against, so a spend running meanwhile is
    neither lost nor counted twice. Records change rarely, so each process keeps the ones the
    key check reads and reads them again once another write is noticed (`RECORDS`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = store.table("gateway_users", CAPACITY)
        self.tokens = store.table("gateway_tokens", CAPACITY)
        self.keys = store.table("gateway_keys", CAPACITY)  # key (without sk-) → token id
        self.meta = store.table("gateway_meta", 16)  # counters and what was seeded
        # Three counters a user, one a token: never forgotten before their records.
        self.spent = store.table("gateway_spent", 4 * CAPACITY)
        self.usage = store.log("gateway_usage", LOG_CAPACITY)
        # By key: the records as stored, and the names of their counters.
        self._callers: dict[str, tuple[TokenRecord, UserRecord | None, tuple[str, ...]]] = {}
        self._seen = -1  # the `RECORDS` notices `_callers` was read at
        self._names: dict[tuple[int, int | None], tuple[str, ...]] = {}

    def clear(self) -> None:
        with self.store.transaction():
            for table in (self.users, self.tokens, self.keys, self.meta, self.spent):
                table.clear()
            self.usage.reset()
            self.store.notify(RECORDS)

    # --- users -----------------------------------------------------------------------------

    def put_user(self, user: UserRecord) -> None:
        """Write the user with the balances given (`quota`; `used_quota` and `request_count`
        when new, else they keep counting)."""
        key = str(user.id)
        with self.store.transaction():
            spent, requests = self.spent.count(f"u{key}"), self.spent.count(f"r{key}")
            stored = self.users.get(key, UserRecord)
            base = user if stored is None else stored
            self.users.set(
                key,
                replace(
                    user,
                    quota=user.quota + spent,
                    used_quota=base.used_quota - (spent if stored is None else 0),
                    request_count=base.request_count - (requests if stored is None else 0),
                ),
            )
            self.store.notify(RECORDS)

    def user(self, user_id: int) -> UserRecord | None:
        user = self.users.get(str(user_id), UserRecord)
        return None if user is None else self._user_now(user)

    def _user_now(self, user: UserRecord, counted: Sequence[int] | None = None) -> UserRecord:
        """The stored user with what was spent since it was written (`counted`: its
        counters, `_user_counters`, when already read)."""
        spent, requests = counted or self.spent.counts(_user_counters(user.id))
        if not spent and not requests:
            return user
        return replace(
            user,
            quota=user.quota - spent,
            used_quota=user.used_quota + spent,
            request_count=user.request_count + requests,
        )

    def user_by_access_token(self, access_token: str) -> UserRecord | None:
        names = self.users.keys()  # a store table: no `in` over it
        for name in names:
            user = self.users.get(name, UserRecord)
            if user is not None and user.access_token == access_token:
                return self._user_now(user)
        return None

    # --- tokens ----------------------------------------------------------------------------

    def next_token_id(self) -> int:
        return self.meta.incr("token_id")

    def put_token(self, token: TokenRecord) -> None:
        """Write the token with the `remain_quota` given (`used_quota` only when it is new:
        it counts what was spent, whoever writes the token)."""
        key = str(token.id)
        with self.store.transaction():
            spent = self.spent.count(f"t{key}")
            stored = self.tokens.get(key, TokenRecord)
            used = token.used_quota - spent if stored is None else stored.used_quota
            self.tokens.set(
                key, replace(token, remain_quota=token.remain_quota + spent, used_quota=used)
            )
            self.keys.set(token.key, token.id)
            self.store.notify(RECORDS)

    def token(self, token_id: int) -> TokenRecord | None:
        token = self.tokens.get(str(token_id), TokenRecord)
        return None if token is None else self._token_now(token)

    def _token_now(self, token: TokenRecord, spent: int | None = None) -> TokenRecord:
        """The stored token with what was spent since it was written (`spent`: its counter,
        when already read)."""
        if spent is None:
            spent = self.spent.count(f"t{token.id}")
        if not spent:
            return token
        return replace(
            token, remain_quota=token.remain_quota - spent, used_quota=token.used_quota + spent
        )

    def token_by_key(self, key: str) -> TokenRecord | None:
        token_id = self.keys.get(key, int)
        return None if token_id is None else self.token(token_id)

    def caller(self, key: str) -> tuple[TokenRecord, UserRecord | None] | None:
        """The token of `key` and its user, balances as they are now (the key check of every
        relay request: the records from this process's copy, the counters from the store)."""
        notices = self.store.notices(RECORDS)  # before the records: a write after it is seen
        if notices != self._seen:
            self._callers.clear()
            self._seen = notices
        found = self._callers.get(key)
        if found is None:
            token_id = self.keys.get(key, int)
            token = None if token_id is None else self.tokens.get(str(token_id), TokenRecord)
            if token is None:
                return None  # not kept: unknown keys are for anyone to make up
            user = self.users.get(str(token.user_id), UserRecord)
            counters = (f"t{token.id}", *(_user_counters(user.id) if user else ()))
            found = (token, user, counters)
            if len(self._callers) < CAPACITY:
                self._callers[key] = found
        token, user, counters = found
        counted = self.spent.counts(counters)  # one read: token and user at one moment
        token = self._token_now(token, counted[0])
        return token, None if user is None else self._user_now(user, counted[1:])

    def tokens_of(self, user_id: int) -> list[TokenRecord]:
        """The user's tokens, newest first (new-api orders by id desc)."""
        found = [t for t in self.all_tokens() if t.user_id == user_id]
        return sorted(found, key=_newest)

    def all_tokens(self) -> list[TokenRecord]:
        """Every token, least recently written first."""
        names = self.tokens.keys()  # a store table: no `in` over it
        found = [self.tokens.get(name, TokenRecord) for name in names]
        return [self._token_now(token) for token in found if token is not None]

    def delete_token(self, token: TokenRecord) -> None:
        with self.store.transaction():
            self.tokens.delete(str(token.id))
            self.keys.delete(token.key)
            self.spent.delete(f"t{token.id}")
            self.store.notify(RECORDS)

    def set_status(self, token_id: int, status: int) -> None:
        def change(token: TokenRecord | None) -> TokenRecord | None:
            return None if token is None else replace(token, status=status)

        with self.store.transaction():
            self.tokens.update(str(token_id), TokenRecord, change)
            self.store.notify(RECORDS)

    def mark_exhausted(self, token_id: int) -> bool:
        """Whether the token is used up, read afresh in one transaction (and if so, marked
        exhausted). A key check sees this process's copy of the record beside the shared
        counters: a copy another worker has just rewritten (a `PUT` raising the balance) must
        not exhaust the token for good."""
        with self.store.transaction():
            token = self.token(token_id)
            if token is None or token.status != ENABLED:
                return True
            if token.unlimited_quota or token.remain_quota > 0:
                return False
            self.set_status(token_id, EXHAUSTED)
        return True

    # --- quota -----------------------------------------------------------------------------

    def pre_consume(self, token_id: int, user_id: int, quota: int) -> ChargeResult:
        """Take `quota` from the token (unless unlimited) and the user, both or neither."""
        if quota == 0:  # trusted, or free: nothing to take
            return "ok"
        with self.store.transaction():
            token = self.token(token_id)
            user = self.user(user_id)
            if token is None or (not token.unlimited_quota and token.remain_quota < quota):
                return "token_short"
            if user is None or user.quota < quota:
                return "user_short"
            self.adjust(token_id, user_id, quota)
        return "ok"

    def adjust(self, token_id: int, user_id: int | None, delta: int, request: bool = False) -> None:
        """Charge `delta` more quota (a refund when negative); `request` counts one request
        on the user (new-api counts it with the bill)."""
        names = self._names.get((token_id, user_id))
        if names is None:
            names = (f"t{token_id}", *_user_counters(user_id if user_id is not None else 0))
            if len(self._names) < CAPACITY:  # the names of a bill's counters, made once
                self._names[(token_id, user_id)] = names
        changes: dict[str, int] = {}
        if delta:
            changes[names[0]] = delta
            if user_id is not None:
                changes[names[1]] = delta
        if request and user_id is not None:
            changes[names[2]] = 1
        if changes:
            self.spent.incr_many(changes)

    # --- requests and logs -----------------------------------------------------------------

    def next_request(self) -> int:
        return self.meta.incr("request")

    def seeded(self) -> str | None:
        return self.meta.get("seeded", str)

    def mark_seeded(self, fingerprint: str) -> None:
        self.meta.set("seeded", fingerprint)

    def log(self, entry: UsageLog) -> None:
        seq, _ = self.usage.open()
        self.usage.append(seq, replace(entry, id=seq))

    def logs(self, token_name: str | None = None, user_id: int | None = None) -> list[UsageLog]:
        return [
            e
            for e in self.usage.records(UsageLog)
            if (token_name is None or e.token_name == token_name)
            and (user_id is None or e.user_id == user_id)
        ]


def _user_counters(user_id: int) -> tuple[str, str]:
    """The names of a user's counters: quota spent, requests."""
    return f"u{user_id}", f"r{user_id}"


def _newest(token: TokenRecord) -> int:
    return -token.id
