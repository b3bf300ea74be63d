"""Numbers as Chinese news writes them: Arabic or Chinese numerals, with 约/近/超过 and a unit.

Why own code: cn2an reads numerals but not the hedges and classifiers around them, and a
quantity without its 约 or 超过 is a different claim. The reader here is small and exact.
The unit keeps its 万 or 亿 (4000亿元 is 4000 of the unit 亿元), as the model's Quantity does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.sources.dates import DateProblem, cn_number

_LARGE = {"万": 10_000, "亿": 100_000_000}

#: hedges before the number, as the model's qualifier values; None: the word stays in the
#: quote but does not change the claim (达到 4000 is 4000)
QUALIFIERS: dict[str, str | None] = {
    "约": "approximately",
    "大约": "approximately",
    "近": "nearly",
    "将近": "nearly",
    "超过": "more-than",
    "超": "more-than",
    "逾": "more-than",
    "突破": "more-than",
    "不少于": "at-least",
    "至少": "at-least",
    "不低于": "at-least",
    "达到": None,
    "达": None,
    "多达": None,
}
#: hedges after the number (3000多家, 10个以上, 300人左右)
AFTER = {"以上": "at-least", "多": "more-than", "余": "more-than", "左右": "approximately"}
#: classifiers and units that make a number a quantity
UNITS = [
    "美元",
    "元",
    "标准箱",
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
    "倍",
    "成",
]
_CN = "零〇一二两三四五六七八九十百千"
_NUM = rf"(?:\d+(?:\.\d+)?|[{_CN}]+(?:[万亿][{_CN}]+)*)"
#: what a number counts: the words after its unit, up to a function word or punctuation
_COUNTS = re.compile(r"(?:(?!还|将|已|在|和|与|及|并|等|的|是|为|都|也|正|参加|进行)[^\s\d，。；、：,;:“”《》（）()])+")
_QUAL = "|".join(sorted(QUALIFIERS, key=len, reverse=True))
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
QUANTITY = re.compile(
    rf"(?P<qual>{_QUAL})?(?P<num>{_NUM})(?P<more1>多|余)?(?P<unit>(?:万亿|亿|万)?(?:{_UNIT}))(?P<more>以上|左右)?"
)


def read_chinese_number(text: str) -> float | None:
    """Value of 一百, 三百, 二十, 1500, 4000亿 or 12.5万; None for anything else."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([万亿]*)", text)
    if m:
        value = float(m.group(1))
        for ch in m.group(2):
            value *= _LARGE[ch]
        return value
    try:  # Chinese numerals are read as the dates' resolver reads them (one reader for both)
        return float(cn_number(text))
    except DateProblem:
        return None


@dataclass(frozen=True)
class Quantity:
    """One number with its unit and hedge, and the words after it that say what it counts."""

    stated: str  # the words: 近4000亿元
    numeral: str  # the number as written: 4000, 二十
    value: float  # its value: 4000.0
    unit: str  # with its 万 or 亿: 亿元, 万标准箱
    qualifier: str | None  # approximately, nearly, more-than, at-least (the model's values)
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
        if after and after in "年月日号":
            continue  # 2028年, 3月: a date, not a count
        if unit.endswith("成") and not re.fullmatch(f"[{_CN}]+", num):
            continue
        if num == "一" and unit in ("个", "条", "家", "批", "项", "支", "次"):
            continue  # 一个, 一条: an article, not a count
        value = read_chinese_number(num)
        if value is None:
            continue
        qual = QUALIFIERS.get(m.group("qual") or "")
        for word in (m.group("more1"), m.group("more")):
            qual = qual or AFTER.get(word or "")
        counts = _COUNTS.match(text[m.end() :])
        out.append(
            Quantity(
                stated=m.group(0),
                numeral=num,
                value=value,
                unit=unit,
                qualifier=qual,
                counts=counts.group(0)[:12] if counts else "",
                start=m.start(),
            )
        )
    return out
