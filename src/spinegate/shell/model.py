"""The shape of a program's table: its class, option grammar, operand role and sub-commands.

Tables are data (see `tables/`); the classifier interprets them. A program
is SHELL_SAFE only in the forms its table says are harmless: every option
it is given must be in its grammar with a harmless role, and its operands
must be harmless in the role the table gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..effects import EffectClass
from .options import Grammar, grammar

SAFE = EffectClass.SHELL_SAFE
MUTATING = EffectClass.SHELL_MUTATING
NETWORK = EffectClass.NETWORK_ATTEMPT
DANGEROUS = EffectClass.SHELL_DANGEROUS
RESTRICTED = EffectClass.RESTRICTED_WRITE

#: Operand roles the classifier understands.
OPERAND_ROLES = frozenset({
    "read",       # files read (secret check; `-` is stdin)
    "data",       # not paths: text, numbers, names, URLs, revisions
    "write",      # files written or created
    "delete",     # files or directories deleted (a directory holding protected files is protected)
    "copy",       # cp/mv/ln/install: sources read, the last operand (or -t DIR) written
    "mode-write", # chmod/chown: the first operand is data, the rest are written
    "pattern-read",  # grep/rg: the first operand is a pattern unless -e/-f gave one; the rest are read
    "script-read",   # sed/awk/jq: the first operand is the program text unless given by option; the rest read
    "command",    # a wrapper: the operands from `command_at` on are a command it runs
    "none",       # operands are data the program ignores or rejects
})


@dataclass(frozen=True)
class Program:
    """One program (or sub-command) as the classifier models it.

    `effect` is its class with harmless options and operands; `why` says
    what it does. `grammar` None means its options are not read because the
    class is already the worst it can have (its write operands are still
    checked). `command_at` (wrappers) is how many operands precede the
    command it runs. `subcommands` map a sub-command to its own table; the
    parent's grammar reads the options before it. `handler` names extra
    semantics in `special.py` (git config, find, sed scripts, ...).
    """

    effect: EffectClass
    why: str
    grammar: Grammar | None = None
    operands: str = "read"
    command_at: int | None = None
    subcommands: Mapping[str, Program] = field(default_factory=dict)
    no_subcommand: Program | None = None
    handler: str | None = None
    worst: EffectClass = DANGEROUS

    def __post_init__(self) -> None:
        if self.operands not in OPERAND_ROLES:
            raise ValueError(f"unknown operand role {self.operands!r}")


def prog(effect: EffectClass, why: str, spec: str | None = "", *, operands: str = "read", permute: bool = True,
         single_dash_long: bool = False, numeric: str | None = None, plus: str | None = None,
         command_at: int | None = None, subcommands: Mapping[str, Program] | None = None,
         no_subcommand: Program | None = None, handler: str | None = None,
         worst: EffectClass = DANGEROUS) -> Program:
    """A Program from the compact grammar notation (`spec` None: options are not read)."""
    g = None if spec is None else grammar(spec, permute=permute, single_dash_long=single_dash_long,
                                          numeric=numeric, plus=plus)
    return Program(effect, why, g, operands, command_at, dict(subcommands or {}), no_subcommand, handler, worst)


__all__ = ["Program", "prog", "OPERAND_ROLES", "SAFE", "MUTATING", "NETWORK", "DANGEROUS", "RESTRICTED"]
