"""Numbers as Chinese news writes them: Arabic or Chinese numerals, with 约/近/超过 and a unit.

Why own code: cn2an reads numerals but not the hedges and classifiers around them, and a
quantity without its 约 or 超过 is a different claim. The reader here is small and exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "亿": 100_000_000}

#: hedges kept with the number: what they say about the true value
QUALIFIERS = {
    "约": "approximately",
    "大约": "approximately",
    "近": "nearly",
    "将近": "nearly",
    "超过": "more than",
    "超": "more than",
    "逾": "more than",
    "不少于": "at least",
    "至少": "at least",
    "不低于": "at least",
    "达到": "reaching",
    "达": "reaching",
    "突破": "more than",
    "多达": "as many as",
}
#: classifiers and units that make a number a quantity (longest first in the pattern)
UNITS = [
    "万亿元",
    "亿元",
    "万元",
    "元",
    "亿美元",
    "万标准箱",
    "标准箱",
    "万吨",
    "吨",
    "公里",
    "平方公里",
    "平方米",
    "千瓦",
    "兆瓦",
    "%",
    "名",
    "位",
    "家",
    "个",
    "件",
    "条",
    "项",
    "座",
    "所",
    "人",
    "次",
    "台",
    "套",
    "款",
    "批",
    "支",
    "余家",
    "多家",
    "倍",
    "成",
]
_CN = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:\.\d+)?(?:[万亿]+)?|[{_CN}]+)"
_QUAL = "|".join(sorted(QUALIFIERS, key=len, reverse=True))
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
QUANTITY = re.compile(rf"(?P<qual>{_QUAL})?(?P<num>{_NUM})(?P<unit>{_UNIT})(?P<more>以上|以下|左右|多)?")


def read_chinese_number(text: str) -> float | None:
    """Value of 一百, 三百万, 二十, 1500, 4000亿 or 12.5万; None for anything else."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([万亿]*)", text)
    if m:
        value = float(m.group(1))
        for ch in m.group(2):
            value *= _LARGE[ch]
        return value
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[ch]
            digit = None
        elif ch in _LARGE:
            section += digit or 0
            total = (total + section) * _LARGE[ch] if ch == "亿" else total + section * _LARGE[ch]
            section, digit = 0, None
        else:
            return None
    return float(total + section + (digit or 0))


@dataclass(frozen=True)
class Quantity:
    """One number with its unit and hedge, and the words around it that say what it counts."""

    stated: str
    value: float
    unit: str
    qualifier: str | None
    counts: str
    start: int  # offset in the normalised body

    @property
    def value_text(self) -> str:
        return str(int(self.value)) if self.value == int(self.value) else f"{self.value:g}"


def find_quantities(text: str) -> list[Quantity]:
    """Every number with a classifier or unit in ``text``; years and dates are left to the date finder."""
    out: list[Quantity] = []
    for m in QUANTITY.finditer(text):
        num, unit = m.group("num"), m.group("unit")
        after = text[m.end() : m.end() + 1]
        if after in "年月日号" and after:
            continue  # 2028年, 3月: a date, not a count
        if unit == "成" and not re.fullmatch(f"[{_CN}]+", num):
            continue
        if num in ("一",) and unit in ("个", "条", "家", "批", "项"):
            continue  # 一个, 一条: an article, not a count
        value = read_chinese_number(num)
        if value is None:
            continue
        counts = re.match(r"[^，。；、：,;:“”《》（）()]{0,14}", text[m.end() :])
        qual = m.group("qual")
        if m.group("more") in ("以上", "多"):
            qual = qual or "超过"
        out.append(
            Quantity(
                stated=m.group(0),
                value=value,
                unit=unit,
                qualifier=qual,
                counts=counts.group(0) if counts else "",
                start=m.start(),
            )
        )
    return out
