"""What `spinegate init` writes into a host's settings: the hook command and the merged hook entries. Pure.

The hook command runs the thin client with the interpreter spinegate was
installed with (recorded at init), else `spinegate hook` from the PATH,
else it prints how to install spinegate and exits 2; it ends in
``|| exit 2`` because every host lets a tool run when its hook fails any
other way (command not found, a crash).

Merging keeps everything already in the settings file: spinegate's own
entries (recognised by their command) are replaced, nothing else is
touched, and running `init` twice changes nothing.
"""

from __future__ import annotations

import copy
import shlex
from typing import Any

from .base import Host
from .events import EventKind

#: Text every hook command spinegate writes contains (how its entries are found again).
MARKER = "spinegate"
INSTALL = ("spinegate cannot be started, so this call is blocked: install spinegate "
           "(pip install spinegate) and run spinegate init again, or remove its hooks from {settings}")


def hook_command(host: Host, python: str, client: str) -> str:
    """The shell command a host runs for each hook event (POSIX sh)."""
    variable = host.wiring.project_variable
    project = f'"${variable}"' if variable else '""'
    py, script = shlex.quote(python), shlex.quote(client)
    message = shlex.quote(INSTALL.format(settings=host.wiring.settings))
    return (f"if [ -x {py} ] && [ -f {script} ]; then {py} -I -S {script} --host {host.name} --project {project}; "
            f"elif command -v spinegate >/dev/null 2>&1; then spinegate hook --host {host.name} --project {project}; "
            f"else echo {message} >&2; exit 2; fi || exit 2")


def is_ours(entry: Any) -> bool:
    """True for a hook entry (the inner `{"type": "command", ...}`) spinegate wrote."""
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and MARKER in command and ("hook_client.py" in command
                                                              or "spinegate hook" in command)


def hook_entry(host: Host, command: str, kind: EventKind) -> dict[str, Any]:
    """One `{"type": "command", ...}` entry for `kind`."""
    wiring = host.wiring
    entry: dict[str, Any] = {"type": "command", "command": command}
    if wiring.timeout_field:
        entry[wiring.timeout_field] = wiring.timeout_value
    for key, value in wiring.extra_fields:
        entry[key] = value
    if host.name == "claude-code" and kind is EventKind.BEFORE_TOOL:
        entry["onFailure"] = "block"  # Claude Code 2.1.x: a hook that fails blocks the call (belt and braces)
    if host.name == "cursor":  # Cursor's entries are flat: {"command": ..., "failClosed": true}
        entry.pop("type")
    return entry


def merged_settings(host: Host, settings: dict[str, Any], command: str) -> dict[str, Any]:
    """`settings` with spinegate's hooks for every event the host reports (others' entries kept)."""
    result = copy.deepcopy(settings)
    for key, value in host.wiring.top_level:
        if key not in result:
            result[key] = copy.deepcopy(value)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise ValueError(f"'hooks' in {host.wiring.settings} is not a JSON object")
    for event_name, kind in host.wiring.events:
        groups = hooks.setdefault(event_name, [])
        if not isinstance(groups, list):
            raise ValueError(f"'hooks.{event_name}' in {host.wiring.settings} is not a list")
        entry = hook_entry(host, command, kind)
        if host.name == "cursor":  # a flat list of entries: ours replaced where it stands
            hooks[event_name] = _replace_ours(groups, entry)
            continue
        placed = False
        updated: list[Any] = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list) and any(is_ours(h) for h in inner):
                rest = [h for h in inner if not is_ours(h)]
                if rest or placed:  # ours shares a group with others' hooks, or is a duplicate: take it out
                    if rest:
                        updated.append({**group, "hooks": rest})
                    continue
                group = {k: v for k, v in group.items() if k != "matcher"}  # ours alone: replaced where it stands
                if host.wiring.matcher is not None and kind is not EventKind.PROMPT:
                    group = {"matcher": host.wiring.matcher, **group}
                group["hooks"] = [entry]
                placed = True
            updated.append(group)
        if not placed:
            new: dict[str, Any] = {"hooks": [entry]}
            if host.wiring.matcher is not None and kind is not EventKind.PROMPT:
                new = {"matcher": host.wiring.matcher, **new}
            updated.append(new)
        hooks[event_name] = updated
    return result


def _replace_ours(entries: list[Any], entry: dict[str, Any]) -> list[Any]:
    """`entries` with the first spinegate entry replaced by `entry` (others of ours dropped), or it appended."""
    out: list[Any] = []
    placed = False
    for item in entries:
        if is_ours(item):
            if not placed:
                out.append(entry)
                placed = True
            continue
        out.append(item)
    return out if placed else [*out, entry]


def without_ours(host: Host, settings: dict[str, Any]) -> dict[str, Any]:
    """`settings` with spinegate's hook entries removed (what undoing `init` leaves)."""
    result = copy.deepcopy(settings)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event_name in list(hooks):
        groups = hooks[event_name]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            if is_ours(group):
                continue
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list):
                rest = [h for h in inner if not is_ours(h)]
                if not rest:
                    continue
                group = {**group, "hooks": rest}
            kept.append(group)
        if kept:
            hooks[event_name] = kept
        else:
            del hooks[event_name]
    if not hooks:
        del result["hooks"]
    return result


__all__ = ["MARKER", "hook_command", "hook_entry", "is_ours", "merged_settings", "without_ours"]
