"""Just enough SPARQL lexing to bind parameters with a VALUES block, never by pasting values.

Why not pyoxigraph's ``substitutions``: Oxigraph only substitutes variables that a SELECT
projects (ASK is refused, and an unprojected parameter is an error), which would force every
parameter into every result. A ``VALUES`` block at the start of the query's WHERE pattern
binds the same typed RDF terms for every query form and is plain SPARQL 1.1.

The values themselves are RDF terms serialised by pyoxigraph (N-Triples syntax, escaped),
so a value can never end a string or a block: ``"} ; DROP ALL`` stays one literal. What we
lex here is only the *structure* of the user's query: where its WHERE group opens, and
which variables it mentions. Strings, IRIs and comments are skipped so that a ``{`` or
``?x`` inside them is not mistaken for syntax.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.errors import UsageError

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               | '''(?:[^'\\]|\\.|'(?!''))*'''
               | "(?:[^"\\\n]|\\.)*"
               | '(?:[^'\\\n]|\\.)*')
    | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
    | (?P<lbrace>\{)
    | (?P<rbrace>\})
    | (?P<word>[A-Za-z_][\w\-.:]*[\w\-:]|[A-Za-z_])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}
_MODIFIERS = {"GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokens(text: str) -> list[Token]:
    """Significant tokens (no whitespace or comments) of a query."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append(Token(kind, m.group(), m.start()))
    return out


def variables(text: str) -> set[str]:
    """Names of the variables a query mentions (outside strings, IRIs and comments)."""
    return {t.text[1:] for t in tokens(text) if t.kind == "var"}


def query_form(text: str) -> str | None:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the first such keyword outside strings and IRIs."""
    for t in tokens(text):
        if t.kind == "word" and t.upper in _FORMS:
            return t.upper
    return None


def _matching_brace(toks: Sequence[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "lbrace":
            depth += 1
        elif toks[j].kind == "rbrace":
            depth -= 1
            if depth == 0:
                return j
    raise UsageError("unbalanced braces in the query")


def with_values(text: str, block: str) -> str:
    """``text`` with ``block`` (a VALUES clause) as the first element of its WHERE pattern.

    The block goes right after the opening brace, on the same line, so that the query's line
    numbers do not move. A DESCRIBE without a WHERE clause gets ``WHERE { block }``.
    """
    toks = tokens(text)
    form_at = next((i for i, t in enumerate(toks) if t.kind == "word" and t.upper in _FORMS), None)
    if form_at is None:
        raise UsageError("not a SPARQL query: no SELECT, CONSTRUCT, DESCRIBE or ASK")
    form = toks[form_at].upper
    i = form_at + 1
    if form == "CONSTRUCT":
        if i < len(toks) and toks[i].kind == "lbrace":
            i = _matching_brace(toks, i) + 1
        else:
            raise UsageError(
                "parameters cannot be bound in the short form CONSTRUCT WHERE { ... }",
                hint="write it as CONSTRUCT { template } WHERE { pattern }",
            )
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind == "lbrace":
            return text[: t.end] + " " + block + " " + text[t.end :]
        if form == "DESCRIBE" and t.kind == "word" and t.upper in _MODIFIERS:
            return text[: t.start] + "WHERE { " + block + " } " + text[t.start :]
    if form == "DESCRIBE":
        return text.rstrip() + " WHERE { " + block + " }\n"
    raise UsageError("the query has no WHERE pattern to bind parameters in")
