"""Gateway mode for async tasks: the caller's key checked, the task charged when it is
submitted, and the charge given back if it fails — as new-api's task relay does
(`relay/relay_task.go`, `service/task_billing.go`; Midjourney's `relay/mjproxy_handler.go`).

    authenticate(state, request.scope)            # every task route but served files: 401/403
    task, headers = submit(state, request, task, entry)   # in place of `state.tasks.add(task)`
    finished(state, task)                         # the repository's `on_finish`: the refund

A task costs `model_price × 500000 × group_ratio × Π other ratios` (a video's ratio is its
`seconds`, sent back in `X-New-Api-Other-Ratios`), taken whole at submission (the part a
trusted key's pre-charge skipped is taken after the task is created, as new-api settles it)
and kept on SUCCESS; a task that ends in FAILURE — scripted, or timed out — is refunded once,
by the worker whose change ended it. The price model is the one the route journals: the
request's for videos, `mj_<action>` for Midjourney, `suno_<action>` for Suno. A model priced
per token is charged the gateway's 500-token pre-charge (new-api re-settles it from the
upstream's token counts, which no emulated task has).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from mockserver.core.errors import APIError
from mockserver.gateway import pricing
from mockserver.gateway.accounts import UsageLog
from mockserver.gateway.errors import REQUEST_ID_HEADER, GatewayError
from mockserver.tasks.task import Bill, Task

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Scope

    from mockserver.gateway.admission import Caller
    from mockserver.journal.journal import Entry
    from mockserver.server_state import MockState

CALLER = "mockserver.caller"  # the scope key the caller is kept under for the answer
RATIOS_HEADER = "X-New-Api-Other-Ratios"
QUOTA_CODES = ("insufficient_user_quota", "pre_consume_token_quota_failed")
# Served files answer without a key (new-api serves `/mj/image/:id` outside its auth; the
# others are our stand-ins for the vendors' CDN links, and a video's `/content`, the result URL
# a task hands out, is opened by players and pages that send no key).
OPEN_PATHS = ("/mj/image/", "/mj/video/", "/suno/clips/", "/kling/files/")
OPEN_SUFFIXES = ("/content",)
LOG_CONSUME, LOG_SYSTEM = 2, 4  # new-api's log types


def authenticate(state: MockState, scope: Scope) -> Caller | None:
    """In gateway mode, the key's checks (the gateway's own 401/403, raised) and the caller,
    also kept in the scope for `submit`; None for served files and outside gateway mode."""
    gateway = state.gateway
    path: str = scope["path"]
    if gateway is None or path.endswith(OPEN_SUFFIXES) or any(p in path for p in OPEN_PATHS):
        return None
    caller = scope[CALLER] = gateway.authenticate(scope)
    return caller


def allow(state: MockState, request: Request, model: Any) -> None:
    """In gateway mode, the distributor's checks of the model a submission names (the token's
    limits, a channel), before the submission is validated — as new-api reads `model` from a
    video submission's body in its middleware."""
    caller: Caller | None = request.scope.get(CALLER)
    if state.gateway is not None and caller is not None:
        from mockserver.gateway import access

        access.allow(state.gateway, caller, model if isinstance(model, str) else "")


def other_ratios(task: Task) -> dict[str, float]:
    """The ratios beside the model's price: a video's length in seconds; the number of
    pictures of a DashScope image task (new-api's `n`, as its Wan image relay sets it)."""
    if task.family == "dashscope-image":
        return {"n": task.params.get("n", 1)}
    seconds = task.params.get("seconds")
    return {"seconds": seconds} if isinstance(seconds, int | float) else {}


def task_quota(price: pricing.Price, ratios: dict[str, float]) -> int:
    """new-api's per-call quota, its other ratios multiplied in (in float64, as Go does)."""
    if price.free:
        return 0
    if price.model_price is None:  # per token: the pre-charge's 500 tokens
        return pricing.pre_consume(price, 0, None)
    quota = price.model_price * pricing.QUOTA_PER_UNIT * price.group_ratio
    for ratio in ratios.values():
        quota *= ratio
    return int(quota)


def submit(
    state: MockState, request: Request, task: Task, entry: Entry
) -> tuple[Task, dict[str, str]]:
    """Add the task; in gateway mode charge it first (the gateway's 403/503 before anything is
    created) and return the headers the gateway adds."""
    gateway = state.gateway
    caller: Caller | None = request.scope.get(CALLER)
    if gateway is None or caller is None:
        return state.tasks.add(task), {}
    model = entry.model or task.model
    ratios = other_ratios(task)
    price = gateway.price_of(model, caller.group, caller.user.group)
    quota = task_quota(price, ratios) if price is not None else 0
    try:
        charge = gateway.admit(caller, model, 0, None, quota=quota)
    except GatewayError as error:
        code = error.body.get("error", {}).get("code")
        if code in QUOTA_CODES:  # the relay's: in the task family's own shape
            raise quota_error(task.family, error, str(code)) from None
        raise
    token, user = caller.token, caller.user
    if quota:
        task.bill = Bill(token.id, user.id, token.name, quota)
    try:
        task = state.tasks.add(task)
    except BaseException:
        gateway.refund(charge)
        raise
    charge.done = True
    gateway.accounts.adjust(token.id, user.id, quota - charge.pre_consumed, request=True)
    other: dict[str, Any] = {
        "model_price": price.model_price if price and price.model_price is not None else -1,
        "model_ratio": price.model_ratio if price else 0,
        "group_ratio": price.group_ratio if price else 1,
        "task_id": task.id,
    }
    gateway.accounts.log(
        UsageLog(
            id=0,
            user_id=user.id,
            token_id=token.id,
            token_name=token.name,
            model_name=model,
            quota=quota,
            prompt_tokens=0,
            completion_tokens=0,
            created_at=gateway.clock,
            request_id=caller.request_id,
            username=user.username,
            group=charge.group,
            other=orjson.dumps(other | ratios).decode(),
        )
    )
    entry.key_name, entry.quota, entry.cost = token.name, quota, pricing.dollars(quota)
    headers = {REQUEST_ID_HEADER: caller.request_id}
    if task.family != "midjourney":  # Midjourney has its own relay, without the header
        headers[RATIOS_HEADER] = orjson.dumps(ratios).decode()
    return task, headers


def quota_error(family: str, error: GatewayError, code: str) -> APIError:
    """Not enough quota, as each family's relay words it."""
    if family == "midjourney":
        return APIError(400, "quota_not_enough", code="4", headers=error.headers)
    message = error.message.rpartition(" (request id: ")[0] or error.message
    return APIError(403, message, code=code, headers=error.headers)


def finished(state: MockState, task: Task) -> None:
    """A task has just ended: a FAILURE gives its charge back, with new-api's system log."""
    bill, gateway = task.bill, state.gateway
    if bill is None or task.status != "FAILURE" or gateway is None:
        return
    gateway.accounts.adjust(bill.token_id, bill.user_id, -bill.quota)
    user = gateway.accounts.user(bill.user_id)
    what = "构图失败" if task.family == "midjourney" else "异步任务执行失败"
    gateway.accounts.log(
        UsageLog(
            id=0,
            user_id=bill.user_id,
            token_id=0,
            token_name="",
            model_name="",
            quota=0,
            prompt_tokens=0,
            completion_tokens=0,
            created_at=gateway.clock,
            request_id="",
            type=LOG_SYSTEM,
            username=user.username if user is not None else "",
            content=f"{what} {task.id}，补偿 {pricing.format_quota(bill.quota)} 额度",
        )
    )
