"""The signed-off manifest: which tools exist, what they do, whether they may run. Pure.

Frozen pydantic models of the Spine v1.0.0 manifest and spinegate's additive
v1.1 fields, built from manifest text (`parse_raw_manifest`,
`manifest_from_raw`) with `manifest_hash` verified. Reading and sealing
files is `manifest_file`'s; the gate re-checks on every call that neither
the file (`manifest_watch`) nor what the object holds in memory
(`Manifest.unchanged`) has changed since.
"""

from __future__ import annotations

import copy
import json
import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .canonical import RawNumber, manifest_canonical, manifest_hash
from .effects import EffectClass, Posture
from .errors import ManifestError, ManifestHashMismatch, ManifestUnreadable

SUPPORTED_MAJOR = "1"
_DICT_OF = operator.attrgetter("__dict__")


def _from_wire(enum: Any, field: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum)
            raise ValueError(f"unknown {field} {value!r}; expected one of {allowed}") from None
    return value


class FunctionEntry(BaseModel):
    """One declared tool. `plugin` is null for tools that have none (LangChain, OpenAI)."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    # null for tools without a plugin; "" is refused (it would never match a plugin-less lookup)
    plugin: str | None = Field(default=None, min_length=1)
    function: str = Field(min_length=1)
    effect_class: EffectClass
    allowed: bool
    reason: str | None = None
    max_calls_per_session: int | None = Field(default=None, ge=0)
    # v1.1 (additive): write the call's argument values into the receipt's
    # `command` field. Off by default, so secrets never reach the log.
    record_arguments: bool = False

    # v1.1 (additive): write the call's output (truncated) into outcome receipts.
    record_output: bool = True
    # v1.1 (additive): a person (the gate's approver) must confirm each call.
    requires_confirmation: bool = False
    # v1.1 (additive): argument rules. `command_argument` names the argument
    # holding a shell command line; `path_arguments` name arguments holding
    # paths the call writes; `writable_roots` overrides the manifest's roots
    # for this entry; `exceed_declared` says what happens when the arguments
    # show a more restrictive effect than `effect_class` declares.
    command_argument: str | None = Field(default=None, min_length=1)
    path_arguments: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False)] = ()
    # v1.1 (additive): arguments holding paths the call reads; reading a secret is SHELL_DANGEROUS.
    read_path_arguments: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False)] = ()
    writable_roots: Annotated[tuple[Annotated[str, Field(min_length=1)], ...] | None, Field(strict=False)] = None
    exceed_declared: Literal["deny", "escalate", "allow"] = "deny"

    @field_validator("effect_class", mode="before")
    @classmethod
    def _effect_from_wire(cls, value: Any) -> Any:
        return _from_wire(EffectClass, "effect_class", value)

    @property
    def has_argument_rules(self) -> bool:
        """True when the call's arguments refine its effect (v1.1 argument rules)."""
        return self.command_argument is not None or bool(self.path_arguments) or bool(self.read_path_arguments)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.plugin, self.function)

    @property
    def qualified_name(self) -> str:
        return qualified_name(self.plugin, self.function)


def qualified_name(plugin: str | None, function: str) -> str:
    """`Plugin.Function`, or just `function` for tools without a plugin."""
    return f"{plugin}.{function}" if plugin else function


_Names = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False)]


