"""A saved query's serialised answer cut into its rows' bytes, without parsing a term.

Why: a saved query's table is cut into parts (``queries/<name>/``, ``2/``, ...), each part a job
of its own noted by what it shows. At 1M triples a query's answer is hundreds of thousands of
rows; parsing it whole (into pyoxigraph terms) to know which part changed cost seconds a query
on every run, and every part made again parsed the whole answer once more in its worker. Here
the answer as the engine serialised it (:func:`toolkit.query.engine.evaluate`: SPARQL-JSON for
SELECT, N-Triples for a graph) is only scanned for where each row starts and ends: a part's key
is the hash of its rows' bytes, and the part's page parses its own rows only.

Exact: a part whose bytes are the same holds the same terms (the same parser reads them), and
the rows of a part parsed alone are the rows the whole answer gives there (a test compares them
with :func:`toolkit.query.engine.from_wire` on answers with escapes, languages, datatypes, blank
nodes and unbound values). An answer that does not have the shape the engine writes is not
cut: it is parsed whole, as before (:attr:`Cut.parsed`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from toolkit.query.engine import from_wire

#: one row of SPARQL-JSON bindings: an object of terms (each an object of strings); a triple term,
#: nested deeper, does not match and the answer is parsed whole
_STRING = rb'"(?:[^"\\]++|\\.)*+"'
_TERM = rb"\{(?:[^{}\"]++|" + _STRING + rb")*+\}"
_ROW = re.compile(rb"\{(?:[^{}\"]++|" + _STRING + rb"|" + _TERM + rb")*+\}", re.S)
_BINDINGS = b',"results":{"bindings":['
_TAIL = b"]}}"


@dataclass
class Cut:
    """An answer's kind, variables, boolean and rows, the rows as spans of :attr:`data` (a row of a
    graph answer is one N-Triples line, in the order :func:`from_wire` sorts triples)."""

    kind: str
    variables: list[str] = field(default_factory=list)
    boolean: bool | None = None
    data: bytes = b""
    #: where each row starts and ends in :attr:`data` (select: the bindings; graph: the lines, sorted)
    spans: list[tuple[int, int]] = field(default_factory=list)
    #: a SELECT answer's head (``{"head":{"vars":[...]}``), put before a part's rows to parse them alone
    head: bytes = b""
    #: the answer parsed whole, when it could not be cut (then the rows are these)
    parsed: list[Any] | None = None
    #: a SELECT answer in SPARQL-TSV (:attr:`head` its line of variables, a row a line), not SPARQL-JSON
    tsv: bool = False

    @property
    def count(self) -> int:
        """The rows of the table (a graph answer's triples included)."""
        return len(self.parsed) if self.parsed is not None else len(self.spans)

    @property
    def select_rows(self) -> int:
        """How many rows a SELECT answer has (a graph's or a boolean's: 0, as :class:`Result` says)."""
        return self.count if self.kind == "select" else 0

    def slice_bytes(self, start: int, stop: int) -> bytes:
        """The serialised rows ``start:stop`` (what a part's key hashes)."""
        if self.parsed is not None:
            return repr(self.parsed[start:stop]).encode("utf-8")
        spans = self.spans[start:stop]
        if not spans:
            return b""
        return self.data[spans[0][0] : spans[-1][1]]

    def digest(self, start: int, stop: int) -> str:
        return hashlib.blake2b(self.slice_bytes(start, stop), digest_size=16).hexdigest()

    def rows(self, start: int, stop: int) -> list[Any]:
        """The rows ``start:stop`` as terms: a SELECT's rows (a list of terms or None a variable), a graph's
        triples; parsed from their own bytes only."""
        if self.parsed is not None:
            return self.parsed[start:stop]
        part = self.slice_bytes(start, stop)
        if not part:
            return []
        if self.kind == "graph":
            return [q.triple for q in ox.parse(part, format=ox.RdfFormat.N_TRIPLES)]
        if self.tsv:
            parsed = ox.parse_query_results(self.head + b"\n" + part, format=ox.QueryResultsFormat.TSV)
        else:
            parsed = ox.parse_query_results(self.head + _BINDINGS + part + _TAIL, format=ox.QueryResultsFormat.JSON)
        assert isinstance(parsed, ox.QuerySolutions)
        return [[sol[n] for n in self.variables] for sol in parsed]


def _whole(kind: str, data: bytes) -> Cut:
    """The answer parsed whole (one that is not of the shape the engine writes, or a boolean)."""
    result = from_wire(kind, data)
    rows: list[Any] = result.rows if result.kind == "select" else result.triples if result.kind == "graph" else []
    return Cut(kind=result.kind, variables=result.variables, boolean=result.boolean, parsed=rows)


def _cut_select(data: bytes) -> Cut | None:
    at = data.find(_BINDINGS)
    if at < 0 or not data.endswith(_TAIL):
        return None
    head = data[:at]
    try:
        names = json.loads(head + b"}")["head"]["vars"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    spans: list[tuple[int, int]] = []
    pos, end = at + len(_BINDINGS), len(data) - len(_TAIL)
    match = _ROW.match
    while pos < end:
        m = match(data, pos, end)
        if m is None:
            return None
        spans.append((pos, m.end()))
        pos = m.end()
        if pos < end:
            if data[pos] != 0x2C:  # ","
                return None
            pos += 1
    return Cut(kind="select", variables=names, data=data, spans=spans, head=head)


def _cut_tsv(data: bytes) -> Cut | None:
    """SPARQL-TSV as Oxigraph writes it: the variables' line, then a line a row (a literal's line breaks
    and tabs are escaped in it, as in N-Triples), each ending with a line break, which its span holds (a
    row whose values are all unbound is an empty line: its span is that line break alone).

    Why TSV for the site: at 1M triples the answers are 30 MB instead of 75 MB, written faster, and cut
    here by finding line breaks (0.04 s) instead of matching each JSON row (1.2 s, holding the lock)."""
    if not data.endswith(b"\n"):
        return None
    head_end = data.index(b"\n")
    head = data[:head_end]
    declared = head.decode("utf-8").split("\t") if head else []
    if not all(len(v) > 1 and v[0] in "?$" for v in declared):
        return None
    spans: list[tuple[int, int]] = []
    pos = head_end + 1
    find = data.find
    while pos < len(data):
        end = find(b"\n", pos) + 1
        spans.append((pos, end))
        pos = end
    return Cut(kind="select", variables=[v[1:] for v in declared], data=data, spans=spans, head=head, tsv=True)


def _cut_graph(data: bytes) -> Cut:
    """N-Triples lines, distinct and sorted: the order of :func:`from_wire` (by subject, predicate and
    object as text). Why the lines sort alike: a line is ``s p o .`` with each term as its text, an IRI
    cannot be a prefix of another IRI's text (``>`` ends it), and where one term's text is a prefix of
    another's (a blank node, a plain literal) what follows it on the line (a space) sorts before
    anything that continues the longer one."""
    lines = sorted({line for line in data.split(b"\n") if line.strip()})
    joined = b"\n".join(lines)
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in lines:
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return Cut(kind="graph", data=joined, spans=spans)


#: the kinds of :func:`toolkit.query.engine.evaluate`'s answers that are answers (:func:`cut_answer` takes
#: them; the others are a refusal or a failure, with their message)
ANSWER_KINDS = ("select", "tsv", "ask", "graph")


def cut_answer(kind: str, data: bytes) -> Cut:
    """The answer ``(kind, data)`` of :func:`toolkit.query.engine.evaluate` cut into its rows (kinds
    ``select``, ``graph``, ``ask``; a failure is not an answer: see :meth:`SiteBuilder.query_answer`)."""
    if kind == "select":
        found = _cut_select(data)
        if found is not None:
            return found
    elif kind == "tsv":
        found = _cut_tsv(data)
        if found is not None:
            return found
    elif kind == "graph" and all(line.endswith(b" .") for line in data.split(b"\n") if line.strip()):
        return _cut_graph(data)
    return _whole(kind, data)


__all__ = ["ANSWER_KINDS", "Cut", "cut_answer"]
