import pytest

from toolkit.sources.dates import DateProblem, DateValue, parse_date, resolve_relative


@pytest.mark.parametrize(
    ("raw", "precision"),
    [("2025-09-01", "date"), ("2022-08", "gYearMonth"), ("2025", "gYear"), (2020, "gYear")],
)
def test_precision_follows_what_is_written(raw: object, precision: str) -> None:
    assert parse_date(raw).precision == precision


@pytest.mark.parametrize("raw", ["2025-02-30", "2025-13", "2025-9-1", "next year", True, 3.5])
def test_impossible_or_unreadable_dates_are_refused(raw: object) -> None:
    with pytest.raises(DateProblem):
        parse_date(raw)


@pytest.mark.parametrize(
    ("stated", "published", "expected"),
    [
        ("今年9月1日", "2025-12", "2025-09-01"),
        ("12月12日", "2025-12", "2025-12-12"),
        ("上月", "2025-12", "2025-11"),
        ("上月", "2026-01-05", "2025-12"),
        ("明年", "2025-12", "2026"),
        ("今年", "2025-12-31", "2025"),
        ("去年三月", "2025-12", "2024-03"),
        ("去年3月", "2025-12", "2024-03"),
        ("本月", "2026-03-15", "2026-03"),
        ("今年十二月十二日", "2025-12", "2025-12-12"),
        ("此前一天结束", "2025-12", None),
    ],
)
def test_relative_dates_resolve_against_publication(stated: str, published: str, expected: str | None) -> None:
    got = resolve_relative(stated, parse_date(published))
    assert (got.lexical if got else None) == expected


def test_month_relative_needs_a_month() -> None:
    assert resolve_relative("上月", DateValue("2025")) is None


def test_resolved_day_must_exist() -> None:
    with pytest.raises(DateProblem):
        resolve_relative("今年2月30日", parse_date("2025-12"))
