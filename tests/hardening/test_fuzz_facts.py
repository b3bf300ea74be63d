"""Fuzzing the real facts file through `policy-toolkit validate` (issue 5, hardening).

Hypothesis mutates the committed facts.yaml of the article and runs the CLI command ``validate``
in process (``typer.testing.CliRunner`` on ``toolkit.cli.app``, POLICY_TOOLKIT_ROOT set to a
project copy). Two families of mutation are combined:

* targeted ones that are harmful by construction, placed exactly with PyYAML's node marks of
  the original file: invalid UTF-8 bytes, YAML escapes of characters no release file can carry
  (C0 controls, U+FFFE/U+FFFF, lone surrogates), impossible dates (absolute and relative),
  values of a type no key accepts, unknown keys, reference cycles (self-loops and longer loops built by
  following the file's own single-valued references), raw control bytes (a NUL...) and values nested
  a thousand levels deep (both escaped as tracebacks, issue 10);
* blind structural ones on top: deleted, duplicated and truncated lines, and a truncated file.

Properties checked on every example:

* the exit code is 0, 1 or 2 and the command never dies with a traceback;
* exit 1 or 2 comes with at least one ``facts.yaml:<n>`` location inside the file, and every
  finding of the text report carries a location;
* a file that is not UTF-8 gives exit 2 at the first line that does not decode (computed here
  line by line);
* a targeted mutation the structural ones did not touch never gives exit 0; alone, it gives the
  exit code and the line it must (the line of the mutated key, or of the date key owning it);
* exit 0 only for a file an independent reader (PyYAML + the facts JSON Schema) also accepts,
  and always when only blank or comment lines were deleted or duplicated.

The run is reproducible (``derandomize=True``, no example database) and bounded by a fixed
number of examples; a summary of what was tried is printed (visible with ``pytest -rA``).
"""

from __future__ import annotations

import calendar
import difflib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

import jsonschema
import pytest
import yaml
from hardening_support import FACTS_REL, ORIGINAL_FACTS, REPO, Project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from toolkit.cli import app

#: fixed for CI; HARDENING_FUZZ_EXAMPLES=2000 runs a deeper (still reproducible) local campaign
FUZZ_EXAMPLES = int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "200"))

FACTS_SCHEMA = json.loads((REPO / "schema" / "facts.schema.json").read_text(encoding="utf-8"))
LOCATION = re.compile(r"facts\.yaml:(\d+)")
REPORT_HEAD = re.compile(r"^(?P<loc>\S+: )?\[(Violation|Warning|Info)\] \S+$")
#: byte sequences that are never valid UTF-8: a stray continuation byte, lone lead bytes, an
#: encoded surrogate, an overlong slash, a 5-byte form, and bytes that never occur.
INVALID_UTF8 = [b"\x80", b"\xff", b"\xfe", b"\xc3", b"\xe4\xb8", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]
TARGETED = [
    "invalid_bytes",
    "control_escape",
    "impossible_date",
    "wrong_type",
    "unknown_key",
    "cycle",
    "raw_control",
    "deep_nesting",
]
#: raw characters YAML does not allow in a stream (PyYAML's ReaderError): C0 controls but tab, LF
#: and CR, DEL, and C1 controls but NEL
RAW_CONTROL = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0x85), *range(0x86, 0xA0)]
#: values of a type no key of the facts schema accepts (no key takes floats, nulls, empty or
#: nested lists, or maps with an unknown key)
WRONG_TYPED = ["[]", "{}", "3.5", "-1.5e+3", ".nan", "null", "~", "[[]]", "{bogus: 1}"]


def _schema_keys(node: object) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        out |= set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        for v in node.values():
            out |= _schema_keys(v)
    elif isinstance(node, list):
        for v in node:
            out |= _schema_keys(v)
    return out


