"""JSON-LD: the published context, and a unit's nodes as blocks of ``policy.jsonld``.

Each node is compacted with the published context (schema/context.jsonld, inlined) by
:class:`toolkit.export.render.JsonLdWriter`, as pyld would compact it; the tests' oracle
(``tests/oracle/jsonld.py``) compacts the whole graph with pyld and compares the bytes.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING

from toolkit.export.blocks import Block, FileContext, Format, OutputProblems, Spec, json_list_spec, load_part, utf8
from toolkit.schema.generate import context_document
from toolkit.schema.model import Model

if TYPE_CHECKING:
    from toolkit.export.units import Unit


@cache
def context_json(model: Model) -> str:
    """The published JSON-LD context as JSON text (cached; callers parse their own copy).

    Public because the fast build compacts per-source blocks with the same context.
    """
    return json.dumps(context_document(model))


# ------------------------------------------------------------------ per-unit blocks (the pipeline)


def spec(ctx: FileContext) -> Spec:
    return json_list_spec({"@context": json.loads(context_json(ctx.model))["@context"], "@graph": []}, "@graph")


def blocks(unit: Unit, uid: int, ctx: FileContext) -> list[Block]:
    part = load_part(unit, "jsonld")
    if part["jsonld_errors"]:
        raise OutputProblems()
    return [(node_id, uid, utf8(text)) for node_id, text in part["jsonld_nodes"]]


FORMAT = Format(
    file="policy.jsonld",
    media_type="application/ld+json",
    ckan="JSON-LD",
    eu_file_type="JSON_LD",
    titles=("JSON-LD 格式的数据集", "The dataset in JSON-LD"),
    spec=spec,
    blocks=blocks,
)
