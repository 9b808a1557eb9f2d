"""An agent working in a subdirectory: its relative paths from there, the policy's roots from the project.

Claude Code reports where its agent works (`cwd`, which follows the `cd`
of its Bash tool). The calls' relative paths resolve there; the manifest's
writable roots, readable secrets and the patterns anchored at the project
must not move with it, or `.` shrinks to the subdirectory (edits of the
project refused) and, from inside `.claude/` or `.git/`, the protected
files lose the directory name their patterns match on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hosts_support import decision, pre, receipts
from spinegate.hosts.service import HookService
from spinegate.manifest_file import seal_manifest
from spinegate.paths import PathContext, PathPolicy


def identity(path: str) -> str:
    return path


def policy(cwd: str, project: str | None, **options: object) -> PathPolicy:
    context = PathContext(cwd=cwd, home="/home/u", case_insensitive=False, resolver=identity, project=project)
    return PathPolicy(context=context, **options)  # type: ignore[arg-type]


# -- the path policy ------------------------------------------------------------------------------


def test_relative_paths_resolve_where_the_agent_works_and_roots_where_the_project_is() -> None:
    paths = policy("/work/app/src", "/work/app", readable_secrets=["config/dev.env"])
    assert paths.base_dir == "/work/app/src" and paths.project_dir == "/work/app"
    assert paths.writable_roots == ("/work/app",)
    assert paths.check("notes.txt").normalised == "/work/app/src/notes.txt"
    assert paths.check("/work/app/README.md").inside_roots
    assert paths.check("../README.md").inside_roots
    assert not paths.check("../../elsewhere.txt").inside_roots
    assert paths.roots_for(["build"]) == ("/work/app/build",)  # an entry's own roots: the project's too
    assert paths.check_read("../config/dev.env").normalised == "/work/app/config/dev.env"
    assert paths.secret_match("/work/app/config/dev.env") is None  # readable_secrets: relative to the project
    assert paths.secret_match("/work/app/src/config/dev.env") == "*.env"


def test_protected_files_keep_their_directory_name_seen_from_inside_it() -> None:
    for cwd, relative in (("/work/app/.claude", "settings.json"), ("/work/app/.git", "hooks/pre-commit"),
                          ("/work/app/.git", "config"), ("/work/app/.husky", "pre-commit")):
        check = policy(cwd, "/work/app").check(relative)
        assert check.restricted_by is not None, (cwd, relative)


def test_components_above_the_project_do_not_count_from_a_subdirectory() -> None:
    """A project that lives in ~/secrets/app stays writable from its `src/` as from its root."""
    paths = policy("/home/u/secrets/app/src", "/home/u/secrets/app")
    assert paths.check("/home/u/secrets/app/README.md").restricted_by is None
    assert paths.check("/home/u/secrets/app/.env").restricted_by == ".env"


def test_only_directories_holding_the_project_hold_its_protected_files() -> None:
    paths = policy("/work/app/src", "/work/app")
    assert paths.holds_protected("/work/app/src") is None  # the agent's own subdirectory holds none of them
    assert paths.holds_protected("/work/app") is not None
    assert paths.holds_protected("/work") is not None


def test_without_a_project_the_working_directory_is_the_project() -> None:
    paths = policy("/work/app/src", None)
    assert paths.project_dir == paths.base_dir == "/work/app/src"
    assert paths.writable_roots == ("/work/app/src",)


def test_the_manifests_base_dir_anchors_the_project_not_the_agents_paths() -> None:
    paths = policy("/work/app/src", "/work/app", base_dir="web")
    assert paths.project_dir == "/work/app/web" and paths.writable_roots == ("/work/app/web",)
    assert paths.check("x.txt").normalised == "/work/app/src/x.txt"


def test_an_explicit_policy_takes_a_project_dir() -> None:
    paths = PathPolicy(base_dir="/work/app/src", project_dir="/work/app", home="/home/u", resolver=identity)
    assert (paths.base_dir, paths.project_dir, paths.writable_roots) == ("/work/app/src", "/work/app", ("/work/app",))
    with pytest.raises(ValueError, match="absolute"):
        PathPolicy(base_dir="/work/app/src", project_dir="app", home="/home/u", resolver=identity)


# -- the hook service ----------------------------------------------------------------------------


def answer(service: HookService, name: str, arguments: dict[str, object], use_id: str, cwd: Path) -> tuple[str, str]:
    return decision(service.answer("claude-code", pre(name, arguments, use_id=use_id, cwd=str(cwd))).stdout)


def test_an_agent_in_a_subdirectory_may_edit_the_whole_project(project: Path, service: HookService) -> None:
    src = project / "src"
    src.mkdir()
    (project / "README.md").write_text("# demo\n")
    edit = {"file_path": str(project / "README.md"), "old_string": "demo", "new_string": "app"}
    assert answer(service, "Edit", edit, "e1", src)[0] == "allow"
    assert answer(service, "Bash", {"command": "echo x > ../top.txt && touch here.txt"}, "b1", src)[0] == "allow"
    made = receipts(project)[-1]
    assert {str(project / "top.txt"), str(src / "here.txt")} <= set(made["action"]["target_paths"])
    verdict, reason = answer(service, "Bash", {"command": "touch ../../escaped.txt"}, "b2", src)
    assert verdict == "deny" and "escaped.txt" in reason


def test_an_agent_inside_a_protected_directory_cannot_write_its_files(project: Path, service: HookService) -> None:
    claude, git = project / ".claude", project / ".git"
    git.mkdir()
    for use_id, command, cwd in (("c1", "echo '{}' > settings.json", claude), ("c2", "rm settings.json", claude),
                                 ("g1", "echo 'curl x | sh' > hooks/pre-commit", git),
                                 ("g2", "echo '[core]' >> config", git)):
        verdict, reason = answer(service, "Bash", {"command": command}, use_id, cwd)
        assert verdict == "deny" and "RESTRICTED" in reason, (command, reason)
    write = {"file_path": str(claude / "settings.json"), "content": "{}"}
    assert answer(service, "Write", write, "w1", claude)[0] == "deny"


def test_readable_secrets_stay_the_projects_from_a_subdirectory(project: Path, service: HookService) -> None:
    manifest = project / ".spinegate" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["readable_secrets"] = ["config/dev.env"]
    manifest.write_text(json.dumps(data))
    seal_manifest(manifest)
    service.reload(by="test")
    src = project / "src"
    src.mkdir()
    assert answer(service, "Read", {"file_path": str(project / "config" / "dev.env")}, "r1", src)[0] == "allow"
    assert answer(service, "Bash", {"command": "cat ../config/dev.env"}, "r2", src)[0] == "allow"
    assert answer(service, "Read", {"file_path": str(src / "config" / "dev.env")}, "r3", src)[0] == "deny"


def test_an_agent_outside_the_project_carries_no_writable_root(project: Path, service: HookService,
                                                               tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    verdict, reason = answer(service, "Bash", {"command": "touch x"}, "a1", elsewhere)
    assert verdict == "deny" and "WRITE_OUTSIDE_ALLOWED_ROOTS" in reason
    assert answer(service, "Bash", {"command": "touch x"}, "a2", Path("/"))[0] == "deny"  # `cd /`: "." stays put
    assert answer(service, "Bash", {"command": "ls"}, "a3", elsewhere)[0] == "allow"  # reading there is reading
    assert answer(service, "Bash", {"command": f"touch {project}/x"}, "a4", elsewhere)[0] == "allow"
