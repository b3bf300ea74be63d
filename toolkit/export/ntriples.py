"""N-Triples, one triple per line, lines sorted (diff-friendly, byte-stable)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from toolkit.export.blocks import Block, FileContext, Format, Spec

if TYPE_CHECKING:
    from toolkit.export.units import Unit


def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
    """One block per subject: its slice of the unit's sorted lines."""
    nt = unit.nt or b""
    return [(s + ">", uid, nt[a:b]) for s, a, b in unit.spans]


def stream(units: list[tuple[int, Unit]], ctx: FileContext) -> Iterator[Block]:
    """The blocks sliced while written (the units' lines are read once each, for this file only):
    at a million triples, a list of every slice would hold the whole file a second time."""
    spans = sorted((s + ">", uid, a, b) for uid, u in units for s, a, b in u.spans)
    nts = {uid: u.nt or b"" for uid, u in units}
    return ((key, uid, nts[uid][a:b]) for key, uid, a, b in spans)


FORMAT = Format(
    file="policy.nt",
    media_type="application/n-triples",
    ckan="N-Triples",
    eu_file_type="RDF_N_TRIPLES",
    titles=("N-Triples 格式的数据集", "The dataset in N-Triples"),
    spec=lambda ctx: Spec(),
    blocks=blocks,
    stream=stream,
)