def _keys_with_ref(refs: set[str]) -> set[str]:
    """Keys of sources and entities whose schema is one of the given definitions."""
    out = set()
    for obj in ("entity", "source"):
        for key, spec in FACTS_SCHEMA["$defs"][obj]["properties"].items():
            if spec.get("$ref") in {f"#/$defs/{r}" for r in refs}:
                out.add(key)
    return out


SCHEMA_KEYS = _schema_keys(FACTS_SCHEMA)
DATE_KEYS = _keys_with_ref({"date"})
REF_KEYS = _keys_with_ref({"ref", "refs"})


# ------------------------------------------------------------------ analysis of the original file


@dataclass(frozen=True)
class Pair:
    """One ``key: value`` of the original file, located by PyYAML's marks (0-based lines)."""

    key: str
    line: int
    column: int
    value: yaml.Node
    path: tuple[str | int, ...]
    owner_line: int | None  # line of the key whose map holds this pair

    @property
    def one_line_value(self) -> bool:
        v = self.value
        return v.start_mark.line == v.end_mark.line == self.line and not (
            isinstance(v, yaml.ScalarNode) and v.style in ("|", ">")
        )


def _pairs(node: yaml.Node, path: tuple[str | int, ...] = (), owner: int | None = None) -> list[Pair]:
    out: list[Pair] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            p = (*path, str(k.value))
            out.append(Pair(str(k.value), k.start_mark.line, k.start_mark.column, v, p, owner))
            out += _pairs(v, p, k.start_mark.line)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            out += _pairs(child, (*path, i), owner)
    return out


ORIGINAL_TEXT = ORIGINAL_FACTS.decode("utf-8")
ORIGINAL_LINES = ORIGINAL_TEXT.split("\n")
ORIGINAL_DATA = yaml.safe_load(ORIGINAL_TEXT)
PAIRS = _pairs(yaml.compose(ORIGINAL_TEXT, Loader=yaml.SafeLoader))
PUBLISHED_YEAR = int(str(ORIGINAL_DATA["source"]["datePublished"])[:4])

ONE_LINE_PAIRS = [p for p in PAIRS if p.one_line_value]
ABSOLUTE_DATES = [
    (p, p.line)
    for p in ONE_LINE_PAIRS
    if p.key in DATE_KEYS and isinstance(p.value, yaml.ScalarNode) and len(p.path) <= 3
]
NESTED_DATES = [
    (p, p.owner_line)
    for p in ONE_LINE_PAIRS
    if p.key in ("value", "stated") and len(p.path) >= 2 and str(p.path[-2]) in DATE_KEYS
]
ENTITY_IDS = {
    p.path[1]: str(p.value.value) for p in PAIRS if len(p.path) == 3 and p.path[0] == "entities" and p.key == "id"
}
ENTITY_FIRST_KEY = {p.path[1]: p for p in PAIRS if len(p.path) == 3 and p.path[0] == "entities" and p.key == "id"}
SOURCE_FIRST_KEY = next(p for p in PAIRS if p.path == ("source", "id"))
#: entity id -> {ref key -> pair} for single, plain references (the material for cycles)
SINGLE_REFS: dict[str, dict[str, Pair]] = {}
for _p in ONE_LINE_PAIRS:
    if len(_p.path) == 3 and _p.path[0] == "entities" and _p.key in REF_KEYS and isinstance(_p.value, yaml.ScalarNode):
        SINGLE_REFS.setdefault(ENTITY_IDS[_p.path[1]], {})[_p.key] = _p


def _replace_value(lines: list[bytes], pair: Pair, new: str) -> None:
    text = lines[pair.line].decode("utf-8")
    start, end = pair.value.start_mark.column, pair.value.end_mark.column
    lines[pair.line] = (text[:start] + new + text[end:]).encode("utf-8")


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n <= 10:
        return "十" if n == 10 else digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _first_bad_line(raw: bytes) -> int | None:
    for n, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return n
    return None


# ------------------------------------------------------------------ strategies