class BudgetSettings(BaseModel):
    """v1.1 `budgets`: session limits (null or absent: no limit)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    max_steps: int | None = Field(default=None, ge=0)
    max_commands: int | None = Field(default=None, ge=0)
    max_writes: int | None = Field(default=None, ge=0)


class RiskSettings(BaseModel):
    """v1.1 `risk`: risk added per denied call by effect class, and the posture thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    deltas: dict[EffectClass, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    elevated_at: float = Field(default=0.3, gt=0, allow_inf_nan=False)
    lockdown_at: float = Field(default=0.5, gt=0, allow_inf_nan=False)

    @field_validator("deltas", mode="before")
    @classmethod
    def _deltas_from_wire(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {_from_wire(EffectClass, "risk.deltas key", k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> RiskSettings:
        if self.lockdown_at < self.elevated_at:
            raise ValueError(f"lockdown_at ({self.lockdown_at}) must not be below elevated_at ({self.elevated_at})")
        return self


class ShellRuleSettings(BaseModel):
    """One `shell.rules` entry: an argv pattern and the class a matching simple command gets."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    argv: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(strict=False, min_length=1)]
    effect_class: EffectClass

    @field_validator("effect_class", mode="before")
    @classmethod
    def _effect_from_wire(cls, value: Any) -> Any:
        return _from_wire(EffectClass, "effect_class", value)

    @field_validator("argv")
    @classmethod
    def _argv_shape(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if value[0] in ("*", "**"):
            raise ValueError('argv must start with a program name, not "*" or "**"')
        if "**" in value[:-1]:
            raise ValueError('"**" may only be the last element of argv')
        return value


class ShellSettings(BaseModel):
    """v1.1 `shell`: argv `rules`, programs treated as read-only (`allow`) or refused outright (`deny`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    allow: _Names = ()
    deny: _Names = ()
    rules: Annotated[tuple[ShellRuleSettings, ...], Field(strict=False)] = ()


class PathSettings(BaseModel):
    """v1.1 `paths`: extra restricted patterns and the default writable roots."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    restricted: _Names = ()
    writable_roots: _Names | None = None
    base_dir: str | None = Field(default=None, min_length=1)


class Manifest(BaseModel):
    """A validated, hash-verified manifest."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    version: str
    posture: Posture
    functions: tuple[FunctionEntry, ...]
    manifest_hash: str | None = None
    # v1.1 (additive, all optional): session budgets, risk settings, shell and path rules.
    budgets: BudgetSettings | None = None
    risk: RiskSettings | None = None
    shell: ShellSettings | None = None
    paths: PathSettings | None = None
    # v1.1 (additive): globs of secret paths calls may read (e.g. a project's own `config/dev.env`).
    readable_secrets: _Names = ()

    _source: str = PrivateAttr(default="<memory>")
    _index: dict[tuple[str | None, str], int] = PrivateAttr(default_factory=dict)
    _snapshot: list[Any] = PrivateAttr(default_factory=list)
    _owners: tuple[BaseModel, ...] = PrivateAttr(default=())

    @field_validator("posture", mode="before")
    @classmethod
    def _posture_from_wire(cls, value: Any) -> Any:
        return _from_wire(Posture, "posture", value)

    @field_validator("version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"version must look like 1.0.0, got {value!r}")
        if parts[0] != SUPPORTED_MAJOR:
            raise ValueError(f"version {value} is not supported (this reader understands 1.x.y)")
        return value

    def model_post_init(self, __context: Any) -> None:
        index: dict[tuple[str | None, str], int] = {}
        for i, entry in enumerate(self.functions):
            if entry.key in index:
                first = index[entry.key]
                raise ManifestError(
                    f"duplicate entry for {entry.qualified_name!r} (first declared at functions[{first}])",
                    location=f"functions[{i}] ({entry.qualified_name})",
                    fix="declare each (plugin, function) pair once",
                )
            index[entry.key] = i
        self._index = index
        self._owners = (self, *self.functions,
                        *(x for x in (self.budgets, self.risk, self.shell, self.paths) if x is not None),
                        *(self.shell.rules if self.shell is not None else ()))
        self._snapshot = self._state()

    # -- lookup ------------------------------------------------------------

    @property
    def source(self) -> str:
        return self._source

    def lookup(self, plugin: str | None, function: str) -> FunctionEntry | None:
        """The entry declared for exactly (plugin, function), or None."""
        # Hot path: pydantic's private-attribute slot, set once the model is built (typed Optional by pydantic).
        i = self.__pydantic_private__["_index"].get((plugin, function))  # type: ignore[index]
        if i is None:
            return None
        entry: FunctionEntry = self.functions[i]
        if entry.plugin != plugin or entry.function != function:
            return None  # the index was tampered with; integrity check will say so
        return entry

    def __iter__(self) -> Iterator[FunctionEntry]:  # type: ignore[override]  # entries, not (field, value) pairs
        return iter(self.functions)

    # -- integrity ---------------------------------------------------------

    def _live_state(self) -> list[Any]:
        """The mutable parts of this object, shallowly: the model dicts and the lookup index."""
        private = self.__pydantic_private__  # a slot: much cheaper than pydantic's private-attribute lookup
        assert private is not None  # set once the model is built
        return [*map(_DICT_OF, private["_owners"]), private["_index"]]

    def _state(self) -> list[Any]:
        # A deep copy, so that in-place changes to nested lists or dicts show up too;
        # strings, numbers and enums are shared, which keeps the comparison cheap.
        return copy.deepcopy(self._live_state(), {id(o): o for o in (*self._owners, self.functions)})

    def unchanged(self) -> bool:
        """True while what this object holds is what was verified at load.

        Frozen models refuse assignment, but `object.__setattr__` or an edit of a
        nested list gets past that; comparing with a deep snapshot taken at load
        catches both, in time linear in the manifest's size.
        """
        snapshot: list[Any] = self.__pydantic_private__["_snapshot"]  # type: ignore[index]  # set once built
        return self._live_state() == snapshot


# --------------------------------------------------------------------------
# Reading


def _reject_duplicate_keys(source: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for k, v in pairs:
            if k in seen:
                raise ManifestUnreadable(f"duplicate key {k!r} in a JSON object", source=source,
                                    fix="remove the repeated key")
            seen[k] = v
        return seen

    return hook


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


#: Deepest nesting a manifest may have (real ones need 4); deeper input would
#: exhaust the recursion limit of validation and hashing.
MAX_DEPTH = 64


def parse_raw_manifest(text: str, *, source: str = "<memory>") -> dict[str, Any]:
    """Parse manifest JSON keeping numbers as written (for the hash)."""
    try:
        raw = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys(source),
            parse_float=RawNumber,
            parse_int=RawNumber,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise ManifestUnreadable(
            f"not valid JSON: {exc.msg}", source=source,
            location=f"line {exc.lineno}, column {exc.colno}", fix="correct the JSON syntax",
        ) from None
    except RecursionError:
        raise ManifestUnreadable("not valid JSON: nested too deeply to parse", source=source,
                                 fix="a manifest is a flat list of entries; remove the deep nesting") from None
    except ValueError as exc:
        if isinstance(exc, ManifestError):
            raise
        raise ManifestUnreadable(f"not valid JSON: {exc}", source=source, fix="correct the JSON syntax") from None
    if not isinstance(raw, dict):
        raise ManifestUnreadable("the manifest must be a JSON object", source=source,
                            fix='start from {"version": "1.0.0", "posture": "NORMAL", "functions": []}')
    if _depth_exceeds(raw, MAX_DEPTH):
        raise ManifestUnreadable(f"JSON nested more than {MAX_DEPTH} levels deep", source=source,
                                 fix="a manifest is a flat list of entries; remove the deep nesting")
    return raw


def _depth_exceeds(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """True when `value` nests lists or objects more than `limit` levels deep (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, RawNumber):
        return value.value()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _describe_location(raw: Mapping[str, Any], loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "functions" and isinstance(loc[1], int):
        i = loc[1]
        name = ""
        functions = raw.get("functions")
        if isinstance(functions, list) and i < len(functions) and isinstance(functions[i], dict):
            f = functions[i]
            plugin, function = f.get("plugin"), f.get("function")
            if isinstance(function, str):
                name = f" ({qualified_name(plugin if isinstance(plugin, str) else None, function)})"
        rest = ".".join(str(p) for p in loc[2:])
        return f"functions[{i}]{name}" + (f" field {rest!r}" if rest else "")
    return ".".join(str(p) for p in loc) or "<top level>"


def manifest_from_raw(raw: dict[str, Any], *, source: str = "<memory>", verify_hash: bool = True) -> Manifest:
    """Validate a raw manifest document and, unless told not to, verify its hash."""
    plain = _plain(raw)
    if isinstance(plain.get("functions"), list):
        plain["functions"] = tuple(plain["functions"])
    try:
        manifest = Manifest.model_validate(plain)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _describe_location(raw, tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own message
            if err["type"] == "enum":
                expected = err.get("ctx", {}).get("expected", "")
                msg = f"unknown value {err.get('input')!r}; expected one of {expected}"
            problems.append(f"{where}: {msg}")
        first_loc = _describe_location(raw, tuple(exc.errors()[0]["loc"]))
        raise ManifestError(
            "invalid manifest: " + "; ".join(problems), source=source, location=first_loc,
            fix="correct the field as the message says; samples/manifest.json shows the v1.0.0 format and "
                "docs/policy.md the v1.1 fields",
        ) from None
    except ManifestError as exc:
        raise ManifestError(exc.detail, source=source, location=exc.location, fix=exc.fix) from None
    if verify_hash:
        computed = manifest_hash(raw)
        if manifest.manifest_hash != computed:
            raise ManifestHashMismatch(source=source, stored=manifest.manifest_hash, computed=computed)
    manifest._source = source
    return manifest


def compute_text_hash(text: str, *, source: str = "<memory>") -> str:
    """The manifest hash that manifest text should carry (its stored `manifest_hash` aside)."""
    return manifest_hash(parse_raw_manifest(text, source=source))


def _pretty(value: Any, indent: int = 0) -> str:
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_pretty(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [f"{pad}{_pretty(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * indent + "]"
    return manifest_canonical(value)


def sealed_text(text: str, *, source: str = "<memory>") -> tuple[str, str]:
    """(manifest_hash, sealed text) for manifest text: validated first, so a broken manifest is never sealed.

    Key order and number spelling are kept; the text is re-indented.
    """
    raw = parse_raw_manifest(text, source=source)
    digest = manifest_hash(raw)
    raw["manifest_hash"] = digest
    manifest_from_raw(raw, source=source)  # validates; raises on any problem
    return digest, _pretty(raw) + "\n"


__all__ = [
    "FunctionEntry", "Manifest", "BudgetSettings", "RiskSettings", "ShellSettings", "ShellRuleSettings",
    "PathSettings",
    "manifest_from_raw", "parse_raw_manifest", "compute_text_hash", "sealed_text", "qualified_name",
]
