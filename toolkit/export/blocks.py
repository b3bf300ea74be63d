"""What a format renders: a file is a header, blocks in the order of a key, and a footer.

Why here, in the export stage: every release file made from the sources is written this way
by the per-source pipeline. Each format module renders one unit's blocks and the file's
:class:`Spec` (header, separators, footer); :mod:`toolkit.publish.splice` writes them, and the
incremental rebuild splices a changed unit's blocks into the previous file.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from toolkit.config import Settings
    from toolkit.export.units import Unit
    from toolkit.schema.model import Model

GLOBAL = -1
"""Owner id of the blocks that belong to no source (they are rewritten by a full build only)."""

Key: TypeAlias = str | tuple[int, str]
"""A block's sort key: a string, or an (int, string) pair compared as a tuple; all keys of one
file are of the same kind. A key's string never contains NUL (it separates keys in a dump)."""

Block: TypeAlias = tuple[Key, int, bytes]
"""A block to write: its key, its owner id and its body (without separators)."""


class Unsupported(Exception):
    """What the per-source renderings cannot write exactly (a prefix bound to two namespaces,
    rdfs:Class members...): the build refuses it, naming why."""


class OutputProblems(Exception):
    """A unit's renderings failed their JSON Schema: the full assembly says where."""


@dataclass(frozen=True)
class Spec:
    """The fixed texts around and between the blocks of one kind of file.

    They live apart from the blocks so that a splice can change them (a header that carries a
    count or a date) while every block body is copied from the old file.
    """

    header: bytes = b""
    """Written first."""
    footer: bytes = b""
    """Written last."""
    sep: bytes = b""
    """Written between two consecutive blocks."""
    last: bytes = b""
    """Written after the last block, instead of `sep` (a JSON array's final node has no comma)."""
    empty: bytes | None = None
    """If set, the whole file when there are no blocks (e.g. ``[]`` rather than a bracket per line)."""


def json_list_item(value: Any) -> str:
    """``value`` as :func:`json.dumps` writes an item of a top-level list with ``indent=2``."""
    try:
        return "    " + _indented(value, "\n    ")
    except _Other:
        return "\n".join("    " + line for line in json.dumps(value, ensure_ascii=False, indent=2).split("\n"))


class _Other(Exception):
    """A value :func:`_indented` leaves to :func:`json.dumps` (a key that is not a string, a
    type of its own)."""


_STRING = json.encoder.encode_basestring  # the C function json.dumps uses (ensure_ascii=False)


