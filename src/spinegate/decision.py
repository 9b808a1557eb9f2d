"""What goes into the gate (`ToolCall`) and what comes out (`Decision`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from .effects import EffectClass

if TYPE_CHECKING:  # pragma: no cover
    from .manifest import FunctionEntry
    from .receipts import Receipt



@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call an agent proposes, in framework-neutral terms.

    `plugin` is None for tools that have none (LangChain tools, OpenAI
    functions). `proposal_id` is the framework's id for the call (a model's
    tool-call id) and becomes the receipt's `proposal_id`; one is generated
    when absent. `framework` and `model` fill the receipt's executor.
    """

    function: str
    plugin: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    proposal_id: str | None = None
    framework: str = "python"
    model: str | None = None

    @property
    def tool_name(self) -> str:
        """`plugin.function`, or `function` alone; always a string, whatever an adapter passed in."""
        plugin, function = as_text(self.plugin), as_text(self.function)
        return f"{plugin}.{function}" if plugin else function


def as_text(value: Any) -> str:
    """`value` as a string for a receipt field, never raising ("" for None)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a hostile __str__ must not stop the gate from denying
        return f"<unprintable {type(value).__name__}>"


class Verdict(str, Enum):
    """What policy decided. ESCALATE is asked of an approver inside the gate, or (with
    `check(..., host_approval=True)`) handed to the host to ask a person in its own
    prompt; only then does a `Decision` carry it. Otherwise an unanswered escalation denies."""

    APPROVE = "approve"
    DENY = "deny"
    ESCALATE = "escalate"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer for one call, with the receipt that records it.

    `reason` is a reason code (for example ``TOOL_NOT_IN_MANIFEST``), None
    when approved. `rule` says in words which rule decided. In shadow mode
    `approved` is True even when `would_have` says the gate would have denied.
    An escalated decision (`escalated`) is neither approved nor denied yet:
    the host asks a person; `Gate.resolve_escalation` records the answer, and
    that decision's `escalation_receipt_id` names the escalation it answers.
    """

    verdict: Verdict
    reason: str | None
    effect_class: EffectClass
    call: ToolCall
    rule: str
    receipt: Receipt | None = None
    entry: FunctionEntry | None = None
    target_paths: tuple[str, ...] = ()
    shadow: bool = False
    would_have: Verdict | None = None
    decided_by: str | None = None
    escalation_receipt_id: str | None = None

    @property
    def approved(self) -> bool:
        return self.verdict is Verdict.APPROVE

    @property
    def denied(self) -> bool:
        return self.verdict is Verdict.DENY

    @property
    def escalated(self) -> bool:
        """True while a person, asked in the host's own prompt, has yet to answer (an `escalation` receipt)."""
        return self.verdict is Verdict.ESCALATE

    @property
    def receipt_id(self) -> str | None:
        return self.receipt.receipt_id if self.receipt is not None else None

    @property
    def tool_name(self) -> str:
        return self.call.tool_name

    def refusal_message(self) -> str:
        """A refusal a model (or a person) can read: what, why, and the receipt to cite."""
        if self.escalated:
            return (f"spinegate needs a person to approve the call to {self.tool_name}: {self.rule} "
                    f"(effect {self.effect_class.value}; escalation receipt {self.receipt_id or 'none'}). "
                    "The call did not run.")
        return (f"spinegate refused the call to {self.tool_name}: {self.reason} "
                f"(effect {self.effect_class.value}; receipt {self.receipt_id or 'none'}). "
                "The call did not run.")

    def raise_if_denied(self) -> Decision:
        """Raise `GovernanceVeto` unless approved; return self otherwise."""
        if not self.approved:
            from .errors import GovernanceVeto

            raise GovernanceVeto(self)
        return self
