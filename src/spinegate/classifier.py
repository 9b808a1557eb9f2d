"""EffectClassifier: what a call would do. Pure: no clock, no I/O, no randomness.

The declared effect comes from the manifest entry. Where the entry asks for
it (v1.1 argument rules), the call's arguments refine it:

- `command_argument`: the argument is a shell command line, classified by
  `ShellClassifier` (parsed, every part looked through, the most restrictive
  part wins);
- `path_arguments`: the arguments are paths the call writes, normalised and
  matched by `PathPolicy` (restricted patterns, writable roots).

The effective effect is the most restrictive of the declared and the derived
ones, so it is never less restrictive than the declaration.

The one exception to purity is the path resolver (symlinks live on disk): it
is injected into `PathPolicy` (default `os.path.realpath`) and called only
for entries with argument rules. Entries without argument rules cost one
attribute check on top of the v1.0 lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .decision import ToolCall
from .effects import EffectClass, most_restrictive
from .paths import PathError, PathPolicy, Resolver
from .shell import ShellClassifier

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


class EffectClassifier:
    """Classifies a call against its manifest entry.

    `paths` and `shell` carry the manifest's v1.1 path and shell settings; use
    `EffectClassifier.for_manifest(manifest)` to build them from a manifest.
    When absent they are built with defaults the first time an entry needs them.
    """

    def __init__(self, *, paths: PathPolicy | None = None, shell: ShellClassifier | None = None) -> None:
        self._paths = paths if paths is not None else (shell.paths if shell is not None else None)
        self._shell = shell
        # Plain entries always classify the same way: one frozen Classification per
        # entry, keyed by id and checked by identity (the entry is kept alive here).
        self._plain: dict[int, tuple["FunctionEntry", Classification]] = {}

    @classmethod
    def for_manifest(cls, manifest: "Manifest", *, base_dir: str | None = None, resolver: Resolver | None = None,
                     home: str | None = None, case_insensitive: bool | None = None) -> "EffectClassifier":
        """A classifier with the manifest's `paths` and `shell` settings.

        `base_dir` (default: the manifest's `paths.base_dir`, else the current
        directory) anchors relative paths; `resolver` resolves symlinks
        (default `os.path.realpath`).
        """
        ps, ss = manifest.paths, manifest.shell
        if not any(e.has_argument_rules for e in manifest.functions) and ps is None and ss is None:
            return cls()
        paths = PathPolicy(
            base_dir=base_dir if base_dir is not None else (ps.base_dir if ps is not None else None),
            restricted=ps.restricted if ps is not None else (),
            writable_roots=ps.writable_roots if ps is not None else None,
            resolver=resolver, home=home, case_insensitive=case_insensitive,
        )
        shell = ShellClassifier(allow=ss.allow if ss is not None else (), deny=ss.deny if ss is not None else (),
                                paths=paths)
        return cls(paths=paths, shell=shell)

    @property
    def paths(self) -> PathPolicy:
        if self._paths is None:
            self._paths = PathPolicy()
        return self._paths

    @property
    def shell(self) -> ShellClassifier:
        if self._shell is None:
            self._shell = ShellClassifier(paths=self.paths)
        return self._shell

    def classify(self, call: ToolCall, entry: "FunctionEntry | None") -> Classification:
        if entry is None:
            return Classification(None, None, "tool not in the manifest")
        cached = self._plain.get(id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
        declared = entry.effect_class
        if entry.command_argument is None and not entry.path_arguments:
            result = Classification(declared, declared, f"declared {declared.value} in the manifest")
            if len(self._plain) < 4096:
                self._plain[id(entry)] = (entry, result)
            return result
        return self._refine(call, entry, declared)

    # -- argument rules ---------------------------------------------------------------

    def _refine(self, call: ToolCall, entry: "FunctionEntry", declared: EffectClass) -> Classification:
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

        if entry.command_argument is not None:
            name = entry.command_argument
            if name not in arguments:
                return Classification(None, declared, f"the command argument {name!r} is missing")
            result = self.shell.classify(arguments[name], roots=roots)
            command = result.command
            explanation = result.explain()
            derived.append((result.effect, result.rule))
            targets.extend(result.write_targets)
            outside.extend(result.outside_roots)
            denied = result.denied_programs

        for name in entry.path_arguments:
            value: Any = arguments.get(name)
            if value is None:
                continue  # an optional path argument left out: nothing is written there
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, (list, tuple)) or not values:
                return Classification(None, declared, f"path argument {name!r} is {type(value).__name__}, "
                                                      "not a path or a list of paths", command=command)
            for raw in values:
                try:
                    check = paths.check(raw, roots=roots)
                except PathError as exc:
                    return Classification(None, declared, f"path argument {name!r}: {exc}", command=command)
                targets.append(check.normalised)
                if check.restricted_by is not None:
                    derived.append((EffectClass.RESTRICTED_WRITE,
                                    f"path argument {name!r} writes {check.normalised}, which matches restricted "
                                    f"pattern {check.restricted_by!r}"))
                elif not check.inside_roots:
                    outside.append(check.normalised)
                    derived.append((EffectClass.SHELL_MUTATING, f"path argument {name!r} writes {check.normalised}, "
                                                                "outside the writable roots"))
                else:
                    derived.append((EffectClass.SCOPED_WRITE,
                                    f"path argument {name!r} writes {check.normalised} inside the writable roots"))

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
                              tuple(dict.fromkeys(outside)), denied, exceeds, strongest[0], explanation)
