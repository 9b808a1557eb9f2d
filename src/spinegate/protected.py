"""The gate's own files and the agent hosts' configuration: one list, protected whatever the roots say.

A write, truncation, deletion, rename or link over any of these is
RESTRICTED_WRITE, from a shell command or a file tool alike, even inside
the writable roots: an agent that can rewrite its gate's manifest, receipt
log or hook settings is not governed any more.

Every feature that adds a file the gate or an agent host relies on adds
its pattern here, in its own group, with the reason. Patterns use the
restricted-pattern syntax of `paths.py`: without a slash they match any
path component; ending in `/` a directory anywhere; starting with `/` the
absolute path; any other the path's tail. The gate's own files (manifest,
receipt log, checkpoint file, signing key) are exact paths known only when
it opens; `PathContext.protected_files` carries them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProtectedPattern:
    """One protected pattern, the feature that owns it and why it is protected."""

    pattern: str
    owner: str
    why: str


PROTECTED_PATTERNS: tuple[ProtectedPattern, ...] = (
    # the gate itself
    ProtectedPattern(".spinegate/", "gate", "the gate's state, keys and logs"),
    ProtectedPattern("*.checkpoints.jsonl", "signing", "signed checkpoints of a receipt log"),
    # git: hooks and configuration run commands on the next git invocation
    ProtectedPattern(".git/hooks/", "git", "hooks run on the next commit, checkout or push"),
    ProtectedPattern(".git/config", "git", "core.hooksPath, core.sshCommand, aliases run commands"),
    ProtectedPattern(".gitmodules", "git", "submodule URLs and update commands"),
    ProtectedPattern(".husky/", "git", "husky hook scripts run on the next commit"),
    ProtectedPattern(".pre-commit-config.yaml", "git", "pre-commit runs the commands it lists on the next commit"),
    ProtectedPattern("lefthook.yml", "git", "lefthook runs the commands it lists on the next commit"),
    ProtectedPattern(".lefthook.yml", "git", "lefthook runs the commands it lists on the next commit"),
    # coding-agent hosts: hook and MCP settings decide what the agent may run ungoverned
    ProtectedPattern(".claude/settings.json", "hook", "Claude Code hooks and permissions"),
    ProtectedPattern(".claude/settings.local.json", "hook", "Claude Code local hooks and permissions"),
    ProtectedPattern(".claude.json", "hook", "Claude Code user configuration and MCP servers"),
    ProtectedPattern(".claude/hooks/", "hook", "Claude Code hook scripts"),
    ProtectedPattern(".claude/plugins/", "hook", "Claude Code plugins: their hooks and MCP servers run in every "
                                                 "session"),
    ProtectedPattern(".claude/agents/", "hook", "Claude Code subagents, whose frontmatter can declare hooks"),
    ProtectedPattern(".claude/skills/", "hook", "Claude Code skills, whose frontmatter can declare hooks"),
    ProtectedPattern(".claude/commands/", "hook", "Claude Code slash commands, whose frontmatter can declare hooks"),
    ProtectedPattern(".mcp.json", "mcp", "MCP servers a project starts"),
    ProtectedPattern(".cursor/hooks.json", "hook", "Cursor hooks"),
    ProtectedPattern(".cursor/mcp.json", "mcp", "Cursor MCP servers"),
    ProtectedPattern(".gemini/settings.json", "hook", "Gemini CLI hooks and MCP servers"),
    ProtectedPattern(".gemini/extensions/", "mcp", "Gemini CLI extensions: MCP servers started in every session"),
    ProtectedPattern(".codex/config.toml", "hook", "Codex configuration and MCP servers"),
    ProtectedPattern(".codex/hooks.json", "hook", "Codex hooks"),
    ProtectedPattern(".vscode/mcp.json", "mcp", "VS Code MCP servers"),
    ProtectedPattern(".vscode/settings.json", "hook", "VS Code settings: agent tool auto-approval, terminal profiles"),
    ProtectedPattern(".vscode/tasks.json", "hook", "VS Code tasks, which can run when the folder opens"),
    ProtectedPattern("*.code-workspace", "hook", "VS Code workspace settings and tasks (as .vscode/settings.json, "
                                                 "tasks.json)"),
    ProtectedPattern("Code/User/settings.json", "hook", "VS Code user settings: agent tool auto-approval"),
    ProtectedPattern("Code/User/mcp.json", "mcp", "VS Code user MCP servers"),
)


def protected_patterns() -> tuple[str, ...]:
    """The patterns alone, in the order they are matched."""
    return tuple(p.pattern for p in PROTECTED_PATTERNS)


__all__ = ["ProtectedPattern", "PROTECTED_PATTERNS", "protected_patterns"]
