import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from toolkit.errors import LoadError
from toolkit.yamlfile import load_yaml


def write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "f.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def test_lines_are_recorded_per_key_and_item(tmp_path: Path) -> None:
    doc = load_yaml(write(tmp_path, "a: 1\nb:\n  - x\n  - y: 2\n"))
    assert doc.data == {"a": 1, "b": ["x", {"y": 2}]}
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("b", 1, "y")) == 4
    assert doc.line_of(("b", 1, "missing")) == 4


def test_dates_stay_strings(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "d: 2025-09-01\n")).data == {"d": "2025-09-01"}


def test_python_object_tags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unsupported YAML tag") as info:
        load_yaml(write(tmp_path, "a: !!python/object/apply:os.system ['echo hi']\n"))
    assert info.value.line == 1


def test_aliases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="anchors and aliases"):
        load_yaml(write(tmp_path, "a: &x [1, 2]\nb: *x\n"))


def test_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="duplicate key 'a'") as info:
        load_yaml(write(tmp_path, "a: 1\nb: 2\na: 3\n"))
    assert info.value.line == 3


def test_not_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="byte offset 9") as info:
        load_yaml(write(tmp_path, b"a: ok\nb: \xff\n"))
    assert info.value.line == 2


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="broken YAML") as info:
        load_yaml(write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n"))
    assert info.value.line is not None and info.value.line >= 2


def test_size_and_depth_limits(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="over the limit"):
        load_yaml(write(tmp_path, "a: " + "x" * 100 + "\n"), max_bytes=50)
    deep = "".join("  " * i + f"k{i}:\n" for i in range(10)) + "  " * 10 + "v\n"
    with pytest.raises(LoadError, match="deeper than 5"):
        load_yaml(write(tmp_path, deep), max_depth=5)


# ------------------------------------------------------------------ issue 10 / 16: anything PyYAML raises


def both_loaders(path: Path) -> list[LoadError]:
    """The error of the naive loader and of the fast build's C loader, which must agree."""
    errors = []
    for load in (load_yaml, partial(load_yaml, fast=True)):
        with pytest.raises(LoadError) as info:
            load(path)
        errors.append(info.value)
    assert [(e.line, e.message) for e in errors[1:]] == [(errors[0].line, errors[0].message)]
    return errors


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\ufffe"])
def test_raw_control_characters_name_the_line(tmp_path: Path, char: str) -> None:
    # PyYAML's ReaderError escaped as a traceback: it is raised when the loader is made
    path = write(tmp_path, f"a: 1\nb:\n  - x\n  - y{char}z\n")
    [err, _] = both_loaders(path)
    assert err.line == 4 and f"character U+{ord(char):04X} is not allowed in YAML" in err.message
    assert err.file == str(path) and err.hint


@pytest.mark.parametrize(
    "text",
    [
        "a:\n" + "- " * 1500 + "x\n",  # block sequences, one line
        "a: " + "[\n" * 1500 + "]\n" * 1500,  # flow sequences, one a line
        "".join("  " * i + f"k{i}:\n" for i in range(1200)) + "  " * 1200 + "v\n",  # block maps
        "a: " + "{b: " * 1200 + "c" + "}" * 1200 + "\n",
    ],
)
def test_nesting_of_a_thousand_levels_is_an_error_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    [err, _] = both_loaders(write(tmp_path, text))
    assert "nesting deeper than 32 levels" in err.message
    assert err.line is not None


def test_an_alias_of_a_single_value_is_refused(tmp_path: Path) -> None:
    [err, _] = both_loaders(write(tmp_path, "a: &x 上海\nb: 1\nc: *x\n"))
    assert "anchors and aliases are not supported" in err.message and err.line == 3
    [err, _] = both_loaders(write(tmp_path, "a: &x key\nb:\n  - *x\n"))
    assert "anchors and aliases" in err.message
    [err, _] = both_loaders(write(tmp_path, "a: &k id\nb: {*k : 1}\n"))
    assert "anchors and aliases" in err.message and err.line == 2


def test_an_anchor_without_an_alias_is_harmless(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "a: &x 1\nb: 2\n")).data == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # the ":513 for a mistake on 512": a flow map not closed is found on the next key
        ("id: x\nlabel: {zh: 上海, en: Shanghai\ntype: City\nnote: n\n", 2),
        ("id: x\nlabel: {zh: 上海, en: Shanghai\n\n# a comment\ntype: City\n", 2),
        ("entities:\n  - id: x\n    field: [ai, chips\n    type: City\n", 3),
        # a map over several lines, a ',' missing at the end of line 4
        ("label: {\n  zh: 上海,\n  en: Shanghai\n  fr: Shanghai\n}\n", 3),
        # the mistake on the line itself stays there
        ("id: x\nlabel: {zh: 上海 en: Shanghai}\ntype: City\n", 2),
    ],
)
def test_a_broken_flow_collection_is_reported_on_its_line(tmp_path: Path, text: str, line: int) -> None:
    [err, _] = both_loaders(write(tmp_path, text))
    assert err.line == line, err
    assert "broken YAML" in err.message


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a blocking open() or read()."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_fifo_and_device_are_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "facts.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    with deadline(10):
        with pytest.raises(LoadError, match=r"is a FIFO \(named pipe\), not a regular file"):
            load_yaml(fifo)
        with pytest.raises(LoadError, match="is a character device"):
            load_yaml(zero)
