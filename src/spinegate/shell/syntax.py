"""Parsing a command line with tree-sitter-bash, and refusing what the parser may have misread.

tree-sitter-bash parses the whole bash grammar (`[[ ]]`, `case`, `$(( ))`,
C-style `for`, arrays, `select`, here-documents) and exposes quoting and
expansions as nodes. It is an error-recovering parser, so a tree is only
trusted when:

- it has no ERROR or MISSING node (`has_error`);
- every byte of the line lies inside a token the tree accounts for, or is
  blank, a comment, or a backslash-newline (nothing was skipped);
- (in the classifier) nodes of a command that touch are decoded as one
  word, as bash reads them, however the parser split them.

Anything else is a `SyntaxProblem`, which the classifier turns into
SHELL_DANGEROUS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Tree

_LANGUAGE = Language(tree_sitter_bash.language())

#: Characters that may sit between tokens without being part of one.
_BLANKS = frozenset(" \t\n\r")


class SyntaxProblem(Exception):
    """The line cannot be parsed, or the parse cannot be trusted."""


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed line: its text, its UTF-8 bytes, the tree and its root node.

    The tree is kept alive here: its nodes point into memory the tree owns.
    """

    text: str
    data: bytes
    tree: Tree
    root: Node

    def text_of(self, node: Node) -> str:
        """The source text of a node (tree-sitter positions are byte offsets)."""
        return self.data[node.start_byte:node.end_byte].decode("utf-8", errors="surrogateescape")


def parse(text: str) -> Source:
    """Parse `text` as bash, or raise SyntaxProblem saying why the parse cannot be trusted."""
    data = text.encode("utf-8", errors="surrogateescape")
    parser = Parser(_LANGUAGE)
    to_parse = _astral_as_letters(text).encode("utf-8", errors="surrogateescape")
    tree = parser.parse(to_parse)
    root = tree.root_node
    if root.has_error and _READ_WRITE in to_parse:
        tree = _with_read_write_redirections(parser, to_parse, data)
        root = tree.root_node
    if root.has_error:
        raise SyntaxProblem(f"not valid bash syntax near {_first_error(root, data)}")
    source = Source(text, data, tree, root)
    _check_coverage(source)
    return source


def _astral_as_letters(text: str) -> str:
    """The text with each character above U+FFFF replaced by four ASCII letters (the same UTF-8 length).

    tree-sitter-bash 0.25's scanner corrupts memory on such characters (found by
    the property tests: a crash after a few thousand lines holding them). To
    bash they are ordinary word characters, as letters are, so the parse is the
    same; node offsets still index the original bytes, which the words are
    decoded from.
    """
    if all(ord(c) < 0x10000 for c in text):
        return text
    return "".join("xxxx" if ord(c) >= 0x10000 else c for c in text)


#: bash's read-write redirection (`3<>file`), which tree-sitter-bash 0.25 does not know, and the
#: redirection of the same length it parses in the same shape (`[n]OP WORD`).
_READ_WRITE, _SAME_SHAPE = b"<>", b">|"


def _with_read_write_redirections(parser: Parser, to_parse: bytes, data: bytes) -> Tree:
    """The tree of a line whose `<>` operators tree-sitter cannot parse, read as bash reads them.

    A `<>` is parsed as `>|` (same length, so byte offsets still index the
    original text, whose `<>` the classifier reads as the operator). The pairs
    that become a redirection operator of their own are kept replaced, the
    others (inside a quoted string, a longer operator) are put back, and the
    line is parsed again: the tree is used only when it has no error and each
    kept pair is still an operator. Anything else stays unparsable.
    """
    places: list[int] = []
    at = to_parse.find(_READ_WRITE)
    while at >= 0:
        places.append(at)
        at = to_parse.find(_READ_WRITE, at + len(_READ_WRITE))
    kept = _operators_at(parser.parse(to_parse.replace(_READ_WRITE, _SAME_SHAPE)), places)
    text = bytearray(to_parse)
    for p in kept:
        text[p:p + 2] = _SAME_SHAPE
    tree = parser.parse(bytes(text))
    if not kept or tree.root_node.has_error or _operators_at(tree, kept) != kept:
        raise SyntaxProblem(f"`<>` at byte {places[0]} is not a redirection the parser can place "
                            f"({data[places[0]:places[0] + 20].decode('utf-8', errors='replace')!r})")
    return tree


def _operators_at(tree: Tree, places: list[int]) -> list[int]:
    """The places where the tree holds a redirection operator token (of a file redirection)."""
    operators = {n.start_byte for n in walk(tree.root_node) if n.type == ">|" and n.child_count == 0
                 and n.parent is not None and n.parent.type == "file_redirect"}
    return [p for p in places if p in operators]


def _first_error(root: Node, data: bytes) -> str:
    for node in walk(root):
        if node.is_error or node.is_missing:
            snippet = data[node.start_byte:node.end_byte + 10].decode("utf-8", errors="replace")
            what = "a missing token" if node.is_missing else "an unexpected token"
            return f"{what} at byte {node.start_byte} ({snippet[:30]!r})"
    return "an unknown position"


def walk(node: Node) -> Iterator[Node]:
    """Every node below `node` (itself included), depth first, without recursion."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _check_coverage(source: Source) -> None:
    """Every byte is inside a leaf token, or blank, a comment or a line continuation."""
    data = source.data
    covered = bytearray(len(data))
    for node in walk(source.root):
        if node.child_count == 0 or node.type in ("comment", "heredoc_content", "string_content", "raw_string",
                                                  "heredoc_body", "regex", "extglob_pattern"):
            covered[node.start_byte:node.end_byte] = b"\x01" * (node.end_byte - node.start_byte)
    i = 0
    n = len(data)
    while i < n:
        if covered[i]:
            i += 1
            continue
        ch = chr(data[i])
        if ch in _BLANKS:
            i += 1
            continue
        if ch == "\\" and i + 1 < n and data[i + 1:i + 2] == b"\n":
            i += 2
            continue
        raise SyntaxProblem(f"the parser skipped {data[i:i + 20].decode('utf-8', errors='replace')!r} at byte {i}")


__all__ = ["parse", "Source", "SyntaxProblem", "walk"]
