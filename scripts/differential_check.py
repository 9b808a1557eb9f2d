#!/usr/bin/env python3
"""Differential check of the command classifier against what lines really do (a development tool).

Classifies candidate command lines, then runs the ones classified SHELL_SAFE
(with --all: every line) inside a throwaway sandbox under strace, using an
observer program such as `observe-command` (bubblewrap: read-only
filesystem except a temporary HOME and project directory, no network), and
flags every SHELL_SAFE line whose trace shows a write, a removal, a link, a
permission change, a connect attempt or the execution of a program the
classifier did not see in the line.

Candidates: the corpus (tests/policy/corpus/*.tsv), one line per harmless
option of every table (`prog OPTION [VALUE] f`: does the table's harmless set
hold on this machine?), and any files given with --lines (one line each).

Never run candidate lines any other way: they include hostile ones.

    python scripts/differential_check.py [--observer PATH] [--all] [--lines FILE]... [--report OUT.json]
    python scripts/differential_check.py --attempts FILE...   (classify only: lines below their expected class)

Not part of the test suite: it needs root, bubblewrap and strace (except --attempts).
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "policy"))

from corpus_support import load  # noqa: E402

from spinegate.effects import EffectClass  # noqa: E402
from spinegate.paths import PathPolicy  # noqa: E402
from spinegate.shell import CommandClassification, ShellClassifier  # noqa: E402
from spinegate.shell.tables import PROGRAMS  # noqa: E402

DEFAULT_OBSERVER = "/work/shared/tools/observe-command"
# The sandbox's directories, so classification and the run agree on where paths point.
PROJECT, HOME = "/tmp/proj", "/home/agent"
# Files the candidate lines expect in the project directory (harmless content).
SETUP_FILES = {
    "f": "a\nb\n", "x": "x\n", "a.txt": "1 a\n2 b\n", "b.txt": "1 a\n3 c\n", "notes.md": "# notes\n",
    "README.md": "# readme\n", "data.txt": "k 1\nk 2\n", "data.csv": "a,b\n", "config.ini": "# c\nk=v\n",
    "app.log": "start\nerror\nend\n", "package.json": '{"version": "1.0.0", "dependencies": {"a": "1"}}\n',
    "src/app.py": "def main():\n    pass\n", "old.py": "a = 1\n", "new.py": "a = 2\n", "list.txt": "a\nb\n",
    ".env.example": "KEY=\n", "a.bin": "\x00\x01", "b.bin": "\x00\x02",
}
VALUE = "1"
# What follows the option, for programs whose first operand is not a file.
TAILS = {"sed": "p f", "gsed": "p f", "date": "", "awk": "'{print}' f", "gawk": "'{print}' f", "mawk": "'{print}' f",
         "nawk": "'{print}' f", "jq": ". package.json", "grep": "a f", "egrep": "a f", "fgrep": "a f", "rg": "a f",
         "ag": "a f", "printf": "%s x", "echo": "x", "seq": "3", "tr": "a b < f", "expr": "1 + 1"}


def classifier() -> ShellClassifier:
    paths = PathPolicy(base_dir=PROJECT, home=HOME, resolver=posixpath.normpath, case_insensitive=False)
    return ShellClassifier(paths=paths)


def option_lines() -> Iterable[str]:
    """`prog OPTION [VALUE] f` for every option with a harmless role in a SHELL_SAFE table."""
    for name, program in sorted(PROGRAMS.items()):
        if program.grammar is None or program.effect is not EffectClass.SHELL_SAFE or program.subcommands:
            continue
        if program.command_at is not None or name in ("yes", "tail", "less", "more", "watch", "sleep", "ps"):
            continue  # wrappers run a command; these never end or page
        for opt in program.grammar.options:
            if opt.role not in ("", "pattern", "recursive"):
                continue
            spelling = max(opt.names, key=len)
            if opt.arity == "required":
                word = f"{spelling}={VALUE}" if spelling.startswith("--") else f"{spelling} {VALUE}"
            else:
                word = spelling
            yield f"{name} {word} {TAILS.get(name, 'f')}"


# Programs that run others as part of what they are: egrep/fgrep are scripts around grep, man formats
# pages with a groff pipeline and a pager. Their helpers are expected, not surprises.
_MAN = {"nroff", "groff", "troff", "tbl", "preconv", "col", "grotty", "grops", "locale", "whatis", "apropos", "less",
        "pager", "zsoelim", "eqn", "pic", "man", "manconv", "gzip", "mandb", "catman", "sh"}
HELPERS = {
    "egrep": {"grep"}, "fgrep": {"grep"}, "zcat": {"gzip"}, "bzcat": {"bzip2"}, "xzcat": {"xz"}, "gunzip": {"gzip"},
    "man": _MAN,
    "lsb_release": {"getopt", "cut", "tr", "sed", "grep", "head", "python3", "cat"},
    # locale decompresses the installed character maps it lists (`locale -m` reads /usr/share/i18n/charmaps/*.gz)
    "locale": {"gzip"},
    # npm, npx and the other node package managers are scripts that node runs
    "npm": {"node"}, "npx": {"node"}, "yarn": {"node"}, "pnpm": {"node"},
    # git's shell-script commands (submodule) and `git help`, which runs man
    "git": {"git-submodule", "basename", "sed", "gettext", "envsubst", "uname", "git"} | _MAN,
}
# Scratch files programs keep for themselves, not named by the line: the JVM's performance data, man's page
# cache, groff's temporary files. A SHELL_SAFE line may leave these; anything else it writes is a surprise.
INCIDENTAL_WRITES = ("/tmp/hsperfdata_", "/proc/self/coredump_filter", "/var/cache/man/", "/tmp/groff")
# Not files: the terminal and the standard streams.
STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/1", "/dev/fd/2")


def seen_programs(result: CommandClassification) -> set[str]:
    seen = {posixpath.basename(v.words[0]) for v in result.commands if v.words}
    return seen.union(*(HELPERS.get(name, set()) for name in list(seen)))


def _incidental(path: str) -> bool:
    return path in STREAMS or path.startswith(INCIDENTAL_WRITES)


def surprises(report: dict[str, Any], result: CommandClassification) -> list[str]:
    """What the trace shows that a SHELL_SAFE line must not do."""
    found: list[str] = []
    for w in report.get("writes", []):
        if not _incidental(w["path"]):
            found.append(f"writes {w['path']}" + ("" if w.get("ok") else " (refused by the sandbox)"))
    for r in report.get("removes", []):
        found.append(f"{r['call']} {' '.join(r['paths'])}")
    for d in report.get("created_dirs", []):
        if not _incidental(d["path"]):
            found.append(f"mkdir {d['path']}")
    for link in report.get("links", []):
        found.append(f"links {' '.join(link['paths'])}")
    for c in report.get("chmods", []):
        found.append(f"{c['call']} {c['path']}")
    for c in report.get("connects", []):
        found.append(f"connect {c}")
    seen = seen_programs(result)
    for e in report.get("execs", []):
        base = posixpath.basename(e["program"])
        if base not in seen and e.get("ok"):
            found.append(f"runs {e['program']} ({' '.join(e.get('argv', []))})")
    return found


def observe(observer: str, lines: list[str], setup: str, timeout: float) -> list[dict[str, Any]]:
    """Run each line through the observer; one report per line."""
    reports: list[dict[str, Any]] = []
    for line in lines:
        p = subprocess.run([observer, "--timeout", str(timeout), "--setup", setup, line], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        try:
            reports.append(json.loads(p.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            reports.append({"cmd": line, "error": (p.stderr or p.stdout)[-300:]})
    return reports


def check_attempts(paths: list[str]) -> int:
    """Red-team attempts (`[family]` headers, then EXPECTED<TAB>LINE[<TAB>why], `json:` lines as in the corpus):
    how many lines each family tried and how many the classifier puts below their expected class. No sandbox."""
    sc = classifier()
    tried: dict[str, int] = {}
    low: list[tuple[str, str, str, str]] = []
    for path in paths:
        family = ""
        for raw in Path(path).read_text(encoding="utf-8").splitlines():
            if not raw.strip() or raw.startswith("#"):
                continue
            if raw.startswith("[") and raw.endswith("]"):
                family = raw[1:-1]
                continue
            expected, line = raw.split("\t")[:2]
            text = json.loads(line[5:]) if line.startswith("json:") else line
            result = sc.classify(text)
            tried[family] = tried.get(family, 0) + 1
            if result.effect.rank < EffectClass(expected).rank or (expected != "SHELL_SAFE" and
                                                                   result.effect is EffectClass.SHELL_SAFE):
                low.append((family, expected, result.effect.value, text))
    for family, n in tried.items():
        print(f"{family:<40} tried {n:4}  below the expected class {sum(1 for x in low if x[0] == family):4}")
    print(f"attempts: {sum(tried.values())}; below the expected class: {len(low)}")
    for family, expected, got, text in low:
        print(f"  [{family}] expected {expected}, got {got}: {text!r}")
    return 1 if low else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", action="append", default=[],
                    help="red-team attempts to classify only (no sandbox): report lines below their expected class")
    ap.add_argument("--observer", default=DEFAULT_OBSERVER, help="the sandbox runner (observe-command)")
    ap.add_argument("--all", action="store_true", help="run every candidate, not only SHELL_SAFE ones")
    ap.add_argument("--lines", action="append", default=[], help="a file of extra candidate lines")
    ap.add_argument("--no-options", action="store_true", help="skip the per-option lines")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--report", help="write every flagged line with its trace to this JSON file")
    a = ap.parse_args()
    if a.attempts:
        return check_attempts(a.attempts)
    if not os.path.exists(a.observer) or os.geteuid() != 0 or not shutil.which("bwrap"):
        print(f"differential_check: needs root, bubblewrap, strace and the observer {a.observer}", file=sys.stderr)
        return 2
    candidates = [c.line for c in load("hostile.tsv") + load("benign.tsv")]
    if not a.no_options:
        candidates += list(option_lines())
    for extra in a.lines:
        candidates += [line for line in Path(extra).read_text(encoding="utf-8").splitlines() if line.strip()]
    sc = classifier()
    classified = [(line, sc.classify(line)) for line in dict.fromkeys(candidates)]
    to_run = [(line, r) for line, r in classified if a.all or r.effect is EffectClass.SHELL_SAFE]
    with tempfile.TemporaryDirectory(prefix="differential-") as setup:
        for rel, content in SETUP_FILES.items():
            path = Path(setup) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        reports = observe(a.observer, [line for line, _ in to_run], setup, a.timeout)
    flagged = []
    for (line, result), report in zip(to_run, reports):
        if result.effect is not EffectClass.SHELL_SAFE:
            continue
        found = surprises(report, result)
        if found or "error" in report:
            flagged.append({"line": line, "surprises": found, "report": report})
    safe = sum(1 for _, r in classified if r.effect is EffectClass.SHELL_SAFE)
    print(f"candidates classified: {len(classified)}; SHELL_SAFE: {safe}; run in the sandbox: {len(to_run)}; "
          f"SHELL_SAFE lines with a write, exec, connect or error: {len(flagged)}")
    for item in flagged:
        print(f"  {shlex.quote(item['line'])}: {'; '.join(item['surprises']) or item['report'].get('error')}")
    if a.report:
        Path(a.report).write_text(json.dumps(flagged, indent=2), encoding="utf-8")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
