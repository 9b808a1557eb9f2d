"""Command-line classification: what a shell command line would do, sound by construction.

Modules, one responsibility each:

- `syntax`: parse with tree-sitter-bash and refuse a parse that cannot be trusted;
- `words`: decode each word exactly as bash passes it (or say it cannot be known);
- `options`: the option grammar engine (getopt_long and its variants);
- `model`, `tables`: each program's class, grammar and operand roles, as data;
- `builtins`, `special`, `special_dev`: bash builtins and the semantics tables cannot express;
- `variables`: assignments that change what later programs run;
- `rules`: the manifest's `shell.rules` argv patterns;
- `classify`: the walk over the line (`ShellClassifier`), `results`: what it returns.
"""

from .classify import MAX_COMMAND_LENGTH, MAX_DEPTH, MAX_WRITE_CHECKS, ShellClassifier
from .results import CommandClassification, CommandView, Finding
from .rules import ShellRule

__all__ = ["ShellClassifier", "CommandClassification", "CommandView", "Finding", "ShellRule",
           "MAX_COMMAND_LENGTH", "MAX_DEPTH", "MAX_WRITE_CHECKS"]
