"""Safe, line-aware YAML loading for the human-edited facts files.

Why not ``yaml.safe_load``: errors must name the line to fix, so we compose the node tree
and remember the line of every mapping key and list item by JSON path. Object
construction is impossible (only plain scalars, maps and lists become values), timestamps
stay strings (dates are interpreted by the toolkit, not by YAML), anchors/aliases are
refused (they allow cycles and "billion laughs" expansion), and size and depth are capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import LoadError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32

JsonPath = tuple[str | int, ...]

#: characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, U+FFFE, U+FFFF) and lone
#: surrogates, which YAML escapes such as "\x01" or "\ud800" can produce: no release file
#: (UTF-8, RDF/XML) can hold them, so they are refused where a person can fix them.
_UNPUBLISHABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: '2025-09-01' stays a string."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class YamlDoc:
    path: Path
    data: Any
    lines: dict[JsonPath, int] = field(default_factory=dict)

    def line_of(self, path: JsonPath) -> int | None:
        """Line of the deepest known prefix of ``path`` (1-based)."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]


def decode_utf8(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoadError(
            f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at byte offset {exc.start}",
            file=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None


def load_yaml(path: Path, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> YamlDoc:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", file=path) from None
    if len(raw) > max_bytes:
        raise LoadError(
            f"file is {len(raw)} bytes, over the limit of {max_bytes}",
            file=path,
            hint="split the facts into several sources",
        )
    text = decode_utf8(raw, path)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadError(
            f"broken YAML: {exc.problem or exc.context}",
            file=path,
            line=line,
            hint="check indentation, colons and quotes on this line",
        ) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"broken YAML: {exc}", file=path) from None
    finally:
        loader.dispose()
    doc = YamlDoc(path=path, data=None)
    if node is None:
        # an empty document (nothing but comments or blanks): problems with it are on line 1
        doc.lines[()] = 1
        return doc
    doc.data = _convert(node, (), doc, loader, set(), max_depth)
    return doc


def _convert(
    node: yaml.Node,
    path: JsonPath,
    doc: YamlDoc,
    loader: _Loader,
    seen: set[int],
    max_depth: int,
) -> Any:
    line = node.start_mark.line + 1
    if len(path) > max_depth:
        raise LoadError(f"nesting deeper than {max_depth} levels", file=doc.path, line=line)
    if isinstance(node, yaml.ScalarNode):
        doc.lines.setdefault(path, line)
        _check_chars(node, doc)
        if node.tag.startswith("tag:yaml.org,2002:") and node.tag.rsplit(":", 1)[-1] in {
            "str",
            "int",
            "float",
            "bool",
            "null",
        }:
            return loader.construct_object(node, deep=True)
        raise LoadError(
            f"unsupported YAML tag {node.tag}",
            file=doc.path,
            line=line,
            hint="use plain strings, numbers, lists and maps only",
        )
    if id(node) in seen:
        raise LoadError(
            "YAML anchors and aliases are not supported",
            file=doc.path,
            line=line,
            hint="write the value out in full",
        )
    seen.add(id(node))
    doc.lines.setdefault(path, line)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise LoadError(f"unsupported YAML tag {node.tag}", file=doc.path, line=line)
        items = []
        for i, child in enumerate(node.value):
            items.append(_convert(child, (*path, i), doc, loader, seen, max_depth))
        return items
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise LoadError(f"unsupported YAML tag {node.tag}", file=doc.path, line=line)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise LoadError("map keys must be plain strings", file=doc.path, line=kline)
            _check_chars(key_node, doc)
            key = str(key_node.value)
            if key in out:
                raise LoadError(
                    f"duplicate key {key!r}",
                    file=doc.path,
                    line=kline,
                    hint="each key may appear once in a map",
                )
            doc.lines[(*path, key)] = kline
            out[key] = _convert(value_node, (*path, key), doc, loader, seen, max_depth)
        return out
    raise LoadError("unsupported YAML node", file=doc.path, line=line)  # pragma: no cover


def _check_chars(node: yaml.ScalarNode, doc: YamlDoc) -> None:
    bad = _UNPUBLISHABLE.search(node.value)
    if bad is None:
        return
    raise LoadError(
        f"character U+{ord(bad.group()):04X} cannot be published (XML 1.0 and UTF-8 cannot carry it)",
        file=doc.path,
        line=node.start_mark.line + 1,
        hint="remove the control character or escape sequence",
    )