def _indented(value: Any, newline: str) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` for strings, numbers, booleans, None,
    lists, tuples and dicts with string keys, each line after the first starting ``newline``.

    Why not json.dumps: with ``indent`` it runs the encoder written in Python, a generator per
    level and a call per value; every JSON-LD node of the release (the data and the catalog,
    about 8,000 at 120k triples) went through it, about a second of the build. This writes the
    same text with fewer calls. Anything else raises :class:`_Other`."""
    if isinstance(value, str):
        return _STRING(value)
    inner = newline + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Other
            parts.append(f"{_STRING(k)}: {_STRING(v) if isinstance(v, str) else _indented(v, inner)}")
        return f"{{{inner}{(',' + inner).join(parts)}{newline}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [_STRING(v) if isinstance(v, str) else _indented(v, inner) for v in value]
        return f"[{inner}{(',' + inner).join(items)}{newline}]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)  # NaN and the infinities as json writes them
    raise _Other


def json_list_spec(doc: dict[str, Any], key: str) -> Spec:
    """The spec of ``json.dumps(doc, ensure_ascii=False, indent=2) + "\\n"`` whose top-level list
    ``doc[key]`` holds the blocks, each written by :func:`json_list_item`."""
    head = json.dumps({**doc, key: [0]}, ensure_ascii=False, indent=2)
    before, after = head.rsplit("\n    0\n", 1)
    empty = json.dumps({**doc, key: []}, ensure_ascii=False, indent=2) + "\n"
    return Spec(
        header=(before + "\n").encode("utf-8"),
        footer=(after + "\n").encode("utf-8"),
        sep=b",\n",
        last=b"\n",
        empty=empty.encode("utf-8"),
    )


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


class DamagedCache(Exception):
    """A cached rendering could not be read; the unit's cache entry is dropped (build again)."""


PARTS_SUFFIX = ".parts"
"""A cached unit's parts file (beside its unit file): its lines and renderings, one after the
other, where :attr:`toolkit.export.units.Unit.parts` says."""


def parts_file(unit: Unit) -> str:
    assert unit.cache_path is not None
    return unit.cache_path + PARTS_SUFFIX


def read_part(unit: Unit, name: str) -> bytes:
    """One part of a cached unit, read alone (OSError, or ValueError when it is not there whole)."""
    start, end = unit.parts[name]
    with open(parts_file(unit), "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    if len(data) != end - start:
        raise ValueError(f"{len(data)} bytes, not {end - start}")
    return data


def load_part(unit: Unit, part: str) -> dict[str, Any]:
    """One kind of rendering of a cached unit (see :data:`toolkit.export.units.PARTS`); a part that
    cannot be read drops the unit's cache entry and raises :class:`DamagedCache`."""
    assert unit.cache_path is not None
    try:
        data = pickle.loads(read_part(unit, part))
        if not isinstance(data, dict):
            raise TypeError(type(data))
        return data
    except Exception as exc:
        Path(unit.cache_path).unlink(missing_ok=True)
        raise DamagedCache(f"{parts_file(unit)} ({part}): {exc}") from None


@dataclass(frozen=True)
class FileContext:
    """What a format needs besides one unit: the settings, the model and the sums over every
    unit (``totals``: the prefixes used, the reference counts; see
    :class:`toolkit.publish.assemble.Aggregates`)."""

    settings: Settings
    model: Model
    totals: Any


@dataclass(frozen=True)
class Format:
    """One release file made from the units: where it goes and how it is rendered.

    The catalog, the manifest, the data package and the CKAN upload read ``media_type``,
    ``eu_file_type``, ``titles`` and ``ckan`` from here, so a format added to
    :data:`toolkit.export.formats.FORMATS` is described everywhere without other changes."""

    file: str
    media_type: str
    ckan: str  # the CKAN resource format
    eu_file_type: str  # the EU file-type authority code (DCAT ``dct:format``)
    titles: tuple[str, str]  # zh, en: the title of its distribution in the catalog
    spec: Callable[[FileContext], Spec]
    blocks: Callable[[Unit, int, FileContext], list[Block]]
    rekey: Callable[[FileContext], Callable[[str], int]] | None = None
    """For a file whose keys hold a count that another unit may change (Turtle's reference
    counts): a kept block whose count changed moves to its new key, its bytes unchanged."""
    per_source: bool = False
    """Made of each source's unit as it is (a named graph per source), rather than of the units
    by subject (where units that state triples about a common subject are rendered merged)."""
    in_datapackage: bool = False
    """Listed in ``datapackage.json`` besides the CSV tables."""
    stream: Callable[[list[tuple[int, Unit]], FileContext], Iterable[Block]] | None = None
    """Every block in key order, made while written (for files whose blocks would otherwise
    hold a second copy of the units' lines in memory), with those that belong to no source
    (owner :data:`GLOBAL`, e.g. the ontology's graph, which a rebuild keeps); by default
    :meth:`all_blocks` gathers and sorts the units' blocks."""

    def all_blocks(self, units: list[tuple[int, Unit]], ctx: FileContext) -> Iterable[Block]:
        """Every block, in key order."""
        if self.stream is not None:
            return self.stream(units, ctx)
        out: list[Block] = []
        for uid, unit in units:
            out.extend(self.blocks(unit, uid, ctx))
        out.sort(key=lambda b: b[0])
        return out