@st.composite
def impossible_ymd(draw: st.DrawFn, year: int | None = None) -> tuple[int, int, int | None]:
    """(year, month, day) that cannot exist: a month outside 1-12, or a day outside the month."""
    y = year if year is not None else draw(st.integers(1, 9999))
    if draw(st.booleans()):
        m = draw(st.sampled_from([0, *range(13, 100)]))
        d = draw(st.none() | st.integers(1, 28))
        return y, m, d
    m = draw(st.integers(1, 12))
    d = draw(st.sampled_from([0, *range(calendar.monthrange(y, m)[1] + 1, 100)]))
    return y, m, d


@dataclass
class Case:
    lines: list[bytes]
    tags: list[str | None]
    kinds: list[str] = field(default_factory=list)
    targeted: str | None = None
    expect_lines: set[int] = field(default_factory=set)  # 1-based, alone
    expect_exit: set[int] = field(default_factory=set)
    expect_text: str | None = None
    blind: list[str] = field(default_factory=list)
    trivial: bool = True  # only blank/comment lines deleted or duplicated

    @property
    def raw(self) -> bytes:
        return b"\n".join(self.lines)

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:  # hypothesis's pretty printer
        printer.text(repr(self))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        """The mutations and a diff against the original file: what a failing example did."""
        new = [line.decode("utf-8", "backslashreplace") for line in self.lines]
        diff = difflib.unified_diff(ORIGINAL_LINES, new, "facts.yaml", "mutated", n=0, lineterm="")
        return f"Case(kinds={self.kinds}, expect_exit={self.expect_exit}, expect_lines={self.expect_lines})\n" + (
            "\n".join(list(diff)[:40])
        )


