"""Asking an approver about an escalated call, with a timeout, sync or async; turning the answer into a ruling.

An approver is any callable (sync or async) that takes an `ApprovalRequest`
and returns a bool or an `Approval`. No answer in time, an exception, or
an answer of another type all deny: an escalation that is not answered yes
never runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from .decision import ToolCall, Verdict, as_text
from .effects import EffectClass
from .policy import Ruling
from .reasons import APPROVAL_DENIED, APPROVAL_TIMEOUT, APPROVER_ERROR
from .receipt_body import REASON_LIMIT, bounded, exception_text, text_field


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approver is asked: the call, its effect and why it needs a person."""

    call: ToolCall
    effect_class: EffectClass
    reason: str
    rule: str
    arguments_sha256: str


@dataclass(frozen=True, slots=True)
class Approval:
    """An approver's answer. `by` names who or what decided; `note` says why."""

    approved: bool
    by: str = "approver"
    note: str = ""


ApproverResult = bool | Approval
Approver = Callable[[ApprovalRequest], ApproverResult | Awaitable[ApproverResult]]

#: (the ruling that replaces the escalation, who decided or None)
Answer = tuple[Ruling, str | None]


def ruling_for(answer: Any) -> Answer:
    """The ruling an approver's answer makes, and who gave it. Never raises: an unusable answer denies."""
    if isinstance(answer, Approval):
        try:  # the approver's own values, made plain: they end up in the receipt
            verdict = Approval(bool(answer.approved), text_field(answer.by, "approver"),
                               bounded(as_text(answer.note), REASON_LIMIT))
        except Exception as exc:  # noqa: BLE001 - a malformed answer denies
            return Ruling(Verdict.DENY, APPROVER_ERROR, exception_text("the approver's answer is unusable", exc)), None
    elif isinstance(answer, bool):
        verdict = Approval(answer)
    else:
        return Ruling(Verdict.DENY, APPROVER_ERROR,
                      f"the approver returned {type(answer).__name__}, not a bool or Approval"), None
    note = f": {verdict.note}" if verdict.note else ""
    if verdict.approved:
        return Ruling(Verdict.APPROVE, None, f"approved by {verdict.by}{note}"), verdict.by
    return Ruling(Verdict.DENY, APPROVAL_DENIED, f"refused by {verdict.by}{note}"), verdict.by


def _timed_out(timeout: float) -> Answer:
    return Ruling(Verdict.DENY, APPROVAL_TIMEOUT, f"no answer from the approver within {timeout:g} s"), None


def _raised(exc: BaseException) -> Answer:
    return Ruling(Verdict.DENY, APPROVER_ERROR, exception_text("the approver raised", exc)), None


def ask(approver: Approver, request: ApprovalRequest, timeout: float) -> Answer:
    """Ask from sync code: the approver runs on a worker thread (an async one on its own loop there).

    A sync approver that times out keeps running on its thread (Python
    cannot stop it), but its answer is ignored.
    """

    def call() -> Any:
        answer = approver(request)
        if inspect.isawaitable(answer):
            return asyncio.run(_await(answer))
        return answer

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="spinegate-approver")
    try:
        answer = pool.submit(call).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return _timed_out(timeout)
    except Exception as exc:  # noqa: BLE001
        return _raised(exc)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return ruling_for(answer)


async def aask(approver: Approver, request: ApprovalRequest, timeout: float) -> Answer:
    """Ask from async code: an async approver is awaited on the loop, a sync one runs in a thread."""
    try:
        if inspect.iscoroutinefunction(approver):
            answer = await asyncio.wait_for(cast("Awaitable[ApproverResult]", approver(request)), timeout)
        else:
            answer = await asyncio.wait_for(asyncio.to_thread(cast("Callable[[ApprovalRequest], Any]", approver),
                                                              request), timeout)
            if inspect.isawaitable(answer):
                answer = await asyncio.wait_for(answer, timeout)
    except TimeoutError:
        return _timed_out(timeout)
    except Exception as exc:  # noqa: BLE001
        return _raised(exc)
    return ruling_for(answer)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
