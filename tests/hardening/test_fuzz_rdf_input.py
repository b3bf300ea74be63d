"""Fuzzing `validate FILE`'s reader with hostile RDF (issue 10, hardening).

Two families, each run a fixed, reproducible number of times (``derandomize=True``):

* RDF/XML carrying a DTD (entity bombs, external entities, parameter entities, a bare DOCTYPE)
  in every encoding XML allows and some it does not (UTF-8 with or without BOM, UTF-16 LE/BE with
  or without BOM, UTF-32, Latin-1), with or without an XML declaration, with comments or blank
  lines before the DOCTYPE: always refused (exit 2) within a second, never expanded;
* Turtle and N-Triples with IRIs holding characters no IRI may hold, raw or as ``\\u`` escapes, on
  random lines among valid triples: every such line is reported as a violation (exit 1) with its
  line, and every valid triple is still read.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.config import Settings
from toolkit.errors import LoadError
from toolkit.report import Severity
from toolkit.validate.rdfinput import read_rdf_input

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: (codec, bytes put in front, the name written in the declaration)
ENCODINGS = [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", b"\xef\xbb\xbf", "UTF-8"),
    ("utf-16-le", b"", "UTF-16"),
    ("utf-16-le", b"\xff\xfe", "UTF-16"),
    ("utf-16-be", b"", "UTF-16"),
    ("utf-16-be", b"\xfe\xff", "UTF-16"),
    ("utf-32-le", b"", "UTF-32"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32"),
    ("utf-32-be", b"", "UTF-32"),
    ("utf-32-be", b"\x00\x00\xfe\xff", "UTF-32"),
    ("latin-1", b"", "ISO-8859-1"),
]


def _bomb(depth: int) -> str:
    decls = ['<!ENTITY e0 "0123456789">']
    decls += [f'<!ENTITY e{n} "{("&e" + str(n - 1) + ";") * 10}">' for n in range(1, depth + 1)]
    return "".join(decls), f"&e{depth};"


@st.composite
def dtd_documents(draw: st.DrawFn) -> tuple[str, bytes]:
    codec, bom, name = draw(st.sampled_from(ENCODINGS))
    kind = draw(st.sampled_from(["bomb", "external", "parameter", "bare"]))
    if kind == "bomb":
        decls, ref = _bomb(draw(st.integers(1, 9)))
    elif kind == "external":
        decls, ref = '<!ENTITY x SYSTEM "file:///etc/passwd">', "&x;"
    elif kind == "parameter":
        decls, ref = '<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;', "v"
    else:
        decls, ref = "", "v"
    doctype = f"<!DOCTYPE rdf:RDF [{decls}]>" if decls or draw(st.booleans()) else "<!DOCTYPE rdf:RDF>"
    before = draw(st.sampled_from(["", "\n", "<!-- a comment -->\n", "\n\n  "]))
    declaration = f'<?xml version="1.0" encoding="{name}"?>\n' if draw(st.booleans()) else ""
    text = (
        f"{declaration}{before}{doctype}\n"
        f'<rdf:RDF xmlns:rdf="{RDF_NS}"><rdf:Description rdf:about="http://x/a">'
        f"<rdf:value>{ref}</rdf:value></rdf:Description></rdf:RDF>\n"
    )
    return f"{codec} bom={bool(bom)} decl={bool(declaration)} {kind}", bom + text.encode(codec)


FUZZ = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(doc=dtd_documents())
def test_rdfxml_with_a_dtd_is_refused_at_once(tmp_path: Path, repo_settings: Settings, doc: tuple[str, bytes]) -> None:
    name, data = doc
    f = tmp_path / "doc.rdf"
    f.write_bytes(data)
    started = time.monotonic()
    with pytest.raises(LoadError) as info:
        read_rdf_input(f, repo_settings)
    assert time.monotonic() - started < 1, name
    # refused for its DTD, or (an encoding the XML parser cannot read) as unreadable: never parsed
    assert "DTD or entity declaration is refused" in info.value.message, (name, info.value.message)


BAD = [" ", "{", "}", "|", "^", "`", "<", '"']
BAD_ESCAPED = [f"\\u{ord(c):04X}" for c in [*BAD, ">", "\\"]]


@st.composite
def documents_with_bad_iris(draw: st.DrawFn) -> tuple[str, str, set[int], int]:
    suffix = draw(st.sampled_from([".ttl", ".nt"]))
    n = draw(st.integers(1, 12))
    bad_lines: set[int] = set()
    lines = []
    for i in range(1, n + 1):
        local = draw(st.from_regex(r"\A[a-z0-9]{1,8}\Z"))
        if draw(st.booleans()):
            pos = draw(st.integers(0, len(local)))
            local = local[:pos] + draw(st.sampled_from(BAD + BAD_ESCAPED)) + local[pos:]
            bad_lines.add(i)
        where = draw(st.sampled_from(["s", "o"]))
        subject = f"<http://x/{local}>" if where == "s" else f"<http://x/s{i}>"
        obj = f"<http://x/{local}>" if where == "o" else f'"v{i}"'
        lines.append(f"{subject} <http://x/p> {obj} .")
    return suffix, "\n".join(lines) + "\n", bad_lines, n - len(bad_lines)


@FUZZ
@given(doc=documents_with_bad_iris())
def test_every_invalid_iri_is_reported_on_its_line(
    tmp_path: Path, repo_settings: Settings, doc: tuple[str, str, set[int], int]
) -> None:
    suffix, text, bad_lines, good = doc
    f = tmp_path / f"doc{suffix}"
    f.write_text(text, encoding="utf-8")
    loaded = read_rdf_input(f, repo_settings)
    violations = [r for r in loaded.results if r.severity is Severity.VIOLATION]
    assert {r.line for r in violations} == bad_lines and len(violations) == len(bad_lines), text
    assert all("not a valid IRI" in r.message for r in violations)
    assert len(loaded.graph) == good, text