def _targeted(draw: st.DrawFn, case: Case) -> None:
    kind = draw(st.sampled_from([None, *TARGETED]))
    if kind is None:
        return
    case.targeted = kind
    lines = case.lines
    if kind == "invalid_bytes":
        i = draw(st.integers(0, len(lines) - 2))
        text = lines[i].decode("utf-8")
        pos = draw(st.integers(0, len(text)))
        lines[i] = text[:pos].encode("utf-8") + draw(st.sampled_from(INVALID_UTF8)) + text[pos:].encode("utf-8")
        case.tags[i] = kind
        case.expect_exit, case.expect_lines = {2}, {i + 1}
    elif kind == "impossible_date":
        pair, owner = draw(st.sampled_from(ABSOLUTE_DATES + NESTED_DATES))
        if pair.key == "stated":
            y, m, d = draw(impossible_ymd(PUBLISHED_YEAR))
            num = draw(st.sampled_from([str, _cn])) if m > 0 and (d is None or d > 0) else str
            # without a day, only "今年M月" is a date phrase; "M月" alone would not be read as one
            prefix = draw(st.sampled_from(["今年", ""])) if d is not None else "今年"
            new = prefix + f"{num(m)}月" + ("" if d is None else f"{num(d)}日")
        else:
            y, m, d = draw(impossible_ymd())
            new = f'"{y:04d}-{m:02d}' + ("" if d is None else f"-{d:02d}") + '"'
        _replace_value(lines, pair, new)
        case.tags[pair.line] = kind
        case.expect_exit, case.expect_lines = {1}, {owner + 1}
    elif kind == "control_escape":
        pair = draw(st.sampled_from([p for p in ONE_LINE_PAIRS if isinstance(p.value, yaml.ScalarNode)]))
        code = draw(
            st.sampled_from([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF, 0xD800, 0xDFFF])
        )
        escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        _replace_value(lines, pair, '"' + draw(st.sampled_from(["", "text "])) + escape + '"')
        case.tags[pair.line] = kind
        case.expect_exit, case.expect_lines = {2}, {pair.line + 1}
        case.expect_text = f"character U+{code:04X}"
    elif kind == "raw_control":
        i = draw(st.integers(0, len(lines) - 2))
        text = lines[i].decode("utf-8")
        pos = draw(st.integers(0, len(text)))
        code = draw(st.sampled_from(RAW_CONTROL))
        lines[i] = (text[:pos] + chr(code) + text[pos:]).encode("utf-8")
        case.tags[i] = kind
        case.expect_exit, case.expect_lines = {2}, {i + 1}
        case.expect_text = f"character U+{code:04X} is not allowed in YAML"
    elif kind == "deep_nesting":
        pair = draw(st.sampled_from([p for p in ONE_LINE_PAIRS if isinstance(p.value, yaml.ScalarNode)]))
        depth = draw(st.sampled_from([40, 1000, 3000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        _replace_value(lines, pair, opener * depth + "x" + closer * depth)
        case.tags[pair.line] = kind
        case.expect_exit, case.expect_lines = {2}, {pair.line + 1}
        case.expect_text = "nesting deeper than"
    elif kind == "wrong_type":
        pair = draw(st.sampled_from(ONE_LINE_PAIRS))
        _replace_value(lines, pair, draw(st.sampled_from(WRONG_TYPED)))
        case.tags[pair.line] = kind
        case.expect_exit, case.expect_lines = {1}, {pair.line + 1}
    elif kind == "unknown_key":
        first = draw(st.sampled_from([SOURCE_FIRST_KEY, *ENTITY_FIRST_KEY.values()]))
        key = draw(st.from_regex(r"\A[a-z][A-Za-z0-9]{0,15}\Z").filter(lambda k: k not in SCHEMA_KEYS))
        lines.insert(first.line + 1, f"{' ' * first.column}{key}: x".encode())
        case.tags.insert(first.line + 1, kind)
        case.expect_exit, case.expect_lines, case.expect_text = {1}, {first.line + 2}, f"unknown key '{key}'"
    else:  # cycle: follow a single-valued reference chain from A, point one link back at A
        start = draw(st.sampled_from(sorted(SINGLE_REFS)))
        prop = draw(st.sampled_from(sorted(SINGLE_REFS[start])))
        chain = [start]
        cur = str(SINGLE_REFS[start][prop].value.value)
        while cur in SINGLE_REFS and prop in SINGLE_REFS[cur] and cur not in chain:
            chain.append(cur)
            cur = str(SINGLE_REFS[cur][prop].value.value)
        last = chain[draw(st.integers(0, len(chain) - 1))]
        link = SINGLE_REFS[last][prop]
        _replace_value(lines, link, start)
        case.tags[link.line] = kind
        members = chain[: chain.index(last) + 1]
        case.expect_exit = {1}
        case.expect_lines = {SINGLE_REFS[e][prop].line + 1 for e in members}
        case.expect_text = f"cyclic reference through {prop}"


def _is_trivial(line: bytes) -> bool:
    s = line.strip()
    return not s or s.startswith(b"#")


def _blind(draw: st.DrawFn, case: Case) -> None:
    for _ in range(draw(st.integers(0, 3))):
        lines, tags = case.lines, case.tags
        if len(lines) < 2:
            break
        kind = draw(st.sampled_from(["delete", "duplicate", "truncate_line", "truncate_file"]))
        case.blind.append(kind)
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            case.trivial &= _is_trivial(lines[i])
            del lines[i], tags[i]
        elif kind == "duplicate":
            case.trivial &= _is_trivial(lines[i])
            lines.insert(i, lines[i])
            tags.insert(i, tags[i])
        elif kind == "truncate_line":
            case.trivial = False
            cut = draw(st.integers(0, max(0, len(lines[i]) - 1)))
            lines[i] = lines[i][:cut]
            tags[i] = "damaged" if tags[i] else None
        else:
            case.trivial = False
            cut = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:cut]
            tags[i] = "damaged" if tags[i] else None
            del lines[i + 1 :], tags[i + 1 :]


@st.composite
def mutated_facts(draw: st.DrawFn) -> Case:
    case = Case(lines=[line.encode("utf-8") for line in ORIGINAL_LINES], tags=[None] * len(ORIGINAL_LINES))
    _targeted(draw, case)
    _blind(draw, case)
    case.kinds = [*([case.targeted] if case.targeted else []), *case.blind] or ["none"]
    return case


# ------------------------------------------------------------------ the oracle


def _independently_valid(raw: bytes) -> bool:
    """What a reader that is not the toolkit says: UTF-8, YAML, and the facts JSON Schema."""
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return False
    try:
        jsonschema.validate(json.loads(json.dumps(data, default=str)), FACTS_SCHEMA)
    except jsonschema.ValidationError:
        return False
    return True


def check(case: Case, exit_code: int, output: str, exception: BaseException | None) -> None:
    raw = case.raw
    assert exception is None or isinstance(exception, SystemExit), f"crashed: {exception!r}\n{output}"
    assert "Traceback" not in output, output
    assert exit_code in (0, 1, 2), output
    n_lines = raw.count(b"\n") + 1
    found = {int(n) for n in LOCATION.findall(output)}
    intact = case.targeted is not None and case.targeted in case.tags
    only_whole_lines = all(k in ("delete", "duplicate") for k in case.blind)
    if exit_code:
        assert found, f"exit {exit_code} without a facts.yaml:<line> location:\n{output}"
        assert all(1 <= n <= n_lines + 1 for n in found), f"line outside the file ({n_lines} lines): {found}\n{output}"
        for line in output.splitlines():
            if "] " in line and REPORT_HEAD.match(line):
                assert REPORT_HEAD.match(line).group("loc"), f"finding without file and line: {line!r}\n{output}"
    bad = _first_bad_line(raw)
    if bad is not None:
        assert exit_code == 2 and bad in found, f"not UTF-8 from line {bad}, got exit {exit_code}:\n{output}"
    if intact and only_whole_lines:
        assert exit_code != 0, f"the {case.targeted} mutation was accepted:\n{output}"
    if case.targeted and not case.blind:
        assert exit_code in case.expect_exit, (
            f"{case.targeted}: exit {exit_code}, expected {case.expect_exit}\n{output}"
        )
        assert found & case.expect_lines, f"{case.targeted}: expected a location {case.expect_lines}\n{output}"
        if case.expect_text:
            assert case.expect_text in output, output
    if exit_code == 0:
        assert not (intact and only_whole_lines), output
        assert _independently_valid(raw), "exit 0 for a file PyYAML + the JSON Schema reject"
    if case.targeted is None and case.trivial:
        assert exit_code == 0, f"only blank/comment lines were touched, yet exit {exit_code}:\n{output}"


# ------------------------------------------------------------------ the test


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("fuzz") / "project")


def test_analysis_found_targets() -> None:
    """The mutation material is derived from the file; make sure there is some of each kind."""
    assert ABSOLUTE_DATES and NESTED_DATES and ONE_LINE_PAIRS and ENTITY_FIRST_KEY
    assert any(len(chain) > 1 for chain in SINGLE_REFS.values()), "no entity with two single references"
    assert {"subOrganisationOf", "supersedes"} <= REF_KEYS and "datePublished" in DATE_KEYS
    # the "wrong" values really are of no accepted type: not strings, integers or booleans
    # (YAML 1.1 reads 1.5e3 as a string; the fuzzer found that)
    assert not any(isinstance(yaml.safe_load(f"a: {v}")["a"], (str, int, bool)) for v in WRONG_TYPED)


def test_mutated_facts_through_the_cli(fuzz_project: Project) -> None:
    runner = CliRunner()
    facts = fuzz_project.root / FACTS_REL
    env = {"POLICY_TOOLKIT_ROOT": str(fuzz_project.root), "POLICY_TOOLKIT_BASE_IRI": None}
    stats: Counter[str] = Counter()
    exits: Counter[int] = Counter()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=mutated_facts())
    def run(case: Case) -> None:
        facts.write_bytes(case.raw)
        result = runner.invoke(app, ["validate"], env=env)
        output = result.output + ("" if result.stderr in result.output else result.stderr)
        check(case, result.exit_code, output, result.exception)
        stats.update(case.kinds)
        exits[result.exit_code] += 1

    try:
        run()
    finally:
        facts.write_bytes(ORIGINAL_FACTS)
    total = sum(exits.values())
    summary = (
        f"fuzz: {total} CLI runs; exit codes {dict(sorted(exits.items()))}; mutations {dict(sorted(stats.items()))}"
    )
    print(summary)
    # the fuzzer must have exercised every kind of mutation and every outcome
    kinds = {*TARGETED, "delete", "duplicate", "truncate_line", "truncate_file"}
    assert all(stats[k] >= 5 for k in kinds), summary
    assert all(exits[c] >= 1 for c in (0, 1, 2)), summary


