from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.sources.text import Normalised, closest_passage, find_span

RAW = "标题\n\n第一段,有  空格。\n第二段\n继续。"


def test_offsets_point_into_the_raw_text() -> None:
    body = Normalised.of(RAW)
    start, end = find_span("有 空格", body)  # one space in the quote, two in the text
    assert RAW[start:end] == "有  空格"


def test_quote_across_a_line_break() -> None:
    start, end = find_span("第二段 继续", Normalised.of(RAW))
    assert RAW[start:end] == "第二段\n继续"


def test_search_is_limited_to_the_body() -> None:
    body = Normalised.of(RAW, RAW.index("第一段"), RAW.index("第二段"))
    assert find_span("标题", body) is None
    assert find_span("第一段", body) is not None


def test_closest_passage_names_the_nearest_sentence() -> None:
    assert closest_passage("第二段,继续", Normalised.of(RAW)).startswith("第二段")


def test_closest_passage_is_a_short_window_of_a_long_sentence() -> None:
    # a text without sentence ends (a password file, a log) was printed whole, once per bad quote
    raw = "".join(f"user{i}:x:{i}:{i}::/home/user{i}:/bin/sh " for i in range(200))
    near = closest_passage("user150:x:150:150::/home/user150", Normalised.of(raw))
    assert len(near) <= 82 and near.startswith("…") and near.endswith("…")
    assert "user150:x:150" in near  # centred on what the quote shares with the text
    assert closest_passage("第二段,继续", Normalised.of(RAW), width=3) == "第二段…"


def _by_character(raw: str, start: int, end: int) -> tuple[str, list[int]]:
    """The normalisation written the plain way, one character at a time: the reference."""
    chars: list[str] = []
    offsets: list[int] = []
    i = start
    while i < end:
        if raw[i].isspace():
            j = i
            while j < end and raw[j].isspace():
                j += 1
            if chars:
                chars.append(" ")
                offsets.append(i)
            i = j
            continue
        chars.append(raw[i])
        offsets.append(i)
        i += 1
    return "".join(chars), offsets


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab第。 \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000")), max_size=40), st.data())
def test_normalising_run_by_run_equals_character_by_character(raw: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(raw)))
    end = data.draw(st.integers(start, len(raw)))
    body = Normalised.of(raw, start, end)
    assert (body.text, body.offsets) == _by_character(raw, start, end)
