"""The JSON-LD blocks' writer (:func:`toolkit.export.blocks.json_list_item`) writes what
``json.dumps(..., ensure_ascii=False, indent=2)`` writes, for any JSON value (issue 11: it
replaced json.dumps's Python encoder on the build's path)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.export.blocks import json_list_item

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, min_size=1, max_size=2)
    ),  # keys json.dumps converts
    max_leaves=25,
)


def reference(value: Any) -> str:
    return "\n".join("    " + line for line in json.dumps(value, ensure_ascii=False, indent=2).split("\n"))


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert json_list_item(value) == reference(value)


def test_a_json_ld_node() -> None:
    node = {
        "id": "pt:x",
        "type": ["Plan", "Document"],
        "label": {"zh": "“十四五”规划\n", "en": 'say "x"'},
        "count": 3,
        "share": 0.5,
        "ok": True,
        "none": None,
        "empty": {},
        "list": [],
        "links": [{"@id": "pt:y"}],
    }
    assert json_list_item(node) == reference(node)
