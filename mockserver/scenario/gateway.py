"""The `gateway:` section of a scenario: the relay's users, keys, groups and prices.

    gateway:
      groups: {default: 1, vip: 0.5}            # group ratios
      users:
        - {id: 1, username: alice, group: default, quota: 5000000}
      models:                                   # the priced models a channel serves
        gpt-4o-mini: {model_ratio: 0.075, completion_ratio: 4, cache_ratio: 0.5}
        dall-e-3: {model_price: 0.04}            # dollars per call
      tokens:
        - {name: ci, user: 1, remain_quota: 200000, model_limits: [gpt-4o-mini]}
        - {name: any, user: 1, unlimited_quota: true, group: auto}  # routed by auto_groups
      auto_groups: [default, vip]               # new-api's AutoGroups, in order
      user_usable_groups: {default: 默认分组, vip: vip分组, auto: 自动}  # new-api's

With the section present, every relay route asks for a key of `tokens` and bills it as
new-api does (`mockserver.gateway`); without it, any key is accepted and nothing is counted.
Keys not written out are derived from the seed and the token's name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, model_validator

from mockserver.scenario.spec import Spec

TokenStatus = Literal["enabled", "disabled", "expired", "exhausted"]
UserStatus = Literal["enabled", "disabled"]

DEFAULT_GROUP = "default"
AUTO_GROUP = "auto"  # a token's group that picks one of `auto_groups` per request
DEFAULT_USER_QUOTA = 100_000_000  # $200
# new-api's `UserUsableGroups` setting out of the box (`setting/user_usable_group.go`):
# `auto` is not in it, so an `auto` token is refused until the setting lists it.
DEFAULT_USABLE_GROUPS = {"default": "默认分组", "vip": "vip分组"}


class GatewayUser(Spec):
    id: Annotated[int, Field(ge=1)]
    username: Annotated[str, Field(min_length=1)] = "mockuser"
    display_name: str = ""
    group: str = DEFAULT_GROUP
    quota: NonNegativeInt = DEFAULT_USER_QUOTA
    role: Literal[1, 10, 100] = 1  # common user, admin, root
    status: UserStatus = "enabled"
    email: str = ""
    access_token: Annotated[str, Field(min_length=1)] | None = None  # System API; derived


class ModelPricing(Spec):
    """Per-token ratios (quota per token = model_ratio × group ratio), or a fixed price in
    dollars per call (`model_price`). `groups`: the groups a channel serves it to (all by
    default)."""

    model_ratio: NonNegativeFloat | None = None
    completion_ratio: NonNegativeFloat = 1.0
    cache_ratio: NonNegativeFloat = 1.0
    cache_creation_ratio: NonNegativeFloat = 1.0
    image_ratio: NonNegativeFloat = 1.0
    # Text-to-speech's audio tokens; absent: new-api's defaults for the model's name, else 1.
    audio_ratio: NonNegativeFloat | None = None
    audio_completion_ratio: NonNegativeFloat | None = None
    model_price: NonNegativeFloat | None = None
    groups: list[str] | None = None

    @model_validator(mode="after")
    def _ratio_or_price(self) -> ModelPricing:
        if (self.model_ratio is None) == (self.model_price is None):
            raise ValueError(
                "a priced model needs exactly one of model_ratio (per token) or model_price "
                "(dollars per call)"
            )
        return self


class GatewayToken(Spec):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    user: Annotated[int, Field(ge=1)] = 1
    key: Annotated[str, Field(pattern=r"^(sk-)?[A-Za-z0-9]{8,}$")] | None = None
    status: TokenStatus = "enabled"
    expired_time: Annotated[int, Field(ge=-1)] = -1  # unix seconds; -1 never
    remain_quota: NonNegativeInt = 0
    unlimited_quota: bool = False
    model_limits: list[str] | None = None  # absent: every model
    allow_ips: list[str] = Field(default_factory=list)
    group: str = ""  # empty: the user's; `auto`: the first of `auto_groups` serving the model

    @model_validator(mode="after")
    def _some_quota(self) -> GatewayToken:
        given = self.model_fields_set
        if self.status == "enabled" and not ({"remain_quota", "unlimited_quota"} & given):
            raise ValueError(
                f"token {self.name!r} says nothing of its quota: set remain_quota "
                "(500000 = $1; 0 for a key that is already spent) or unlimited_quota: true"
            )
        return self


class GatewaySpec(Spec):
    groups: dict[str, NonNegativeFloat] = Field(default_factory=lambda: {DEFAULT_GROUP: 1.0})
    users: list[GatewayUser] = Field(default_factory=lambda: [GatewayUser(id=1)])
    models: dict[str, ModelPricing] = Field(default_factory=dict)
    tokens: list[GatewayToken] = Field(default_factory=list)
    # new-api's `AutoGroups` setting: the groups an `auto` token tries, in order (its default).
    auto_groups: list[str] = Field(default_factory=lambda: [DEFAULT_GROUP])
    # new-api's `UserUsableGroups`: the groups (name → description) a token may name, besides
    # its user's own; `auto` only when listed.
    user_usable_groups: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_USABLE_GROUPS))
    cors: bool = True  # new-api answers preflights and allows every origin

    def reference_issues(self) -> list[tuple[tuple[str | int, ...], str]]:
        """What refers to something the section doesn't declare, each with its key path
        (checked when scenarios are combined, so each issue names its own line)."""
        groups = sorted(self.groups)
        users = sorted(user.id for user in self.users)
        issues: list[tuple[tuple[str | int, ...], str]] = []

        def group(path: tuple[str | int, ...], name: str, owner: str) -> None:
            if name not in self.groups:
                message = (
                    f"{owner} is in group {name!r}, which gateway.groups does not list "
                    f"(groups: {', '.join(groups)})"
                )
                issues.append((("gateway", *path), message))

        if len(set(users)) != len(users):
            issues.append((("gateway", "users"), "two gateway users share an id"))
        for index, user in enumerate(self.users):
            group(("users", index, "group"), user.group, f"user {user.id}")
        if "auto_groups" in self.model_fields_set:  # the default names a group few declare
            for number, listed in enumerate(self.auto_groups):
                if listed not in self.groups:
                    message = (
                        f"auto_groups names group {listed!r}, which gateway.groups does not "
                        f"list (groups: {', '.join(groups)})"
                    )
                    issues.append((("gateway", "auto_groups", number), message))
        if "user_usable_groups" in self.model_fields_set:  # the default names `vip`
            for listed in self.user_usable_groups:
                if listed not in self.groups and listed != AUTO_GROUP:
                    message = (
                        f"user_usable_groups names group {listed!r}, which gateway.groups does "
                        f"not list (groups: {', '.join(groups)}; or auto)"
                    )
                    issues.append((("gateway", "user_usable_groups", listed), message))
        for name, pricing in self.models.items():
            for number, listed in enumerate(pricing.groups or ()):
                group(("models", name, "groups", number), listed, f"model {name!r}")
        keys: set[str] = set()
        priced = ", ".join(sorted(self.models)) or "none"
        for index, token in enumerate(self.tokens):
            where = ("gateway", "tokens", index)
            if token.user not in users:
                message = (
                    f"token {token.name!r} belongs to user {token.user}, which gateway.users "
                    f"does not list (ids: {', '.join(map(str, users))})"
                )
                issues.append(((*where, "user"), message))
            if token.group and token.group != AUTO_GROUP:
                group(("tokens", index, "group"), token.group, f"token {token.name!r}")
            if token.key is not None:
                key = token.key.removeprefix("sk-")
                if key in keys:
                    issues.append(((*where, "key"), f"token {token.name!r} repeats a key"))
                keys.add(key)
            for number, model in enumerate(token.model_limits or ()):
                if model not in self.models:
                    message = (
                        f"token {token.name!r} limits to model {model!r}, which "
                        f"gateway.models does not price (priced: {priced})"
                    )
                    issues.append(((*where, "model_limits", number), message))
        return issues
