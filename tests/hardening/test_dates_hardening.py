"""Dates of any year the facts schema admits, years before the common era included (issue 5).

The facts schema accepts ``-?YYYY(-MM(-DD)?)?``, XML Schema's lexical form, so a publication
date of ``-0221-10`` is legal input. Year and month must be read from it as numbers (they were
sliced by position, so ``-2025-12`` had year -202 and month -1), and relative dates resolved
against it must be written in the same lexical form.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.sources.dates import DateValue, parse_date, resolve_relative

YEARS = st.integers(-9998, 9998)
MONTHS = st.integers(1, 12)
REPRODUCIBLE = settings(max_examples=300, derandomize=True, database=None)


def lexical_year(y: int) -> str:
    """XML Schema 1.1, 3.3.7: at least four digits, '-' before negative years."""
    return f"-{-y:04d}" if y < 0 else f"{y:04d}"


@REPRODUCIBLE
@given(y=YEARS, m=MONTHS)
def test_year_and_month_are_read_as_numbers(y: int, m: int) -> None:
    year, month = DateValue(lexical_year(y)), DateValue(f"{lexical_year(y)}-{m:02d}")
    assert (year.year, year.month, year.precision) == (y, None, "gYear")
    assert (month.year, month.month, month.precision) == (y, m, "gYearMonth")
    assert parse_date(month.lexical) == month


@REPRODUCIBLE
@given(y=YEARS, m=MONTHS)
def test_relative_dates_resolve_against_any_publication_month(y: int, m: int) -> None:
    published = DateValue(f"{lexical_year(y)}-{m:02d}")
    for phrase, shift in (("上月", -1), ("本月", 0), ("下月", 1)):
        ey, em = divmod(y * 12 + (m - 1) + shift, 12)
        assert resolve_relative(phrase, published) == DateValue(f"{lexical_year(ey)}-{em + 1:02d}"), phrase
    for phrase, shift in (("去年", -1), ("今年", 0), ("明年", 1)):
        assert resolve_relative(phrase, published) == DateValue(lexical_year(y + shift)), phrase
    assert resolve_relative("今年3月", published) == DateValue(f"{lexical_year(y)}-03")
