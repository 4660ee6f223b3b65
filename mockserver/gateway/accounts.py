"""The gateway's state — users, tokens (keys), the request counter and the usage log — behind
one small interface, so that every worker can share it once the shared store lands
(`mockserver/store/`: `table.get/set/delete/incr/update`). Until then `MemoryTable` offers the
same methods over a dict and a lock.

Keys are stored without `sk-` (as new-api stores them); the full key never leaves this module
except through `Accounts.full_key` (the System API's `POST /api/token/:id/key`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from msgspec import Struct, field

from mockserver.core import ids

T = TypeVar("T")

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


class MemoryTable:
    """The shared store's table interface over a dict and a lock (a stand-in until
    `mockserver/store/` lands)."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._lock = threading.RLock()

    def get(self, key: str, type_: type[T] | None = None) -> Any:
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, by: int = 1) -> int:
        with self._lock:
            value = int(self._data.get(key, 0)) + by
            self._data[key] = value
            return value

    def update(self, key: str, type_: type[T], fn: Callable[[T | None], T | None]) -> T | None:
        with self._lock:
            value = fn(self._data.get(key))
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = value
            return value

    def transaction(self) -> threading.RLock:
        """Several operations as one (the store's `with store.transaction():`)."""
        return self._lock

    def values(self, prefix: str) -> list[Any]:
        with self._lock:
            return [v for k, v in self._data.items() if k.startswith(prefix)]


ChargeResult = Literal["ok", "token_short", "user_short"]


class Accounts:
    """Users, tokens and the usage log of one gateway. Every change is one `update` of one
    record, so two workers never both spend the same quota."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table or MemoryTable()
        self._log_lock = threading.Lock()

    # --- users -----------------------------------------------------------------------------

    def put_user(self, user: UserRecord) -> None:
        self.table.set(f"user:{user.id}", user)
        self.table.set(f"access:{user.access_token}", user.id)

    def user(self, user_id: int) -> UserRecord | None:
        value: UserRecord | None = self.table.get(f"user:{user_id}", UserRecord)
        return value

    def user_by_access_token(self, access_token: str) -> UserRecord | None:
        user_id = self.table.get(f"access:{access_token}", int)
        return None if user_id is None else self.user(user_id)

    # --- tokens ----------------------------------------------------------------------------

    def next_token_id(self) -> int:
        return self.table.incr("seq:token")

    def put_token(self, token: TokenRecord) -> None:
        self.table.set(f"token:{token.id}", token)
        self.table.set(f"key:{token.key}", token.id)

    def token(self, token_id: int) -> TokenRecord | None:
        value: TokenRecord | None = self.table.get(f"token:{token_id}", TokenRecord)
        return value

    def token_by_key(self, key: str) -> TokenRecord | None:
        token_id = self.table.get(f"key:{key}", int)
        return None if token_id is None else self.token(token_id)

    def tokens_of(self, user_id: int) -> list[TokenRecord]:
        """The user's tokens, newest first (new-api orders by id desc)."""
        tokens = [t for t in self.table.values("token:") if t.user_id == user_id]
        return sorted(tokens, key=lambda t: -t.id)

    def delete_token(self, token: TokenRecord) -> None:
        self.table.delete(f"token:{token.id}")
        self.table.delete(f"key:{token.key}")

    def set_status(self, token_id: int, status: int) -> None:
        def change(token: TokenRecord | None) -> TokenRecord | None:
            if token is not None:
                token.status = status
            return token

        self.table.update(f"token:{token_id}", TokenRecord, change)

    # --- quota -----------------------------------------------------------------------------

    def pre_consume(self, token_id: int, user_id: int, quota: int) -> ChargeResult:
        """Take `quota` from the token (unless unlimited) and the user, both or neither."""
        result: list[ChargeResult] = ["ok"]

        def take_user(user: UserRecord | None) -> UserRecord | None:
            if user is None or user.quota < quota:
                result[0] = "user_short"
                return user
            user.quota -= quota
            user.used_quota += quota
            user.request_count += 1
            return user

        def take_token(token: TokenRecord | None) -> TokenRecord | None:
            if token is None or (not token.unlimited_quota and token.remain_quota < quota):
                result[0] = "token_short"
                return token
            token.remain_quota -= quota
            token.used_quota += quota
            return token

        with self.table.transaction():
            self.table.update(f"token:{token_id}", TokenRecord, take_token)
            if result[0] != "ok":
                return result[0]
            self.table.update(f"user:{user_id}", UserRecord, take_user)
            if result[0] != "ok":
                self.adjust(token_id, None, -quota)
        return result[0]

    def adjust(self, token_id: int, user_id: int | None, delta: int) -> None:
        """Charge `delta` more quota (a refund when negative): settlement after the answer."""

        def on_token(token: TokenRecord | None) -> TokenRecord | None:
            if token is not None:
                token.remain_quota -= delta
                token.used_quota += delta
            return token

        def on_user(user: UserRecord | None) -> UserRecord | None:
            if user is not None:
                user.quota -= delta
                user.used_quota += delta
            return user

        if delta:
            self.table.update(f"token:{token_id}", TokenRecord, on_token)
            if user_id is not None:
                self.table.update(f"user:{user_id}", UserRecord, on_user)

    # --- requests and logs -----------------------------------------------------------------

    def next_request(self) -> int:
        return self.table.incr("seq:request")

    def log(self, entry: UsageLog) -> None:
        self.table.set(f"log:{entry.id:012d}", entry)

    def next_log_id(self) -> int:
        return self.table.incr("seq:log")

    def logs(self, token_name: str | None = None, user_id: int | None = None) -> list[UsageLog]:
        entries: list[UsageLog] = self.table.values("log:")
        entries.sort(key=lambda e: e.id)
        return [
            e
            for e in entries
            if (token_name is None or e.token_name == token_name)
            and (user_id is None or e.user_id == user_id)
        ]


class Seeded(Struct):
    """What `seed_accounts` made: the full keys by token name (for tests and the handle)."""

    keys: dict[str, str] = field(default_factory=dict)
