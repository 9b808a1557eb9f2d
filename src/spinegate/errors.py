"""The exceptions spinegate raises. Each names the file, the place and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .decision import Decision


class SpinegateError(Exception):
    """Base class of every error spinegate raises on purpose."""


class ManifestError(SpinegateError):
    """A manifest could not be read or is not valid.

    `source` is the file (or "<memory>"), `location` the entry or field at
    fault, `fix` what to do about it.
    """

    def __init__(self, message: str, *, source: str = "<memory>", location: str | None = None,
                 fix: str | None = None) -> None:
        self.source = source
        self.location = location
        self.fix = fix
        self.detail = message
        parts = [f"{source}"]
        if location:
            parts.append(f" at {location}")
        text = "".join(parts) + f": {message}"
        if fix:
            text += f" (fix: {fix})"
        super().__init__(text)


class ManifestUnreadable(ManifestError):
    """The manifest file cannot be read or is not a JSON object at all."""


class ManifestHashMismatch(ManifestError):
    """The stored `manifest_hash` does not match the manifest's content."""

    def __init__(self, *, source: str, stored: str | None, computed: str) -> None:
        self.stored = stored
        self.computed = computed
        super().__init__(
            f"manifest_hash mismatch: stored {stored!r}, computed {computed!r}",
            source=source,
            location="manifest_hash",
            fix="review the change, then run `spinegate manifest seal FILE` to sign it off",
        )


class ReceiptLogError(SpinegateError):
    """A receipt log cannot be opened or appended to safely."""

    def __init__(self, message: str, *, path: str, offset: int | None = None,
                 line: int | None = None, fix: str | None = None) -> None:
        self.path = path
        self.offset = offset
        self.line = line
        self.fix = fix
        where = path
        if line is not None:
            where += f", line {line}"
        if offset is not None:
            where += f", byte {offset}"
        text = f"{where}: {message}"
        if fix:
            text += f" (fix: {fix})"
        super().__init__(text)


class TornLogError(ReceiptLogError):
    """The log ends in a partial line, left by a crash mid-write.

    Nothing is ever appended after a torn line: `spinegate recover PATH` moves
    the fragment to a side file, keeping every byte, so writing can resume.
    """


class ReceiptWriteError(ReceiptLogError):
    """A receipt could not be written; the call it covers must not run."""


class ReceiptFormatError(SpinegateError):
    """A stored receipt is not valid JSON or does not fit the receipt schema."""


class KeyFileError(SpinegateError):
    """A signing or verification key file is missing, unreadable or of the wrong kind."""


class GovernanceVeto(SpinegateError):
    """Raised by adapters (and `Decision.raise_if_denied`) when the gate refuses a call.

    Carries the decision and its receipt so the caller can show or audit them.
    """

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.receipt = decision.receipt
        rid = decision.receipt_id or "none"
        super().__init__(f"{decision.tool_name} refused by spinegate: {decision.reason} (receipt {rid})")

    @property
    def reason(self) -> str | None:
        return self.decision.reason

    def __reduce__(self) -> tuple[Any, ...]:  # keep it picklable for process pools
        return (GovernanceVeto, (self.decision,))