# ------------------------------------------------------------------ what the fuzzer found, kept as examples


TEXT_LINE = next(p.line for p in PAIRS if p.path == ("source", "text")) + 1


def _only_comments(lines: list[str]) -> list[str]:
    return [line for line in lines if line.lstrip().startswith("#")]


def _text_name_cut(lines: list[str]) -> list[str]:
    return [line[: line.index(".txt")] if i == TEXT_LINE - 1 else line for i, line in enumerate(lines)]


#: the first one-line flow map of the file (`label: {zh: ..., en: ...}`)
FLOW_LINE = next(i for i, line in enumerate(ORIGINAL_LINES) if line.rstrip().endswith("}") and ": {" in line) + 1


def _flow_map_unclosed(lines: list[str]) -> list[str]:
    return [line.rstrip()[:-1] if i == FLOW_LINE - 1 else line for i, line in enumerate(lines)]


def _raw_nul(lines: list[str]) -> list[str]:
    return [line + "\x00" if i == TEXT_LINE - 1 else line for i, line in enumerate(lines)]


def _deep_block_nesting(lines: list[str]) -> list[str]:
    # 1,200 levels of block maps: PyYAML's recursive composer raised RecursionError
    return lines[:-1] + ["deep:"] + ["  " * (n + 1) + f"k{n}:" for n in range(1200)] + ["  " * 1201 + "v", ""]


