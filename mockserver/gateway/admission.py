"""Gateway mode: who is calling (key → token → user → group), whether the token may use the
model, what it costs, and the bill — as new-api's `TokenAuth`, `Distribute`,
`ModelPriceHelper` and `BillingSession` do (commit 9f8a4ec).

    caller = gateway.authenticate(scope)                 # 401/403 before the body is read
    charge = gateway.admit(caller, model, prompt, max_tokens, claude=...)  # 403/503, pre-charge
    gateway.settle(charge, usage, entry)                 # after the answer: the real cost
    gateway.refund(charge)                               # the answer failed

"Now", for `expired_time`, is the scenario's `clock`: no wall clock reaches a response.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import orjson
from msgspec import Struct

from mockserver.core import ids
from mockserver.gateway import access, errors, media_pricing, pricing
from mockserver.gateway.accounts import (
    DISABLED,
    ENABLED,
    EXPIRED,
    STATUS_NUMBERS,
    Accounts,
    TokenRecord,
    UsageLog,
    UserRecord,
    derive_access_token,
    derive_key,
)
from mockserver.gateway.errors import GatewayError
from mockserver.scenario.gateway import AUTO_GROUP

if TYPE_CHECKING:
    from starlette.types import Scope

    from mockserver.core.reply import Usage
    from mockserver.journal.journal import Entry
    from mockserver.scenario.gateway import GatewaySpec
    from mockserver.store import Store

TRUST_QUOTA = 10 * pricing.QUOTA_PER_UNIT  # common.GetTrustQuota: no pre-charge above it


class Caller(Struct):
    token: TokenRecord
    user: UserRecord
    group: str
    request_id: str


class Charge(Struct):
    """One admitted request: what was taken before the answer, settled or refunded once."""

    caller: Caller
    model: str
    price: pricing.Price
    pre_consumed: int
    stream: bool = False
    done: bool = False
    group: str = ""  # the group it is billed in: the caller's, or the one `auto` chose


class Gateway:
    """Gateway mode for one scenario set, its state on `store` (shared by every worker)."""

    def __init__(self, spec: GatewaySpec, seed: int, clock: int, store: Store) -> None:
        self.spec = spec
        self.seed = seed
        self.clock = clock
        self.accounts = Accounts(store)
        self._request_ids = errors.RequestIds(clock, seed)
        self._prices: dict[tuple[str, str], pricing.Price | None] = {}
        # Every worker makes its own Gateway; only the first seeds the store (a restart with
        # `--state FILE` finds it seeded and keeps its balances).
        self._fingerprint = ids.digest(spec.model_dump_json(), seed, clock)
        with store.transaction():
            if self.accounts.seeded() != self._fingerprint:
                self._seed_accounts()

    def reset(self) -> None:
        """Back to the scenario's users, tokens and balances (every worker's)."""
        with self.accounts.store.transaction():
            self._seed_accounts()

    @property
    def keys(self) -> dict[str, str]:
        """The full key (`sk-…`) of every token the scenario declares, by name."""
        return {
            token.name: "sk-"
            + (token.key or derive_key(self.seed, token.name, token.user)).removeprefix("sk-")
            for token in self.spec.tokens
        }

    def _seed_accounts(self) -> None:
        self.accounts.clear()
        for user in self.spec.users:
            self.accounts.put_user(
                UserRecord(
                    id=user.id,
                    username=user.username,
                    display_name=user.display_name or user.username,
                    role=user.role,
                    status=ENABLED if user.status == "enabled" else DISABLED,
                    email=user.email,
                    group=user.group,
                    quota=user.quota,
                    access_token=user.access_token or derive_access_token(self.seed, user.id),
                )
            )
        keys = self.keys
        for token in self.spec.tokens:
            record = TokenRecord(
                id=self.accounts.next_token_id(),
                user_id=token.user,
                key=keys[token.name].removeprefix("sk-"),
                name=token.name,
                status=STATUS_NUMBERS[token.status],
                created_time=self.clock,
                accessed_time=self.clock,
                expired_time=token.expired_time,
                remain_quota=token.remain_quota,
                unlimited_quota=token.unlimited_quota,
                model_limits_enabled=token.model_limits is not None,
                model_limits=",".join(token.model_limits or ()),
                allow_ips="\n".join(token.allow_ips),
                group=token.group,
            )
            self.accounts.put_token(record)
        self.accounts.mark_seeded(self._fingerprint)

    def create_token(
        self,
        name: str,
        *,
        user_id: int = 1,
        remain_quota: int = 0,
        unlimited_quota: bool = False,
        model_limits: list[str] | None = None,
        expired_time: int = -1,
        allow_ips: str = "",
        group: str = "",
    ) -> TokenRecord:
        """A new token (the System API's `POST /api/token/`, the admin API, the test handle);
        its key is derived from the seed, the name and the token's id."""
        token_id = self.accounts.next_token_id()
        record = TokenRecord(
            id=token_id,
            user_id=user_id,
            key=derive_key(self.seed, f"{name}#{token_id}", user_id),
            name=name,
            created_time=self.clock,
            accessed_time=self.clock,
            expired_time=expired_time,
            remain_quota=remain_quota,
            unlimited_quota=unlimited_quota,
            model_limits_enabled=model_limits is not None,
            model_limits=",".join(model_limits or ()),
            allow_ips=allow_ips,
            group=group,
        )
        self.accounts.put_token(record)
        return record

    def token_named(self, name: str, user_id: int | None = None) -> TokenRecord | None:
        """The newest token of that name (of that user, when given)."""
        users = [user_id] if user_id is not None else [u.id for u in self.spec.users]
        found = [t for u in users for t in self.accounts.tokens_of(u) if t.name == name]
        return max(found, key=lambda t: t.id) if found else None

    def new_request_id(self) -> str:
        return self._request_ids.make(self.accounts.next_request())

    # --- TokenAuth ---------------------------------------------------------------------------

    def authenticate(self, scope: Scope) -> Caller:
        """The token and user behind a request's key; the gateway's 401/403 otherwise."""
        request_id = self.new_request_id()
        key = key_of(scope)
        found = self.accounts.caller(key) if key else None
        if found is None or not self._usable(found[0]):
            raise errors.middleware_error(401, errors.INVALID_TOKEN, request_id)
        token, user = found
        allowed = [ip for ip in token.allow_ips.replace(" ", "").split("\n") if ip]
        if allowed:
            client = scope.get("client")
            try:
                address = ipaddress.ip_address(client[0] if client else "")
            except ValueError:
                raise errors.middleware_error(403, errors.IP_UNPARSABLE, request_id) from None
            if not in_networks(address, allowed):
                raise errors.middleware_error(
                    403, errors.IP_NOT_ALLOWED, request_id, "access_denied"
                )
        if user is None or user.status != ENABLED:
            raise errors.middleware_error(403, errors.USER_BANNED, request_id)
        access.check_group(self.spec, token.group, user.group, request_id)
        return Caller(token, user, token.group or user.group, request_id)

    def _usable(self, token: TokenRecord) -> bool:
        """`ValidateUserToken`: enabled, not expired, not exhausted; a token found expired or
        exhausted is marked so."""
        if token.status != ENABLED:
            return False
        if token.expired_time != -1 and token.expired_time < self.clock:
            self.accounts.set_status(token.id, EXPIRED)
            return False
        if not token.unlimited_quota and token.remain_quota <= 0:
            return not self.accounts.mark_exhausted(token.id)
        return True

    def body_too_large(self, caller: Caller, path: str, limit: int) -> GatewayError:
        """A body past the size limit: the distributor reads the model from JSON bodies and
        answers 400; Gemini's routes (model in the path) reach the relay's 413."""
        reason = f"request body exceeds {limit >> 20} MB: request body too large"
        if path.startswith(("/v1beta/models/", "/v1/models/")):
            return errors.relay_error(
                413, reason, "read_request_body_failed", caller.request_id, claude=False
            )
        # Worded twice: by `getModelFromRequest`, then by `Distribute`.
        message = f"Invalid request: Invalid request: {reason}"
        return errors.middleware_error(400, message, caller.request_id)

    # --- Distribute, ModelPriceHelper, PreConsumeBilling -----------------------------------

    def admit(
        self,
        caller: Caller,
        model: str,
        prompt_tokens: int,
        max_tokens: int | None,
        *,
        claude: bool = False,
        stream: bool = False,
        quota: int | Callable[[pricing.Price], int] | None = None,
    ) -> Charge:
        """The token may use `model`, a channel serves it to the caller's group, and the
        pre-charge is taken; the gateway's 403/503 otherwise. `quota`: the pre-charge when
        the caller prices the request itself (a task's with its other ratios, a picture's
        with its size), or how it prices it from the group's price."""
        token, request_id = caller.token, caller.request_id
        if token.model_limits_enabled and model not in token.model_limits.split(","):
            raise errors.middleware_error(
                403, f"This token has no access to model {model}", request_id
            )
        group, price = self.route(model, caller)
        if quota is None:
            quota = pricing.pre_consume(price, prompt_tokens, max_tokens)
        elif callable(quota):  # priced by the caller, once the group's price is known
            quota = quota(price)
        charge = Charge(caller, model, price, 0, stream, group=group)
        if price.free:
            return charge
        user, current = caller.user, token  # as read by `authenticate`, a moment ago
        if user.quota <= 0:
            message = f"用户额度不足, 剩余额度: {pricing.format_quota(user.quota)}"
            raise errors.relay_error(403, message, "insufficient_user_quota", request_id, claude)
        if user.quota < quota:
            message = (
                f"预扣费额度失败, 用户剩余额度: {pricing.format_quota(user.quota)}, "
                f"需要预扣费额度: {pricing.format_quota(quota)}"
            )
            raise errors.relay_error(403, message, "insufficient_user_quota", request_id, claude)
        trusted = (current.unlimited_quota or current.remain_quota > TRUST_QUOTA) and (
            user.quota > TRUST_QUOTA
        )
        if trusted:
            quota = 0
        result = self.accounts.pre_consume(token.id, user.id, quota)
        if result == "token_short":
            message = (
                "token quota is not enough, token remain quota: "
                f"{pricing.format_quota(current.remain_quota)}, need quota: "
                f"{pricing.format_quota(quota)}"
            )
            raise errors.relay_error(
                403, message, "pre_consume_token_quota_failed", request_id, claude
            )
        if result == "user_short":
            message = f"用户额度不足, 剩余额度: {pricing.format_quota(user.quota)}"
            raise errors.relay_error(403, message, "insufficient_user_quota", request_id, claude)
        charge.pre_consumed = quota
        return charge

    def price_of(self, model: str, group: str, user_group: str = "") -> pricing.Price | None:
        """The model's price in the group (for `auto`, in the first of the auto groups that
        serves it); None when no channel serves it there."""
        found = self._served(model, group, user_group)
        return found[1] if found is not None else None

    def _served(
        self, model: str, group: str, user_group: str = ""
    ) -> tuple[str, pricing.Price] | None:
        """The group a request is served and billed in, and the model's price there: `group`,
        or for `auto` the first of `auto_groups` the user may use with a channel for the model
        (`CacheGetRandomSatisfiedChannel`, `GetUserAutoGroup`)."""
        auto = group == AUTO_GROUP
        for listed in access.auto_groups(self.spec, user_group) if auto else (group,):
            price = self._price(model, listed)
            if price is not None:
                return listed, price
        return None

    def route(self, model: str, caller: Caller) -> tuple[str, pricing.Price]:
        """`_served` for the caller's group; the distributor's 503 when no group serves it."""
        found = self._served(model, caller.group, caller.user.group)
        if found is not None:
            return found
        message = f"No available channel for model {model} under group {caller.group}"
        if caller.group == AUTO_GROUP and not self.spec.auto_groups:
            message = (
                f"Failed to get available channel for model {model} under group auto(auto) "
                "(distributor): auto groups is not enabled"
            )
        else:
            message += " (distributor)"
        raise errors.middleware_error(503, message, caller.request_id, "model_not_found")

    def _price(self, model: str, group: str) -> pricing.Price | None:
        """The model's price in the group; None when no channel serves it there."""
        found = self._prices.get((model, group), False)
        if found is not False:
            return found  # type: ignore[return-value]
        entry = self.spec.models.get(model)
        price = None
        if entry is not None and (entry.groups is None or group in entry.groups):
            audio_ratio = entry.audio_ratio
            if audio_ratio is None:
                audio_ratio = media_pricing.DEFAULT_AUDIO_RATIO.get(model, 1.0)
            audio_completion_ratio = entry.audio_completion_ratio
            if audio_completion_ratio is None:
                defaults = media_pricing.DEFAULT_AUDIO_COMPLETION_RATIO
                audio_completion_ratio = defaults.get(model, 1.0)
            price = pricing.Price(
                group_ratio=self.spec.groups.get(group, 1.0),
                model_ratio=entry.model_ratio or 0.0,
                completion_ratio=entry.completion_ratio,
                cache_ratio=entry.cache_ratio,
                image_ratio=entry.image_ratio,
                audio_ratio=audio_ratio,
                audio_completion_ratio=audio_completion_ratio,
                model_price=entry.model_price,
            )
        if len(self._prices) < 4096:  # models × groups: bounded by the scenario
            self._prices[(model, group)] = price
        return price

    # --- settlement --------------------------------------------------------------------------

    def settle(
        self, charge: Charge, usage: Usage, entry: Entry | None = None, quota: int | None = None
    ) -> int:
        """Charge what the answer cost (the pre-charge adjusted), log it, journal it.
        `quota`: the cost when the route priced the answer itself (pictures, speech)."""
        if charge.done:
            return 0
        charge.done = True
        caller = charge.caller
        if quota is None:
            quota = pricing.quota(
                charge.price, usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens
            )
        delta = quota - charge.pre_consumed
        record = UsageLog(
            id=0,  # numbered by the log
            user_id=caller.user.id,
            token_id=caller.token.id,
            token_name=caller.token.name,
            model_name=charge.model,
            quota=quota,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            created_at=self.clock,
            request_id=caller.request_id,
            is_stream=charge.stream,
            username=caller.user.username,
            group=charge.group or caller.group,
            other=other_info(charge.price, usage.cached_tokens),
        )
        with self.accounts.store.transaction():  # the bill and its log: one write
            self.accounts.adjust(caller.token.id, caller.user.id, delta, request=True)
            self.accounts.log(record)
        if entry is not None:
            entry.key_name = caller.token.name
            entry.quota = quota
            entry.cost = pricing.dollars(quota)
        return quota

    def refund(self, charge: Charge | None, entry: Entry | None = None) -> None:
        """Give back the pre-charge of a request that failed (nothing is billed)."""
        if charge is None or charge.done:
            return
        charge.done = True
        self.accounts.adjust(charge.caller.token.id, charge.caller.user.id, -charge.pre_consumed)
        if entry is not None:
            entry.key_name = charge.caller.token.name
            entry.quota = 0
            entry.cost = 0.0


@functools.lru_cache(maxsize=1024)  # a scenario's few prices: the same text every request
def other_info(price: pricing.Price, cached_tokens: int) -> str:
    """The log's `other` (`GenerateTextOtherInfo`, user-visible part): what it was billed at."""
    other = {
        "model_ratio": price.model_ratio,
        "group_ratio": price.group_ratio,
        "completion_ratio": price.completion_ratio,
        "cache_tokens": cached_tokens,
        "cache_ratio": price.cache_ratio,
        "model_price": price.model_price if price.model_price is not None else -1,
        "user_group_ratio": -1,
        "frt": 0,
    }
    return orjson.dumps(other).decode()


KEY_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-goog-api-key", b"mj-api-secret"})


def key_of(scope: Scope) -> str:
    """The key as `TokenAuth` reads it: `x-api-key` on Claude paths, `?key=` then
    `x-goog-api-key` on Gemini paths, else `Authorization: Bearer`, else `mj-api-secret`;
    without `sk-` and anything after a `-` (a channel pin)."""
    path: str = scope["path"]
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:  # only the few key headers are decoded
        if name in KEY_HEADERS:
            headers[name.decode("latin-1")] = value.decode("latin-1")
    authorization = headers.get("authorization", "")
    if "/v1/messages" in path or "/v1/models" in path:
        authorization = _bearer(headers.get("x-api-key")) or authorization
    if path.startswith(("/v1beta/models", "/v1beta/openai/models", "/v1/models/")):
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        authorization = _bearer(query.get("key", [""])[0]) or authorization
        authorization = _bearer(headers.get("x-goog-api-key")) or authorization
    key = _strip_bearer(authorization)
    if key in ("", "midjourney-proxy"):
        key = _strip_bearer(headers.get("mj-api-secret", ""))
    return key.removeprefix("sk-").split("-")[0]


def _bearer(value: str | None) -> str:
    return f"Bearer {value}" if value else ""


def _strip_bearer(value: str) -> str:
    return value[7:].strip() if value[:7] in ("Bearer ", "bearer ") else value


def in_networks(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed: Iterable[str]
) -> bool:
    """`common.IsIpInCIDRList`: plain addresses and CIDR ranges."""
    for item in allowed:
        try:
            if address in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False
