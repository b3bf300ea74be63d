"""Ill-formed XSD literals, found before any engine runs, so that every engine reports them.

Why: neither engine checks every XSD lexical space. pyshacl (through rdflib) accepts
``"2025-13"^^xsd:gYearMonth``, ``"25"^^xsd:gYear``, an ``xsd:long`` out of range and ``" 1"`` as an
integer; `shacl` 0.3.4 accepts the ``g*`` types, ``xsd:hexBinary``, ``xsd:language`` and the
string types' forms too. So an ill-formed literal of a datatype in :data:`LEXICAL` gets a stand-in
datatype (``urn:x-policy-toolkit:ill-formed:<datatype>``) before validation: ``sh:datatype``
and ``sh:or`` of datatypes then fail on it, as SHACL wants for an ill-formed literal, whatever
the engine; the report gets the literal back as written. (A SPARQL constraint that asks for
``datatype(?v)`` of such a literal sees the stand-in; comparisons fail on it either way.)
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef

XSD = "http://www.w3.org/2001/XMLSchema#"
STANDIN = "urn:x-policy-toolkit:ill-formed:"
_TZ = r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?([1-9]\d{4,}|\d{4})"
_INT = r"[+-]?\d+"
_RANGES = {
    "integer": (None, None),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
#: datatype local name -> the lexical space (XSD 1.1 Part 2), as a regular expression
LEXICAL = {
    "boolean": r"true|false|1|0",
    "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    "float": r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN",
    "double": r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN",
    "gYear": _YEAR + _TZ,
    "gYearMonth": _YEAR + r"-(0[1-9]|1[0-2])" + _TZ,
    "gMonth": r"--(0[1-9]|1[0-2])" + _TZ,
    "gDay": r"---(0[1-9]|[12]\d|3[01])" + _TZ,
    "gMonthDay": r"--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])" + _TZ,
    "hexBinary": r"([0-9a-fA-F]{2})*",
    "base64Binary": r"(([A-Za-z0-9+/] ?){4})*(([A-Za-z0-9+/] ?){3}[A-Za-z0-9+/]|([A-Za-z0-9+/] ?){2}"
    r"[AEIMQUYcgkosw048] ?=|[A-Za-z0-9+/] ?[AQgw] ?= ?=)?",
    "language": r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*",
    "normalizedString": r"[^\r\n\t]*",
    "token": r"([^\s]+( [^\s]+)*)?",
    **dict.fromkeys(_RANGES, _INT),
}
_COMPILED = {dt: re.compile(rx) for dt, rx in LEXICAL.items()}
_MONTH_DAYS = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}


def well_formed(lexical: str, local: str) -> bool:
    """Whether ``lexical`` is in the lexical space of ``xsd:<local>`` (True for types not checked)."""
    rx = _COMPILED.get(local)
    if rx is None:
        return True
    if rx.fullmatch(lexical) is None:
        return False
    if local in _RANGES:
        lo, hi = _RANGES[local]
        n = int(lexical)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    if local == "gMonthDay":
        month, day = int(lexical[2:4]), int(lexical[5:7])
        return day <= _MONTH_DAYS.get(month, 31)
    return True


def _standin(lit: Literal) -> Literal | None:
    dt = str(lit.datatype) if lit.datatype is not None else ""
    if not dt.startswith(XSD) or well_formed(str(lit), dt[len(XSD) :]):
        return None
    return Literal(str(lit), datatype=URIRef(STANDIN + dt), normalize=False)


def mark_graph(g: Graph) -> Graph:
    """``g``, or a copy of it whose ill-formed literals carry the stand-in datatype."""
    bad = {o for o in g.objects() if isinstance(o, Literal) and _standin(o) is not None}
    if not bad:
        return g
    out = Graph()
    for prefix, ns in g.namespaces():
        out.bind(prefix, ns, override=True, replace=True)
    for s, p, o in g:
        out.add((s, p, _standin(o) if o in bad else o))  # type: ignore[arg-type]
    return out


# a typed literal of a checked type, quote to datatype, within one line (C-speed scan; a match
# whose opening quote is escaped, i.e. inside a longer literal, is re-read from its line start)
_NT_TYPED = re.compile(rb'"([^"\n]*)"\^\^<' + re.escape(XSD.encode()) + rb"(" + "|".join(LEXICAL).encode() + rb")> \.")
_LINE = re.compile(rb'\S+ <[^>]*> "')  # matched at the line's start
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(
        r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)",
        lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] in "uU" else _ESCAPES.get(m.group(1), m.group(1)),
        text,
    )


def mark_ntriples_file(path: Path, chunk: int = 1 << 22) -> Path:
    """:func:`mark_ntriples` of an N-Triples file, read a few MB of whole lines at a time: the
    file itself when no literal is ill-formed, else a marked copy beside it (``<stem>.marked.nt``).

    Why: a large input (the catalog's DCAT-AP check at a million triples) is handed to the engine
    as a file, so that its bytes are not held in memory beside the engine's graph."""
    marked = path.with_suffix(".marked.nt")
    out = None
    at = 0
    with path.open("rb") as f:
        rest = b""
        while True:
            data = f.read(chunk)
            block = rest + data
            cut = len(block) if not data else block.rfind(b"\n") + 1
            lines, rest = block[:cut], block[cut:]
            new = mark_ntriples(lines)
            if new is not lines and out is None:
                out = marked.open("wb")
                with path.open("rb") as head:  # the unchanged lines before this chunk
                    out.write(head.read(at))
            if out is not None:
                out.write(new)
            at += len(lines)
            if not data:
                break
    if out is None:
        return path
    out.close()
    return marked


def mark_ntriples(nt: bytes) -> bytes:
    """N-Triples with the stand-in datatype on each ill-formed literal (the same bytes when none)."""
    cuts: list[int] = []
    for m in _NT_TYPED.finditer(nt):
        lexical = m.group(1)
        if m.start() and nt[m.start() - 1] == 0x5C:  # an escaped quote: read the literal from its line
            start = nt.rfind(b"\n", 0, m.start()) + 1
            head = _LINE.match(nt, start)
            if head is None:
                continue
            lexical = nt[head.end() : m.start(2) - len(XSD) - 4]
        if not _well_formed_bytes(lexical, m.group(2)):
            cuts.append(m.start(2) - len(XSD))
    if not cuts:
        return nt
    out, at = [], 0
    for cut in cuts:
        out += [nt[at:cut], STANDIN.encode()]
        at = cut
    out.append(nt[at:])
    return b"".join(out)


@lru_cache(maxsize=1 << 16)
def _well_formed_bytes(lexical: bytes, local: bytes) -> bool:
    return well_formed(_unescape(lexical.decode("utf-8")), local.decode())


def unmark(report: Graph) -> Graph:
    """The report with each stand-in literal given back its datatype (in place)."""
    for s, p, o in list(report):
        fixed = [_original(t) for t in (s, o)]
        if fixed[0] is not s or fixed[1] is not o:
            report.remove((s, p, o))
            report.add((fixed[0], p, fixed[1]))
    return report


def _original(t: Any) -> Any:
    if isinstance(t, Literal) and t.datatype is not None and str(t.datatype).startswith(STANDIN):
        return Literal(str(t), datatype=URIRef(str(t.datatype)[len(STANDIN) :]), normalize=False)
    return t


__all__ = ["LEXICAL", "STANDIN", "mark_graph", "mark_ntriples", "unmark", "well_formed"]
