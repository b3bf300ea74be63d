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


# ---------------------------------------------------------------- periods, vague dates, numerals (issue 13)

from toolkit.sources.dates import cn_number, period_bound, resolve  # noqa: E402


@pytest.mark.parametrize(
    ("stated", "published", "value", "precision", "start", "end", "open_ended"),
    [
        ("2022年以来", "2025-12", "2022", "period", "2022", None, True),
        ("自2018年3月起", "2025-12", "2018-03", "period", "2018-03", None, True),
        ("去年以来", "2025-12", "2024", "period", "2024", None, True),
        ("近日", "2025-03-05", "2025-03-05", "approximate", "2025-02-03", "2025-03-05", False),
        ("日前", "2024-01-10", "2024-01-10", "approximate", "2023-12-11", "2024-01-10", False),
        ("2021—2025年", "2025-12", "2021", "period", "2021", "2025", False),
        ("2025年至2027年", "2025-03", "2025", "period", "2025", "2027", False),
        ("一季度", "2024-06-18", "2024-01", "quarter", "2024-01", "2024-03", False),
        ("去年第四季度", "2024-06-18", "2023-10", "quarter", "2023-10", "2023-12", False),
        ("今年上半年", "2025-03-05", "2025-01", "half-year", "2025-01", "2025-06", False),
        ("下半年", "2024-06-18", "2024-07", "half-year", "2024-07", "2024-12", False),
        ("十四五", "2024", "2021", "period", "2021", "2025", False),
        ("“十四五”期间", "2024", "2021", "period", "2021", "2025", False),
        ("十五五时期", "2024", "2026", "period", "2026", "2030", False),
        ("二〇二五年", "2024", "2025", "year", None, None, False),
        ("二〇二五年三月", "2024", "2025-03", "month", None, None, False),
    ],
)
def test_periods_resolve_with_bounds_and_precision(
    stated: str,
    published: str,
    value: str,
    precision: str,
    start: str | None,
    end: str | None,
    open_ended: bool,
) -> None:
    got = resolve(stated, parse_date(published))
    assert got is not None
    assert (got.value.lexical, got.precision) == (value, precision)
    assert (got.start and got.start.lexical, got.end and got.end.lexical, got.open_ended) == (start, end, open_ended)


def test_a_property_that_closes_a_period_takes_its_end() -> None:
    got = resolve("2021—2025年", parse_date("2025"))
    assert got is not None
    assert (period_bound(got, end=False).lexical, period_bound(got, end=True).lexical) == ("2021", "2025")


def test_an_anniversary_counts_from_its_stated_start() -> None:
    got = resolve("五周年", parse_date("2025-03-05"), since=parse_date("2020-03"))
    assert got is not None and (got.value.lexical, got.start and got.start.lexical) == ("2025-03", "2020-03")
    assert resolve("建成十周年", parse_date("2025"), since=parse_date("2015")).value.lexical == "2025"  # type: ignore[union-attr]
    assert resolve("五周年", parse_date("2025-03-05")) is None  # no start: the facts must say since:


def test_vague_dates_need_a_day_of_publication() -> None:
    assert resolve("近日", parse_date("2025-03")) is None


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(DateProblem):
        resolve("2025—2021年", parse_date("2025"))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("九", 9),
        ("十", 10),
        ("十二", 12),
        ("二十四", 24),
        ("一百零五", 105),
        ("两万", 20000),
        ("三千五百万", 35_000_000),
        ("二〇二五", 2025),
        ("1200", 1200),
        ("一亿二千万", 120_000_000),
    ],
)
def test_chinese_numerals_are_read(text: str, number: int) -> None:
    assert cn_number(text) == number


@pytest.mark.parametrize("text", ["", "九x", "several"])
def test_unreadable_numerals_are_refused(text: str) -> None:
    with pytest.raises(DateProblem):
        cn_number(text)
