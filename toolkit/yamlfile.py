"""Safe, line-aware YAML loading for the human-edited facts files.

Why not ``yaml.safe_load``: errors must name the line to fix, so we compose the node tree
and remember the line of every mapping key and list item by JSON path. Object
construction is impossible (only plain scalars, maps and lists become values), timestamps
stay strings (dates are interpreted by the toolkit, not by YAML), anchors/aliases are
refused (they allow cycles and "billion laughs" expansion), on single values as on maps and
lists, and size and depth are capped. Whatever PyYAML raises (a control byte, a broken flow
collection, nesting deeper than Python's stack) becomes a :class:`~toolkit.errors.LoadError`
with the line to fix, never a traceback.

:func:`read_capped` is the one way the toolkit reads a file a user names (facts, archived
texts, RDF files): it checks the kind and size before reading and reads no more than the cap,
so a link to ``/dev/zero``, a FIFO or a device fails at once instead of hanging.
"""

from __future__ import annotations

import os
import re
import stat
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


class SafeFactsLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: '2025-09-01' stays a string.

    Its composer is recursive (one Python frame per level), so it counts the depth and stops
    at ``max_depth`` with the line of the node, long before Python's recursion limit.
    """

    max_depth = MAX_DEPTH
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > self.max_depth + 1:
                mark = self.peek_event().start_mark
                raise _TooDeep(mark.line + 1)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


class _TooDeep(Exception):
    """Raised inside the composer; turned into a LoadError that names the file."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


