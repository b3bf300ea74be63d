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
