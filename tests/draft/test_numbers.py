"""Chinese numbers and quantities: numerals read, hedges kept, 万/亿 kept in the unit."""

from __future__ import annotations

import pytest

from toolkit.draft.numbers import find_quantities, read_chinese_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("九", 9),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("三百", 300),
        ("一千五百", 1500),
        ("两千", 2000),
        ("三万五千", 35000),
        ("一亿二千万", 120_000_000),
        ("4000", 4000),
        ("12.5万", 125_000),
        ("四十亿", 4_000_000_000),
    ],
)
def test_read_chinese_number(text: str, value: float) -> None:
    assert read_chinese_number(text) == value


@pytest.mark.parametrize(
    ("text", "stated", "value", "unit", "qualifier", "counts"),
    [
        ("来自各地的约300名专家学者和企业代表参加", "约300名", 300, "名", "approximately", "专家学者"),
        ("全省相关企业已近百家", "近百家", 100, "家", "nearly", ""),
        ("新增专利授权超过三百件，", "超过三百件", 300, "件", "more-than", ""),
        ("建成10个以上自动化泊位", "10个以上", 10, "个", "at-least", "自动化泊位"),
        ("规模已近4000亿元", "近4000亿元", 4000, "亿元", "nearly", ""),
        ("年吞吐能力约三百万标准箱", "约三百万标准箱", 300, "万标准箱", "approximately", ""),
        ("引进项目一百零五个", "一百零五个", 105, "个", None, ""),
        ("培育不少于12家领军企业", "不少于12家", 12, "家", "at-least", "领军企业"),
        ("3000多家企业", "3000多家", 3000, "家", "more-than", "企业"),
    ],
)
def test_find_quantities(text: str, stated: str, value: float, unit: str, qualifier: str | None, counts: str) -> None:
    (q,) = find_quantities(text)
    assert (q.stated, q.value, q.unit, q.qualifier, q.counts) == (stated, value, unit, qualifier, counts)


def test_dates_and_articles_are_not_quantities() -> None:
    assert find_quantities("到2028年，3月11日，一个新的高度，一条路") == []