DEEP_LINE = len(ORIGINAL_LINES) + 32  # the first key past the 32 levels allowed


@pytest.mark.parametrize(
    ("name", "mutate", "exit_code", "line"),
    [
        # an empty document had no line at all: "facts.yaml: [Violation] ... None is not of type 'object'"
        ("empty file", lambda lines: [""], 1, 1),
        ("comments only", _only_comments, 1, 1),
        # the archived text named by a cut file name: the error named only the missing text file
        ("text file name cut", _text_name_cut, 2, TEXT_LINE),
        # issue 10: a raw NUL and deep nesting escaped as tracebacks (ReaderError, RecursionError)
        ("raw NUL byte", _raw_nul, 2, TEXT_LINE),
        ("1,200 levels of nesting", _deep_block_nesting, 2, DEEP_LINE),
        # issue 16: a flow map left open was reported on the next line
        ("flow map not closed", _flow_map_unclosed, 2, FLOW_LINE),
    ],
)
def test_what_the_fuzzer_found(fuzz_project: Project, name: str, mutate: object, exit_code: int, line: int) -> None:
    lines = mutate(list(ORIGINAL_LINES))  # type: ignore[operator]
    case = Case(lines=[x.encode("utf-8") for x in lines], tags=[None] * len(lines), blind=["by hand"], trivial=False)
    facts = fuzz_project.root / FACTS_REL
    facts.write_bytes(case.raw)
    try:
        result = CliRunner().invoke(app, ["validate"], env={"POLICY_TOOLKIT_ROOT": str(fuzz_project.root)})
    finally:
        facts.write_bytes(ORIGINAL_FACTS)
    output = result.output + ("" if result.stderr in result.output else result.stderr)
    check(case, result.exit_code, output, result.exception)
    assert result.exit_code == exit_code, output
    assert f"facts.yaml:{line}:" in output, output
