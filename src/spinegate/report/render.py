"""The report page as one self-contained HTML file: markup, styles, scripts, charts and the log, all inline.

`render_page` is a pure function of the gathered data, the assets and the
time of writing. Whatever came from the log is HTML-escaped in the markup
and escaped for the `<script>` data elements (see `embed`); the page's own
scripts and styles are allowed by a Content-Security-Policy that names their
SHA-256 hashes and forbids everything else, network included.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from string import Template
from typing import Any

from .charts import denials_svg, timeline_svg
from .embed import json_for_script, script_text
from .gather import ReportData, command_line_verdict

#: The page's scripts, inlined in this order into one element.
SCRIPTS = ("canonical.js", "verify.js", "page.js")

_BREAKOUT = re.compile(r"</script|<!--|<script", re.IGNORECASE)


@dataclass(frozen=True)
class Assets:
    """The page's template, stylesheet and script, as text."""

    template: str
    css: str
    script: str

    def __post_init__(self) -> None:
        for name, text in (("stylesheet", self.css), ("script", self.script)):
            if _BREAKOUT.search(text) or (name == "stylesheet" and "</style" in text.lower()):
                raise ValueError(f"the report's {name} holds text that would end its element early")


def load_assets() -> Assets:
    """The assets shipped in the package (`spinegate/report/assets/`)."""
    folder = resources.files("spinegate.report") / "assets"

    def read(name: str) -> str:
        return (folder / name).read_text(encoding="utf-8")

    return Assets(template=read("report.html"), css=read("report.css"),
                  script="\n".join(read(name) for name in SCRIPTS))


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(assets: Assets) -> str:
    """Only this page's own script and stylesheet run; nothing is fetched, submitted or framed."""
    return (f"default-src 'none'; script-src {_csp_hash(assets.script)}; style-src {_csp_hash(assets.css)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _failure_text(f: dict[str, Any]) -> tuple[str, str]:
    where = [f"line {f['line']}" if f.get("line") is not None else str(f.get("file"))]
    if f.get("session_id") is not None:
        where.append(f"session {f['session_id']}")
    if f.get("sequence_number") is not None:
        where.append(f"sequence {f['sequence_number']}")
    return ", ".join(where), f"{f['reason']}: {f['detail']}"


def _warnings_text(count: int, warnings: list[dict[str, Any]]) -> str:
    """One sentence on the warnings (CR LF endings, a byte-order mark): what they are, where, why not failures."""
    lines = ", ".join(str(w["line"]) for w in warnings[:20] if w.get("line") is not None)
    more = " ..." if count > 20 else ""
    return (f"{_n(count)} warning{'s' if count != 1 else ''} (lines ending in CR LF as written on Windows, or a "
            f"UTF-8 byte-order mark at the start): the receipts' values and hashes are unchanged, so the log "
            f"still verifies (`spinegate verify --strict` and `spinegate report --strict` count them as "
            f"failures); line{'s' if count != 1 else ''} {lines}{more}")


def _tiles(data: ReportData) -> str:
    k = data.kinds
    tiles = (("receipts", "receipts", data.verify.receipts), ("sessions", "sessions", len(data.sessions)),
             ("approvals", "approvals", k["approve"]), ("denials", "denials", k["deny"]),
             ("escalations", "escalations", k["escalate"]), ("outcomes", "outcomes", k["outcome"]),
             ("other", "posture and reload", k["other"]))
    return "\n".join(f'  <div class="tile {name}" data-count="{name}"><div class="value">{_n(v)}</div>'
                     f'<div class="label">{label}</div></div>' for name, label, v in tiles)


def _checkpoint_block(data: ReportData) -> tuple[str, str, str]:
    """(status, css class, inner HTML) of the signed-checkpoint card as the command line saw it."""
    cp = data.checkpoints
    if cp is not None:
        ids = ", ".join(cp.key_ids or [cp.key_id])
        text = (f"<p>{_e(cp.summary())}</p><p>Key id{'s' if len(cp.key_ids) > 1 else ''} {_e(ids)}: trust this only "
                f"if {'they are the keys' if len(cp.key_ids) > 1 else 'it is the key'} you expect.</p>")
        if data.embedded is not None:
            text += "<p class=\"muted\">This page checks the signatures itself when its script runs.</p>"
        return ("command-line-valid" if cp.ok else "command-line-invalid"), ("cp-good" if cp.ok else "cp-bad"), text
    if data.checkpoint_file_exists:
        return ("not-checked", "cp-warn", "<p>This log has signed checkpoints, but the report was made without "
                "--public-key, so they were not checked. The hash chain alone cannot show a log rewritten from end "
                "to end or cut short.</p>")
    if data.layout == "directory":
        return ("not-applicable", "", "<p>Signed checkpoints belong to JSONL logs; this per-session directory has "
                "none. The hash chain shows edited receipts, not a log rewritten from end to end.</p>")
    return ("unsigned", "cp-warn", "<p>Not signed: this log has no checkpoint file. The hash chain shows edited "
            "receipts, but not a log rewritten from end to end or cut short; a gate opened with a signing key "
            "writes signed checkpoints.</p>")


def report_document(data: ReportData, *, generated_at: str, generator: str) -> dict[str, Any]:
    """The JSON the page reads from `<script id="spinegate-report">`."""
    keys = [{"raw": base64.b64encode(raw).decode("ascii"), "key_id": kid}
            for raw, kid in zip(data.public_keys_raw, data.key_ids, strict=True)]
    return {
        "format": "spinegate-report/1",
        "generator": generator,
        "generated_at": generated_at,
        "log": {"name": data.log_name, "layout": data.layout, "entries": data.entries},
        "embedded": data.embedded is not None,
        "max_embedded": data.max_embedded,
        "command_line": command_line_verdict(data),
        "public_keys": keys,
        "public_key": keys[0] if keys else None,  # the first key, as format 1 has always had it
        "checkpoint_file": data.checkpoint_file,
        "checkpoint_file_exists": data.checkpoint_file_exists,
        "non_json_lines": data.non_json_lines,
    }


def render_page(data: ReportData, assets: Assets, *, generated_at: datetime, generator: str) -> str:
    """The whole HTML page."""
    doc = report_document(data, generated_at=generated_at.isoformat(), generator=generator)
    cli = doc["command_line"]
    failures = cli["failures"] + (cli["checkpoints"]["failures"] if cli["checkpoints"] else []) + \
        (cli["witness"]["failures"] if cli["witness"] else [])
    valid = cli["valid"]
    if data.strict:  # warnings count as failures, as with `spinegate verify --strict`
        failures = failures + cli["warnings"]
    count = cli["failure_count"] + (cli["checkpoints"]["failure_count"] if cli["checkpoints"] else 0) + \
        (cli["witness"]["failure_count"] if cli["witness"] else 0) + \
        (cli["warning_count"] if data.strict else 0)
    if valid:
        title = "Valid, says the command line"
        detail = f"{_n(cli['receipts'])} receipts in {_n(cli['sessions'])} sessions verify."
    else:
        title = f"Invalid, says the command line: {_n(count)} problem{'s' if count != 1 else ''}"
        where, what = _failure_text(failures[0]) if failures else ("", "")
        detail = f"<strong>First failure: {_e(where)}</strong> \u2014 {_e(what)}"
    notes = []
    if data.embedded is None:
        notes.append(f'<li class="warn">This log has {_n(data.entries)} lines, more than the {_n(data.max_embedded)} '
                     "this page embeds (--max-embedded): it is summarised, and the browser does not check it "
                     "again.</li>")
    else:
        notes.append("<li>This is the verdict recorded when the report was written; the page replaces it with its "
                     "own check when its script runs.</li>")
    if cli["warning_count"] and not data.strict:
        notes.append(f'<li class="warn">{_e(_warnings_text(cli["warning_count"], cli["warnings"]))}</li>')
    if data.non_json_lines:
        shown = ", ".join(map(str, data.non_json_lines[:20])) + (" ..." if len(data.non_json_lines) > 20 else "")
        notes.append(f'<li class="warn">Lines that are not JSON, embedded byte for byte (base64): {_e(shown)}</li>')
    cp_status, cp_class, cp_text = _checkpoint_block(data)
    if data.witness is not None:
        cp_text += (f'<p id="witness" data-status="{"valid" if data.witness.ok else "invalid"}">'
                    f"{_e(data.witness.summary())} (the command line's verdict: the page does not re-check the "
                    "witness).</p>")
    problem_items = "".join(
        f'<li><span class="where">{_e(w)}</span> {_e(t)}</li>' for w, t in map(_failure_text, failures[:100]))
    receipts = script_text(data.embedded) if data.embedded is not None else "\n"
    checkpoints = script_text(data.checkpoint_lines) if data.checkpoint_lines is not None else "\n"
    values = {
        "csp": content_security_policy(assets),  # base64 and fixed words: nothing to escape in the attribute
        "generator": _e(generator),
        "title": _e(f"spinegate report: {data.log_name}"),
        "css": assets.css,
        "log_name": _e(data.log_name),
        "layout_label": "per-session directory" if data.layout == "directory" else "JSONL log",
        "generated_at": _e(generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        "static_verdict_class": "valid" if valid else "invalid",
        "static_verdict": "valid" if valid else "invalid",
        "static_title": _e(title),
        "static_detail": detail,
        "static_notes": "".join(notes),
        "count_tiles": _tiles(data),
        "counts_source": "Counted by the command line when the report was written.",
        "checkpoint_class": cp_class,
        "checkpoint_status": cp_status,
        "checkpoint_text": cp_text,
        "timeline_svg": timeline_svg(data.sessions.values()),
        "denials_svg": denials_svg(data.denial_reasons.items()),
        "problem_count": str(count),
        "problems_source": "as reported by the command line" if failures else "No problems found by the command line.",
        "problem_items": problem_items,
        "receipts_class": "" if data.embedded is not None else "summarised",
        "table_placeholder": ("The receipts table is built by the page's script from the embedded log."
                              if data.embedded is not None else
                              "This log is too large to embed, so the page lists no receipts: use "
                              "`spinegate show LOG` or raise --max-embedded."),
        "footer_signing": " and, given a public key, the Ed25519 signatures of the signed checkpoints" if
                          data.public_key_raw is not None else "",
        "report_json": json_for_script(doc),
        "receipts": receipts,
        "checkpoints": checkpoints,
        "script": assets.script,
    }
    return Template(assets.template).substitute(values)
