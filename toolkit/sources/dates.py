"""Dates with their true precision, and relative dates resolved against a publication date.

An article says "今年9月1日" or "上月"; the facts keep those words and the toolkit resolves
them against the article's publication date, so the value is reproducible and marked inferred.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

XSD = "http://www.w3.org/2001/XMLSchema#"
_LEXICAL = re.compile(r"^(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class DateProblem(ValueError):
    """A date that cannot exist or cannot be read; the message says what to write instead."""


@dataclass(frozen=True, order=True)
class DateValue:
    lexical: str

    @property
    def precision(self) -> str:
        return {4: "gYear", 7: "gYearMonth"}.get(len(self.lexical.lstrip("-")), "date")

    @property
    def datatype(self) -> str:
        return XSD + self.precision

    @property
    def year(self) -> int:
        return int(_LEXICAL.match(self.lexical).group(1))  # type: ignore[union-attr]

    @property
    def month(self) -> int | None:
        month = _LEXICAL.match(self.lexical).group(2)  # type: ignore[union-attr]
        return int(month) if month else None


def _year(year: int) -> str:
    """The lexical year: at least four digits, a minus sign before years before 1 BCE."""
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def parse_date(raw: object) -> DateValue:
    """Read YYYY, YYYY-MM or YYYY-MM-DD (or an integer year); reject impossible dates."""
    text = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else None
    if text is None:
        raise DateProblem(f"{raw!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    if isinstance(raw, int):
        text = f"{raw:04d}"
    m = _LEXICAL.match(text)
    if not m:
        raise DateProblem(f"{text!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month is not None and not 1 <= int(month) <= 12:
        raise DateProblem(f"{text!r}: month {month} does not exist")
    if day is not None:
        try:
            _dt.date(int(year), int(month), int(day))  # type: ignore[arg-type]
        except ValueError:
            raise DateProblem(f"{text!r} is not a real calendar date") from None
    return DateValue(text)


_CN_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _num(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text in _CN_NUM:
        return _CN_NUM[text]
    if text.startswith("十") and len(text) == 2:
        return 10 + _CN_NUM[text[1]]
    if text.endswith("十") and len(text) == 2:
        return _CN_NUM[text[0]] * 10
    if len(text) == 3 and text[1] == "十":
        return _CN_NUM[text[0]] * 10 + _CN_NUM[text[2]]
    raise DateProblem(f"cannot read the number {text!r}")


_N = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^今年{_N}月{_N}[日号]$"), "this-year-day"),
    (re.compile(rf"^今年{_N}月(份)?$"), "this-year-month"),
    (re.compile(rf"^{_N}月{_N}[日号]$"), "this-year-day"),
    (re.compile(rf"^去年{_N}月{_N}[日号]$"), "last-year-day"),
    (re.compile(rf"^去年{_N}月(份)?$"), "last-year-month"),
    (re.compile(r"^(今年|本年|年内)$"), "this-year"),
    (re.compile(r"^(明年|来年)$"), "next-year"),
    (re.compile(r"^(去年|上年)$"), "last-year"),
    (re.compile(r"^(本月|这个月)$"), "this-month"),
    (re.compile(r"^(上月|上个月)$"), "last-month"),
    (re.compile(r"^(下月|下个月)$"), "next-month"),
]


def resolve_relative(stated: str, published: DateValue) -> DateValue | None:
    """Resolve a relative Chinese date against the publication date, or None if not understood.

    Month-relative phrases need the publication month; they return None for a year-only date.
    """
    text = stated.strip()
    year = published.year
    month = published.month
    for rx, kind in _PATTERNS:
        m = rx.match(text)
        if not m:
            continue
        if kind == "this-year":
            return parse_date(_year(year))
        if kind == "next-year":
            return parse_date(_year(year + 1))
        if kind == "last-year":
            return parse_date(_year(year - 1))
        if kind in ("this-year-day", "last-year-day"):
            y = year - (kind == "last-year-day")
            return parse_date(f"{_year(y)}-{_num(m.group(1)):02d}-{_num(m.group(2)):02d}")
        if kind in ("this-year-month", "last-year-month"):
            y = year - (kind == "last-year-month")
            return parse_date(f"{_year(y)}-{_num(m.group(1)):02d}")
        if month is None:
            return None
        shift = {"this-month": 0, "last-month": -1, "next-month": 1}[kind]
        total = year * 12 + (month - 1) + shift
        return parse_date(f"{_year(total // 12)}-{total % 12 + 1:02d}")
    return None
