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


_CN_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL = r"\d+|[〇零一二两三四五六七八九十百千万亿]+"


def cn_number(text: str) -> int:
    """Read a number written in Arabic digits or Chinese numerals: 九, 十二, 二十四, 一百零五, 两万.

    A run of digit characters only (二〇二五) is read digit by digit, as years are written.
    Why here: dates (二〇二五年, 十四五) and quantities (九城市) both need it.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_UNIT and ch not in _CN_BIG for ch in text):
        raise DateProblem(f"cannot read the number {text!r}")
    if len(text) > 1 and all(ch in _CN_DIGIT for ch in text):
        return int("".join(str(_CN_DIGIT[ch]) for ch in text))
    total, wan, section, digit = 0, 0, 0, None
    for ch in text:
        if ch in _CN_DIGIT:
            digit = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            section += (1 if digit is None else digit) * _CN_UNIT[ch]
            digit = None
        elif ch == "万":
            wan += (section + (digit or 0)) * _CN_BIG[ch]
            section, digit = 0, None
        else:  # 亿: everything so far is counted in hundreds of millions
            total = (total + wan + section + (digit or 0)) * _CN_BIG[ch]
            wan, section, digit = 0, 0, None
    return total + wan + section + (digit or 0)


def _num(text: str) -> int:
    return cn_number(text)


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


@dataclass(frozen=True)
class Resolution:
    """What stated words mean: a value to publish and, for periods, the interval behind it.

    ``start``/``end`` are the inclusive bounds of the interval the words name (``end`` is None
    for an open period such as 2022年以来); ``precision`` says how to read the value: day, month,
    year for a point, quarter, half-year or period for an interval, approximate for 近日/日前.
    A plain point (今年9月1日) has no bounds, so its resolution is published as before.
    """

    value: DateValue
    precision: str
    start: DateValue | None = None
    end: DateValue | None = None
    open_ended: bool = False

    @property
    def is_point(self) -> bool:
        return self.start is None and self.end is None and not self.open_ended


_Y = r"(\d{4}|[〇零一二三四五六七八九]{4})"
_REL_YEAR = {"今年": 0, "本年": 0, "明年": 1, "来年": 1, "去年": -1, "上年": -1}
_YEAR_WORD = rf"(?:{_Y}年|(今年|本年|明年|来年|去年|上年))"
_DASH = r"\s*(?:—|–|-|－|~|～|至|到)\s*"
_ABS = re.compile(rf"^{_Y}年(?:{_N}月(?:{_N}[日号])?)?$")
_OPEN = re.compile(r"^(?:自|从)?(.+?)(?:以来|起|开始)$")
_RANGE = re.compile(rf"^{_Y}(?:年)?{_DASH}{_Y}年$")
_QUARTER = re.compile(rf"^{_YEAR_WORD}?第?([一二三四1-4])季度$")
_HALF = re.compile(rf"^{_YEAR_WORD}?(上|下)半年$")
_PLAN = re.compile(r"^[“\"]?(十[一二三四五六七八九]|[一二三四五六七八九十])五[”\"]?(?:规划)?(?:时期|期间)?$")
_ANNIVERSARY = re.compile(rf"^(?:成立|建成|建设|启动|开通|揭牌|设立)?({CN_NUMERAL})周年$")
_VAGUE = {"近日", "日前", "近期", "前不久", "不久前", "日内"}
#: how far back 近日/日前 may reach before the publication date (days)
VAGUE_DAYS = 30


def _year_of(m_year: str | None, m_rel: str | None, published: DateValue) -> int:
    if m_year:
        return cn_number(m_year)
    if m_rel:
        return published.year + _REL_YEAR[m_rel]
    return published.year


def _months(year: int, first: int, last: int) -> tuple[DateValue, DateValue]:
    return parse_date(f"{_year(year)}-{first:02d}"), parse_date(f"{_year(year)}-{last:02d}")


def plan_period(number: int) -> tuple[int, int]:
    """The years of the N-th five-year plan (一五 1953-1957, 三五 1966-1970, 十四五 2021-2025)."""
    if number == 1:
        return 1953, 1957
    if number == 2:
        return 1958, 1962
    first = 1966 + 5 * (number - 3)
    return first, first + 4


def resolve(stated: str, published: DateValue, *, since: DateValue | None = None) -> Resolution | None:
    """Resolve stated Chinese date words against the publication date, or None if not understood.

    Beyond :func:`resolve_relative`'s points: absolute years in any numerals (二〇二五年),
    open periods (2022年以来), anniversaries (五周年, counted from ``since``), vague dates
    (近日, 日前: the ``VAGUE_DAYS`` before publication), ranges (2021—2025年), quarters
    (一季度), halves (上半年) and plan periods (十四五). The value is the period's start;
    :meth:`Resolution.bound` gives the end for a property that closes a period.
    """
    text = stated.strip()
    point = resolve_relative(text, published)
    if point is not None:
        return Resolution(point, {"gYear": "year", "gYearMonth": "month", "date": "day"}[point.precision])
    m = _ABS.match(text)
    if m:
        year = cn_number(m.group(1))
        lexical = _year(year)
        if m.group(2):
            lexical += f"-{cn_number(m.group(2)):02d}"
            if m.group(3):
                lexical += f"-{cn_number(m.group(3)):02d}"
        value = parse_date(lexical)
        return Resolution(value, {"gYear": "year", "gYearMonth": "month", "date": "day"}[value.precision])
    if text in _VAGUE:
        if published.precision != "date":
            return None
        end = _dt.date.fromisoformat(published.lexical)
        begin = end - _dt.timedelta(days=VAGUE_DAYS)
        return Resolution(published, "approximate", start=parse_date(begin.isoformat()), end=published)
    m = _RANGE.match(text)
    if m:
        first, last = parse_date(_year(cn_number(m.group(1)))), parse_date(_year(cn_number(m.group(2))))
        if last < first:
            raise DateProblem(f"{stated!r}: the range ends before it starts")
        return Resolution(first, "period", start=first, end=last)
    m = _PLAN.match(text)
    if m:
        a, b = plan_period(cn_number(m.group(1)))
        return Resolution(parse_date(_year(a)), "period", start=parse_date(_year(a)), end=parse_date(_year(b)))
    m = _QUARTER.match(text)
    if m:
        year = _year_of(m.group(1), m.group(2), published)
        q = cn_number(m.group(3))
        first, last = _months(year, 3 * q - 2, 3 * q)
        return Resolution(first, "quarter", start=first, end=last)
    m = _HALF.match(text)
    if m:
        year = _year_of(m.group(1), m.group(2), published)
        first, last = _months(year, 1, 6) if m.group(3) == "上" else _months(year, 7, 12)
        return Resolution(first, "half-year", start=first, end=last)
    m = _ANNIVERSARY.match(text)
    if m:
        if since is None:
            return None
        years = cn_number(m.group(1))
        lexical = _year(since.year + years) + since.lexical[len(_year(since.year)) :]
        value = parse_date(lexical)
        return Resolution(value, "year" if value.precision == "gYear" else "month", start=since)
    m = _OPEN.match(text)
    if m and m.group(1) != text:
        inner = resolve(m.group(1), published)
        if inner is None:
            return None
        return Resolution(inner.start or inner.value, "period", start=inner.start or inner.value, open_ended=True)
    return None


def period_bound(res: Resolution, *, end: bool) -> DateValue:
    """The value a property takes from a resolution: the end for a property that closes a period."""
    if end and res.end is not None:
        return res.end
    return res.value
