"""Path normalisation and matching, and the classifier's `path_arguments` rule."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from policy_support import BASE, HOME, entry, identity

from spinegate.classifier import EffectClassifier
from spinegate.decision import ToolCall
from spinegate.effects import EffectClass
from spinegate.manifest import manifest_from_raw
from spinegate.paths import PathError, PathPolicy


def _on_disk(project: Path) -> PathPolicy:
    """A policy whose resolver reads the disk, as the edge builds it (spinegate.workspace.path_context)."""
    from spinegate.workspace import path_context

    return PathPolicy(context=path_context(cwd=str(project), home=HOME, case_insensitive=False))


RW, SW, MUT = EffectClass.RESTRICTED_WRITE, EffectClass.SCOPED_WRITE, EffectClass.SHELL_MUTATING


@pytest.mark.parametrize("raw,expected", [
    ("notes.md", "/work/proj/notes.md"),
    ("./docs/../notes.md", "/work/proj/notes.md"),
    ("docs//a/./b", "/work/proj/docs/a/b"),
    ("../other/x", "/work/other/x"),
    ("/abs/path", "/abs/path"),
    ("~/x", f"{HOME}/x"),
    ("~", HOME),
    ("//double/slash", "/double/slash"),
])
def test_normalise(paths: PathPolicy, raw: str, expected: str) -> None:
    assert paths.normalise(raw) == expected


@pytest.mark.parametrize("bad", ["", "  ", "a\x00b", 3, None, b"bytes",
                                 # a tool that expands these would write elsewhere than matched
                                 "~root/.bashrc", "~other/x", "$HOME/.ssh/x", "${HOME}/x", "%APPDATA%\\x",
                                 "x" * 5000])
def test_not_a_path(paths: PathPolicy, bad: object) -> None:
    with pytest.raises(PathError):
        paths.normalise(bad)


# (path as an agent might write it, the pattern family it must hit)
HOSTILE_PATHS = [
    ".env", "./.env", "docs/../.env", "config/.env.production", "prod.env", ".ENV", "DOCS/../.Env",
    "deploy/server.pem", "keys/signing.KEY", "~/.ssh/id_rsa", "~/.ssh/config", "/home/other/.ssh/authorized_keys",
    "~/.aws/credentials", "secrets/token.txt", "app/secrets.yaml", "~/.netrc", "~/.docker/config.json",
    "~/.kube/config", "~/.gnupg/pubring.kbx", "/etc/passwd", "/etc/sudoers.d/agent", "../../../../etc/shadow",
    "~/.bashrc", ".git/hooks/pre-commit", ".git/config", "/root/.profile", "/usr/local/bin/python3",
    # found by the red-team review (each was unrestricted before)
    ".env.", ".env ", ".env:stream", ".git/config.", "..\\.ssh\\id_rsa", "C:\\Users\\a\\.aws\\credentials",
    "~/.gitconfig", "~/.config/git/config", ".git/info/exclude", "~/.zshenv", "~/.config/fish/config.fish",
    "~/.config/gh/hosts.yml", "~/.vault-token", "infra/terraform.tfstate", "~/.config/autostart/x.desktop",
    "~/.config/systemd/user/x.service", "~/Library/LaunchAgents/x.plist", "~/.pip/pip.conf", "~/.yarnrc.yml",
    "~/.m2/settings.xml", "gcp-service-account-prod.json",
    # case and look-alikes: restricted patterns are matched case-folded whatever the filesystem does
    ".Git/Config", "a/\u212a.pem", ".\u017fsh/x", "ID_ED25519", ".ENV.LOCAL", ".NPMRC", ".PyPIrc", ".Netrc",
]


@pytest.mark.parametrize("raw", HOSTILE_PATHS)
def test_restricted_paths(paths: PathPolicy, raw: str) -> None:
    assert paths.check(raw).restricted_by is not None, paths.normalise(raw)


@pytest.mark.parametrize("raw", ["notes.md", "docs/environment.md", "src/keyboard.py", "envoy.yaml",
                                 "docs/secret-santa.md", "build/out.txt", "src/credentials_form.html"])
def test_ordinary_paths_are_not_restricted(paths: PathPolicy, raw: str) -> None:
    assert paths.check(raw).restricted_by is None


def test_base_dir_components_do_not_count(tmp_path: Path) -> None:
    # a project that happens to live under a directory called secrets is still usable
    policy = PathPolicy(base_dir="/srv/secrets/app", resolver=identity, home=HOME, case_insensitive=False)
    assert policy.check("notes.md").restricted_by is None
    assert policy.check(".env").restricted_by == ".env"


def test_extra_restricted_patterns_add_to_the_defaults() -> None:
    policy = PathPolicy(base_dir=BASE, resolver=identity, home=HOME, restricted=["*.sqlite", "config/prod.yaml"],
                        case_insensitive=False)
    assert policy.check("data/app.sqlite").restricted_by == "*.sqlite"
    assert policy.check("config/prod.yaml").restricted_by == "config/prod.yaml"
    assert policy.check(".env").restricted_by == ".env"  # defaults cannot be removed


def test_writable_roots(paths: PathPolicy) -> None:
    assert paths.check("docs/a.md").inside_roots
    assert not paths.check("/tmp/a.md").inside_roots
    assert not paths.check("../proj-evil/a.md").inside_roots  # a sibling sharing a prefix is outside
    roots = paths.roots_for(["docs", "/tmp"])
    assert paths.inside_roots(paths.normalise("/tmp/x"), roots)
    assert not paths.inside_roots(paths.normalise("src/x"), roots)


def test_case_folding_where_the_filesystem_folds_case() -> None:
    folding = PathPolicy(base_dir="/Work/Proj", resolver=identity, home=HOME, case_insensitive=True,
                         writable_roots=["Docs"])
    assert folding.normalise("Docs/A.md") == "/work/proj/docs/a.md"
    assert folding.check("DOCS/a.md").inside_roots
    strict = PathPolicy(base_dir="/Work/Proj", resolver=identity, home=HOME, case_insensitive=False,
                        writable_roots=["Docs"])
    assert not strict.check("DOCS/a.md").inside_roots


def test_symlinks_are_resolved_by_the_default_resolver(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    ssh = tmp_path / "home" / ".ssh"
    ssh.mkdir(parents=True)
    os.symlink(ssh, project / "innocent")
    policy = _on_disk(project)  # os.path.realpath, from the edge
    check = policy.check("innocent/notes.txt")
    assert check.normalised == str(ssh.resolve() / "notes.txt")
    assert check.restricted_by == ".ssh/"
    assert not check.inside_roots
    # the injected resolver is the only thing that touches the disk
    assert PathPolicy(base_dir=str(project), resolver=identity, home=HOME, case_insensitive=False) \
        .check("innocent/notes.txt").restricted_by is None


def test_resolver_is_injected_and_called(paths: PathPolicy) -> None:
    seen: list[str] = []

    def resolver(p: str) -> str:
        seen.append(p)
        return "/work/proj/.env" if p.endswith("link") else p

    policy = PathPolicy(base_dir=BASE, resolver=resolver, home=HOME, case_insensitive=False)
    assert policy.check("link").restricted_by == ".env"
    assert "/work/proj/link" in seen


# -- the classifier's path_arguments ------------------------------------------------------------------------


def _classifier(**paths_section: object) -> tuple[EffectClassifier, object]:
    raw = {"version": "1.1.0", "posture": "NORMAL", "functions": [
        entry("Files", "Write", "SCOPED_WRITE", path_arguments=["path", "also"], writable_roots=["docs"]),
        entry("Files", "Save", "SCOPED_WRITE", path_arguments=["path"]),
        entry("Files", "Read", "SHELL_SAFE"),
    ]}
    if paths_section:
        raw["paths"] = paths_section
    m = manifest_from_raw(raw, verify_hash=False)
    return EffectClassifier.for_manifest(m, base_dir=BASE, resolver=identity, home=HOME, case_insensitive=False), m


def test_path_arguments_scoped_restricted_and_outside() -> None:
    c, m = _classifier()
    write = m.lookup("Files", "Write")
    ok = c.classify(ToolCall("Write", "Files", {"path": "docs/a.md"}), write)
    assert ok.effect is SW and ok.target_paths == ("/work/proj/docs/a.md",) and not ok.outside_roots
    bad = c.classify(ToolCall("Write", "Files", {"path": "docs/../.env"}), write)
    assert bad.effect is RW and bad.target_paths == ("/work/proj/.env",)
    out = c.classify(ToolCall("Write", "Files", {"path": "src/a.py"}), write)
    assert out.outside_roots == ("/work/proj/src/a.py",) and out.effect is MUT
    many = c.classify(ToolCall("Write", "Files", {"path": ["docs/a", "docs/b"], "also": "docs/c"}), write)
    assert many.target_paths == ("/work/proj/docs/a", "/work/proj/docs/b", "/work/proj/docs/c")


def test_default_root_is_the_base_dir_and_manifest_roots_apply() -> None:
    c, m = _classifier()
    save = m.lookup("Files", "Save")
    assert not c.classify(ToolCall("Save", "Files", {"path": "src/a.py"}), save).outside_roots
    assert c.classify(ToolCall("Save", "Files", {"path": "/tmp/a"}), save).outside_roots == ("/tmp/a",)
    c2, m2 = _classifier(writable_roots=["/tmp"])
    assert not c2.classify(ToolCall("Save", "Files", {"path": "/tmp/a"}), m2.lookup("Files", "Save")).outside_roots


@pytest.mark.parametrize("value", [3, {"p": 1}, [], ["ok", 3], "", "a\x00b"])
def test_bad_path_arguments_are_unclassifiable(value: object) -> None:
    c, m = _classifier()
    result = c.classify(ToolCall("Write", "Files", {"path": value}), m.lookup("Files", "Write"))
    assert result.effect is None and "path" in result.rule


def test_missing_optional_path_argument_keeps_the_declared_effect() -> None:
    c, m = _classifier()
    result = c.classify(ToolCall("Write", "Files", {}), m.lookup("Files", "Write"))
    assert result.effect is SW and result.target_paths == ()


def test_plain_entries_take_the_declared_effect_without_touching_paths() -> None:
    calls: list[str] = []
    policy = PathPolicy(base_dir=BASE, resolver=lambda p: calls.append(p) or p, home=HOME, case_insensitive=False)
    c = EffectClassifier(paths=policy)
    calls.clear()
    _, m = _classifier()
    result = c.classify(ToolCall("Read", "Files", {"path": "/etc/passwd"}), m.lookup("Files", "Read"))
    assert result.effect is EffectClass.SHELL_SAFE and calls == []


def test_dot_dot_after_a_symlink_is_resolved_on_disk(tmp_path: Path) -> None:
    # proj/link -> home/.ssh/keys ; proj/link/../authorized_keys is home/.ssh/authorized_keys, not proj/
    project = tmp_path / "proj"
    project.mkdir()
    keys = tmp_path / "home" / ".ssh" / "keys"
    keys.mkdir(parents=True)
    os.symlink(keys, project / "link")
    policy = _on_disk(project)
    check = policy.check("link/../authorized_keys")
    assert check.normalised == str((keys.parent / "authorized_keys").resolve())
    assert check.restricted_by is not None and not check.inside_roots


def test_a_symlinked_file_is_checked_where_it_points(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "real.env").write_text("x", encoding="utf-8")
    os.symlink(project / "real.env", project / "notes.md")
    os.symlink(project / "notes.md", project / "chain.md")  # a chain of links
    policy = _on_disk(project)
    assert policy.check("notes.md").restricted_by == "*.env"
    assert policy.check("./chain.md/").restricted_by == "*.env"  # trailing slash and a second hop


def test_shell_redirect_through_a_symlink_made_by_the_test(tmp_path: Path) -> None:
    from spinegate.shell import ShellClassifier

    project = tmp_path / "proj"
    project.mkdir()
    ssh = tmp_path / "home" / ".ssh"
    ssh.mkdir(parents=True)
    os.symlink(ssh, project / "docs")
    shell = ShellClassifier(paths=_on_disk(project))
    assert shell.classify("echo key >> docs/authorized_keys").effect is EffectClass.RESTRICTED_WRITE
    assert shell.classify("cd docs && echo key >> authorized_keys").effect is EffectClass.RESTRICTED_WRITE