SafeFactsLoader.yaml_implicit_resolvers = {
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


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def _not_regular(mode: int, path: Path, what: str) -> LoadError:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return LoadError(
        f"the {what} is {kind}, not a regular file",
        file=path,
        hint=f"give the path of a regular {what}",
    )


def read_capped(path: Path, max_bytes: int, *, what: str = "file", follow_links: bool = True) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, checked before and while reading.

    Why not ``path.read_bytes()``: it reads a link to ``/dev/zero`` until memory runs out and
    blocks forever on a FIFO. The kind and size are checked with ``stat`` first, the file is
    opened non-blocking and checked again on the open descriptor (it may have been swapped),
    and at most ``max_bytes + 1`` bytes are read. With ``follow_links=False`` a symbolic link
    is refused (``O_NOFOLLOW``): the sources must be the files themselves.
    """
    try:
        st = os.stat(path, follow_symlinks=follow_links)
    except OSError as exc:
        raise LoadError(f"cannot read the {what}: {exc.strerror}", file=path) from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(st.st_mode, path, what)
    too_big = f"the {what} is {{size}} bytes, over the limit of {max_bytes}"
    if st.st_size > max_bytes:
        raise LoadError(too_big.format(size=st.st_size), file=path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise LoadError(f"cannot read the {what}: {exc.strerror}", file=path) from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(mode, path, what)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LoadError(too_big.format(size=f"more than {max_bytes}"), file=path)
    return data


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _yaml_problem(exc: yaml.YAMLError, text: str, path: Path) -> LoadError:
    """``file:line: what to fix`` for anything PyYAML raises."""
    if isinstance(exc, yaml.reader.ReaderError):
        # a raw control byte (NUL, ESC...): PyYAML gives a character position, not a line
        return LoadError(
            f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason})",
            file=path,
            line=_line_at(text, exc.position),
            hint='remove the control character (write it as an escape such as "\\t" only if it is meant)',
        )
    if not isinstance(exc, yaml.MarkedYAMLError):
        return LoadError(f"broken YAML: {exc}", file=path, hint="check the file's syntax")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    hint = "check indentation, colons and quotes on this line"
    context, problem = exc.context_mark, exc.problem_mark
    if (
        exc.context
        and exc.context.startswith("while parsing a flow")
        and context is not None
        and problem is not None
        and problem.line > context.line
    ):
        # An unclosed {…}/[…] or a missing ',' is found only at the next line's first key, but
        # the mistake is at the end of the previous line with content (unless that next line
        # itself continues the collection after a ',').
        start = text.rfind("\n", 0, problem.index) + 1
        if "," not in text[start : problem.index]:
            line = _last_content_line(text, start, context.line + 1)
            pair = "{…}" if "mapping" in exc.context else "[…]"
            hint = f"close the {pair} opened on line {context.line + 1}, or add the missing ','"
    return LoadError(f"broken YAML: {exc.problem or exc.context}", file=path, line=line, hint=hint)


def _last_content_line(text: str, before: int, floor: int) -> int:
    """1-based line of the last non-blank, non-comment line that ends before offset ``before``."""
    lines = text[:before].split("\n")
    for n in range(len(lines), floor - 1, -1):
        stripped = lines[n - 1].strip()
        if stripped and not stripped.startswith("#"):
            return n
    return floor


class _CLoader(yaml.CSafeLoader):  # type: ignore[misc, name-defined]
    """libyaml's parser with the toolkit's resolvers (no timestamps): the same nodes, in C."""


_CLoader.yaml_implicit_resolvers = {k: list(v) for k, v in SafeFactsLoader.yaml_implicit_resolvers.items()}


def load_yaml(path: Path, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH, fast: bool = False) -> YamlDoc:
    """A facts file's data and the line of every key. With ``fast``, libyaml's C parser reads it
    first; a document it cannot read, or an empty one, is read again by the pure parser, so that
    the message and line are exactly the ones the pure parser reports."""
    raw = read_capped(path, max_bytes, what="file")
    text = decode_utf8(raw, path)
    if fast and (doc := _load_c(path, text, max_depth)) is not None:
        return doc
    try:
        loader = SafeFactsLoader(text)  # the reader checks for control bytes here already
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, text, path) from None
    loader.max_depth = max_depth
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, text, path) from None
    except _TooDeep as exc:
        raise LoadError(f"nesting deeper than {max_depth} levels", file=path, line=exc.line) from None
    except RecursionError:  # pragma: no cover - the depth count stops long before
        raise LoadError(f"nesting deeper than {max_depth} levels", file=path) from None
    finally:
        loader.dispose()
    doc = YamlDoc(path=path, data=None)
    if node is None:
        # an empty document (nothing but comments or blanks): problems with it are on line 1
        doc.lines[()] = 1
        return doc
    doc.data = convert_node(node, (), doc, loader, set(), max_depth)
    return doc


def _load_c(path: Path, text: str, max_depth: int) -> YamlDoc | None:
    c_loader = _CLoader(text)
    try:
        node = c_loader.get_single_node()
    except yaml.YAMLError:
        return None
    if node is None:  # an empty document: the pure loader says what it means
        c_loader.dispose()
        return None
    doc = YamlDoc(path=path, data=None)
    try:
        doc.data = convert_node(node, (), doc, c_loader, set(), max_depth)
    finally:
        c_loader.dispose()
    return doc


def convert_node(
    node: yaml.Node,
    path: JsonPath,
    doc: YamlDoc,
    loader: SafeFactsLoader,
    seen: set[int],
    max_depth: int,
) -> Any:
    """A composed YAML node as plain data, with each value's line recorded in ``doc``; public
    because the build's fast reader (libyaml's composer) converts its nodes with it too."""
    line = node.start_mark.line + 1
    if len(path) > max_depth:
        raise LoadError(f"nesting deeper than {max_depth} levels", file=doc.path, line=line)
    if id(node) in seen:  # the same node twice: an alias (of a map, a list or a single value)
        raise LoadError(
            "YAML anchors and aliases are not supported",
            file=doc.path,
            line=doc.lines.get(path, line),  # the key that uses the alias, not the anchor's line
            hint="write the value out in full",
        )
    seen.add(id(node))
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
    doc.lines.setdefault(path, line)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise LoadError(f"unsupported YAML tag {node.tag}", file=doc.path, line=line)
        items = []
        for i, child in enumerate(node.value):
            items.append(convert_node(child, (*path, i), doc, loader, seen, max_depth))
        return items
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise LoadError(f"unsupported YAML tag {node.tag}", file=doc.path, line=line)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise LoadError("map keys must be plain strings", file=doc.path, line=kline)
            if id(key_node) in seen:  # an alias as a key: its mark is the anchor's, the value's is here
                raise LoadError(
                    "YAML anchors and aliases are not supported",
                    file=doc.path,
                    line=value_node.start_mark.line + 1,
                    hint="write the key out in full",
                )
            seen.add(id(key_node))
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
            out[key] = convert_node(value_node, (*path, key), doc, loader, seen, max_depth)
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
