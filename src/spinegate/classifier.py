"""EffectClassifier: what a call would do. Pure: no clock, no I/O, no randomness.

The declared effect comes from the manifest entry. Where the entry asks for
it (v1.1 argument rules), the call's arguments refine it:

- `command_argument`: the argument is a shell command line, classified by
  `ShellClassifier` (parsed, every word decoded, every program read with its
  own option grammar; the most restrictive part wins);
- `path_arguments`: the arguments are paths the call writes, normalised and
  matched by `PathPolicy` (restricted and protected patterns, writable roots);
- `read_path_arguments`: the arguments are paths (or globs) the call reads;
  a secret among them is SHELL_DANGEROUS unless `readable_secrets` allows it.

The effective effect is the most restrictive of the declared and the derived
ones, so it is never less restrictive than the declaration.

Where the agent works (`PathContext`: working directory, home, case folding,
the gate's own files) is a value built once at the edge and passed in; the
one remaining edge is the path resolver (symlinks live on disk), injected
into `PathPolicy` and called only for entries with argument rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .decision import ToolCall
from .effects import EffectClass, most_restrictive
from .paths import PathContext, PathError, PathPolicy, Resolver
from .shell import ShellClassifier, ShellRule

if TYPE_CHECKING:  # pragma: no cover
    from .manifest import FunctionEntry, Manifest


@dataclass(frozen=True, slots=True)
class Classification:
    """The effect of one call. `effect` is None when it could not be classified.

    `rule` says which rule (or which part of a command line) decided.
    `target_paths` are the normalised paths the call writes; `outside_roots`
    those of them outside the writable roots; `denied_programs` programs of a
    command line on the manifest's deny list; `exceeds_declared` is True when
    the arguments show a more restrictive effect than the entry declares.
    """

    effect: EffectClass | None
    declared: EffectClass | None
    rule: str
    target_paths: tuple[str, ...] = ()
    command: str | None = None
    outside_roots: tuple[str, ...] = ()
    denied_programs: tuple[str, ...] = ()
    exceeds_declared: bool = False
    derived: EffectClass | None = None
    explanation: str | None = None
    read_secrets: tuple[str, ...] = ()


class EffectClassifier:
    """Classifies a call against its manifest entry.

    `paths` and `shell` carry the manifest's v1.1 path and shell settings; use
    `EffectClassifier.for_manifest(manifest)` to build them from a manifest.
    When absent they are built with defaults the first time an entry needs them.
    """

    def __init__(self, *, paths: PathPolicy | None = None, shell: ShellClassifier | None = None,
                 context: PathContext | None = None) -> None:
        self._paths = paths if paths is not None else (shell.paths if shell is not None else None)
        self._shell = shell
        self._context = context
        # Plain entries always classify the same way: one frozen Classification per
        # entry, keyed by id and checked by identity (the entry is kept alive here).
        self._plain: dict[int, tuple[FunctionEntry, Classification]] = {}

    @classmethod
    def for_manifest(cls, manifest: Manifest, *, base_dir: str | None = None, resolver: Resolver | None = None,
                     home: str | None = None, case_insensitive: bool | None = None,
                     context: PathContext | None = None) -> EffectClassifier:
        """A classifier with the manifest's `paths`, `shell` and `readable_secrets` settings.

        `context` says where the agent works (built at the edge by
        `spinegate.workspace.path_context`; without it, `base_dir`, `home` and
        `resolver` must be given); `base_dir` (default: the
        manifest's `paths.base_dir`, else the context's working directory)
        anchors relative paths; `resolver` resolves symlinks (default
        `os.path.realpath`); `home` and `case_insensitive` override the context's.
        """
        ps, ss = manifest.paths, manifest.shell
        if not any(e.has_argument_rules for e in manifest.functions) and ps is None and ss is None:
            return cls(context=context)
        paths = PathPolicy(
            base_dir=base_dir if base_dir is not None else (ps.base_dir if ps is not None else None),
            restricted=ps.restricted if ps is not None else (),
            writable_roots=ps.writable_roots if ps is not None else None,
            resolver=resolver, home=home, case_insensitive=case_insensitive, context=context,
            readable_secrets=manifest.readable_secrets,
        )
        rules = tuple(ShellRule(tuple(r.argv), r.effect_class) for r in ss.rules) if ss is not None else ()
        shell = ShellClassifier(allow=ss.allow if ss is not None else (), deny=ss.deny if ss is not None else (),
                                rules=rules, paths=paths)
        return cls(paths=paths, shell=shell)

    @property
    def paths(self) -> PathPolicy:
        if self._paths is None:
            if self._context is None:
                raise ValueError("classifying arguments needs a PathContext: build the classifier with "
                                 "context=spinegate.workspace.path_context() or paths=PathPolicy(...)")
            self._paths = PathPolicy(context=self._context)
        return self._paths

    @property
    def shell(self) -> ShellClassifier:
        if self._shell is None:
            self._shell = ShellClassifier(paths=self.paths)
        return self._shell

    def classify(self, call: ToolCall, entry: FunctionEntry | None) -> Classification:
        if entry is None:
            return Classification(None, None, "tool not in the manifest")
        cached = self._plain.get(id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
        declared = entry.effect_class
        if not entry.has_argument_rules:
            result = Classification(declared, declared, f"declared {declared.value} in the manifest")
            if len(self._plain) < 4096:
                self._plain[id(entry)] = (entry, result)
            return result
        return self._refine(call, entry, declared)

    # -- argument rules ---------------------------------------------------------------

    def _refine(self, call: ToolCall, entry: FunctionEntry, declared: EffectClass) -> Classification:
        arguments = call.arguments
        if not isinstance(arguments, dict) and not hasattr(arguments, "get"):
            return Classification(None, declared, f"the arguments are {type(arguments).__name__}, not a mapping")
        paths = self.paths
        try:
            roots = paths.roots_for(entry.writable_roots)
        except PathError as exc:
            return Classification(None, declared, f"a writable root of {entry.qualified_name} is invalid: {exc}")
        derived: list[tuple[EffectClass, str]] = []
        targets: list[str] = []
        outside: list[str] = []
        denied: tuple[str, ...] = ()
        command: str | None = None
        explanation: str | None = None
        secrets_seen: tuple[str, ...] = ()

        if entry.command_argument is not None:
            name = entry.command_argument
            if name not in arguments:
                return Classification(None, declared, f"the command argument {name!r} is missing")
            result = self.shell.classify(arguments[name], roots=roots)
            command = result.command
            secrets_seen = result.read_secrets
            explanation = result.explain()
            derived.append((result.effect, result.rule))
            targets.extend(result.write_targets)
            outside.extend(result.outside_roots)
            denied = result.denied_programs

        for name in entry.path_arguments:
            values = _path_values(arguments, name)
            if isinstance(values, str):
                return Classification(None, declared, f"path argument {values}", command=command)
            for raw in values:
                try:
                    check = paths.check(raw, roots=roots)
                except PathError as exc:
                    return Classification(None, declared, f"path argument {name!r}: {exc}", command=command)
                targets.append(check.normalised)
                holder = paths.holds_protected(check.normalised)
                if check.restricted_by is not None:
                    kind = "protected" if check.protected else "restricted"
                    derived.append((EffectClass.RESTRICTED_WRITE,
                                    f"path argument {name!r} writes {check.normalised}, which matches {kind} "
                                    f"pattern {check.restricted_by!r}"))
                elif holder is not None:
                    # a tool that writes (or deletes) a directory holding the gate's or the hosts' files
                    derived.append((EffectClass.RESTRICTED_WRITE,
                                    f"path argument {name!r} writes {check.normalised}, which holds {holder}"))
                elif not check.inside_roots:
                    outside.append(check.normalised)
                    derived.append((EffectClass.SHELL_MUTATING, f"path argument {name!r} writes {check.normalised}, "
                                                                "outside the writable roots"))
                else:
                    derived.append((EffectClass.SCOPED_WRITE,
                                    f"path argument {name!r} writes {check.normalised} inside the writable roots"))

        secrets: list[str] = list(secrets_seen)
        for name in entry.read_path_arguments:
            values = _path_values(arguments, name)
            if isinstance(values, str):
                return Classification(None, declared, f"read path argument {values}", command=command)
            for raw in values:
                try:
                    found = self._read_check(paths, raw)
                except PathError as exc:
                    return Classification(None, declared, f"read path argument {name!r}: {exc}", command=command)
                if found is not None:
                    secrets.append(found[0])
                    derived.append((EffectClass.SHELL_DANGEROUS, f"read path argument {name!r} {found[1]}"))
                else:
                    derived.append((EffectClass.SHELL_SAFE, f"read path argument {name!r} reads no secret"))

        if not derived:
            return Classification(declared, declared, f"declared {declared.value} in the manifest; "
                                                      "no path argument was given", command=command)
        strongest = derived[0]
        for item in derived[1:]:
            if item[0].rank > strongest[0].rank:
                strongest = item
        effect = most_restrictive(declared, strongest[0])
        exceeds = strongest[0].rank > declared.rank
        if exceeds:
            rule = f"{strongest[1]} (more restrictive than the declared {declared.value})"
        else:
            rule = f"declared {declared.value} in the manifest; the arguments show {strongest[0].value}: {strongest[1]}"
        return Classification(effect, declared, rule, tuple(dict.fromkeys(targets)), command,
                              tuple(dict.fromkeys(outside)), denied, exceeds, strongest[0], explanation,
                              tuple(dict.fromkeys(secrets)))

    @staticmethod
    def _read_check(paths: PathPolicy, raw: object) -> tuple[str, str] | None:
        """(path, why) when reading `raw` (a path or a glob) may read a secret; None when it cannot."""
        if not isinstance(raw, str):
            raise PathError(f"a path must be text, not {type(raw).__name__}")
        if any(c in raw for c in "*?["):
            pattern = paths.normalise_glob(raw)
            hit = paths.secret_match(pattern, glob=True)
            return (pattern, f"may read {pattern}, which may match secret pattern {hit!r}") if hit else None
        normalised = paths.normalise(raw)
        hit = paths.secret_match(normalised)
        if hit is not None:
            return normalised, f"reads {normalised}, which matches secret pattern {hit!r}"
        home = paths.normalise("~")
        if (home.rstrip("/") + "/").startswith(normalised.rstrip("/") + "/"):
            return normalised, f"reads {normalised}, which holds the home directory's secrets"
        return None


def _path_values(arguments: Any, name: str) -> list[Any] | str:
    """The values of a path argument (a missing or null one has none), or why it is not a path or a list of them."""
    value = arguments.get(name)
    if value is None:
        return []  # an optional path argument left out: nothing is read or written there
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not values:
        return f"{name!r} is {type(value).__name__}, not a path or a list of paths"
    return list(values)
