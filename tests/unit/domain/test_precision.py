"""Properties and examples of the decimal-precision guardrails."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from domain.metadata import ColumnProfile, PrecisionVerdict
from domain.schema import Column, DecimalType, IntegerType, StringType
from domain.schema.policy import PrecisionMode
from domain.schema.precision import (
    ObservedDecimals,
    check_column,
    decimal_digits,
    integer_digits_of_extremes,
    observed_fit,
    value_fits,
)

targets = st.integers(1, 38).flatmap(
    lambda p: st.builds(DecimalType, st.just(p), st.integers(0, p))
)


@st.composite
def fitting(draw: st.DrawFn) -> tuple[DecimalType, Decimal]:
    """A target and a value within its (p, s)."""
    target = draw(targets)
    integer = draw(st.integers(0, 10**target.integer_digits - 1))
    fraction = draw(st.integers(0, 10**target.scale - 1))
    sign = draw(st.sampled_from([1, -1]))
    # Exact arithmetic: the default 28-digit context would round 30 nines up to 1E+30.
    with localcontext(prec=100):
        return target, sign * (Decimal(integer) + Decimal(fraction).scaleb(-target.scale))


def finding(values: list[Decimal], target: DecimalType) -> PrecisionVerdict:
    """The observed-fit verdict for a profile of ``values`` (declared types left aside)."""
    profile = ObservedDecimals.of(values).profile("amount")
    fit = observed_fit(profile, target)
    return PrecisionVerdict.FITS_OBSERVED if fit.fits else PrecisionVerdict.VIOLATION


@given(fitting())
def test_every_value_within_the_target_fits(case: tuple[DecimalType, Decimal]) -> None:
    target, value = case
    assert value_fits(value, target)
    assert finding([value], target) is PrecisionVerdict.FITS_OBSERVED


@given(fitting())
def test_one_more_integer_digit_is_flagged(case: tuple[DecimalType, Decimal]) -> None:
    target, value = case
    with localcontext(prec=100):
        too_big = Decimal(10) ** target.integer_digits + abs(value)  # needs integer_digits + 1
    if decimal_digits(too_big)[0] <= 38:
        assert not value_fits(too_big, target)
        assert finding([value, too_big], target) is PrecisionVerdict.VIOLATION


@given(fitting())
def test_one_more_scale_digit_is_flagged(case: tuple[DecimalType, Decimal]) -> None:
    target, value = case
    with localcontext(prec=100):  # exact arithmetic on 38-digit values
        finer = value + Decimal(1).scaleb(-(target.scale + 1)) * (1 if value >= 0 else -1)
    assert not value_fits(finer, target)
    assert finding([finer], target) is PrecisionVerdict.VIOLATION


@given(
    st.lists(
        st.decimals(
            allow_nan=False,
            allow_infinity=False,
            places=None,
            min_value=-(10**30),
            max_value=10**30,
        ),
        min_size=1,
        max_size=5,
    ),
    targets,
)
def test_the_guardrail_never_says_fits_for_a_value_it_would_round_or_overflow(
    values: list[Decimal], target: DecimalType
) -> None:
    if finding(values, target) is not PrecisionVerdict.VIOLATION:
        with localcontext(prec=100):
            for value in values:
                assert (
                    value.quantize(Decimal(1).scaleb(-target.scale)) == value
                ), f"{value} is rounded in {target}"
                assert (
                    abs(value) < Decimal(10) ** target.integer_digits
                ), f"{value} overflows {target}"


def test_number_38_10_into_decimal_18_2_fits_observed_data_with_its_margin() -> None:
    source, target = Column("amount", DecimalType(38, 10)), Column("amount", DecimalType(18, 2))
    profile = ColumnProfile(
        "amount", 0, max_value="4821133.12", min_value="-12.5", max_integer_digits=7, max_scale=2
    )
    result = check_column(source, target, profile)
    assert result.verdict is PrecisionVerdict.FITS_OBSERVED
    assert "uses 7 of 16 integer digits and 2 of 2 fractional digits" in result.detail


def test_a_value_that_does_not_fit_is_named_and_widening_is_proposed() -> None:
    source, target = Column("fee", DecimalType(38, 10)), Column("fee", DecimalType(18, 2))
    profile = ColumnProfile(
        "fee", 0, min_value="0.0001", max_value="12.3456", max_integer_digits=2, max_scale=4
    )
    blocked = check_column(source, target, profile, PrecisionMode.BLOCK)
    assert (blocked.verdict, blocked.blocking) == (PrecisionVerdict.VIOLATION, True)
    assert "4 fractional digits" in blocked.detail
    warned = check_column(source, target, profile, PrecisionMode.WARN)
    assert (warned.severity, warned.blocking) == ("warning", False)
    widened = check_column(source, target, profile, PrecisionMode.WIDEN)
    assert widened.proposed_type == DecimalType(20, 4)
    overflow = ColumnProfile(
        "fee",
        0,
        min_value="-1",
        max_value="12345678901234567890.5",
        max_integer_digits=20,
        max_scale=1,
    )
    result = check_column(source, target, overflow)
    assert result.largest_offending_value == "12345678901234567890.5"


def test_integers_and_strings_use_min_max_and_length() -> None:
    narrow = check_column(
        Column("n", IntegerType(64)),
        Column("n", IntegerType(16)),
        ColumnProfile("n", 0, min_value="-5", max_value="40000"),
        PrecisionMode.WIDEN,
    )
    assert (
        narrow.verdict is PrecisionVerdict.VIOLATION and narrow.largest_offending_value == "40000"
    )
    assert narrow.proposed_type == IntegerType(32)
    text = check_column(
        Column("s", StringType()), Column("s", StringType(10)), ColumnProfile("s", 0, max_length=8)
    )
    assert text.verdict is PrecisionVerdict.FITS_OBSERVED
    assert (
        check_column(Column("s", StringType(5)), Column("s", StringType(10)), None).verdict
        is PrecisionVerdict.FITS
    )
    assert (
        check_column(Column("s", StringType()), Column("s", StringType(10)), None).verdict
        is PrecisionVerdict.VIOLATION
    )


def test_digit_counts_are_exact_beyond_the_default_decimal_context() -> None:
    assert decimal_digits(Decimal("12345678901234567890123456789012345.678")) == (35, 3)
    assert decimal_digits(Decimal("1.500")) == (1, 1)
    assert decimal_digits(Decimal("1E+3")) == (4, 0)
    assert decimal_digits(Decimal("-0.05")) == (0, 2)


@given(st.lists(fitting(), min_size=1, max_size=4), targets)
def test_check_column_never_says_fits_for_a_value_that_would_not_fit(
    cases: list[tuple[DecimalType, Decimal]], target: DecimalType
) -> None:
    source = cases[0][0]
    values = [value for declared, value in cases if declared == source] or [cases[0][1]]
    profile = ObservedDecimals.of(values).profile("amount")
    result = check_column(Column("amount", source), Column("amount", target), profile)
    if result.verdict is not PrecisionVerdict.VIOLATION:
        assert all(value_fits(value, target) for value in values)


@given(st.lists(fitting(), min_size=1, max_size=6))
def test_the_extremes_carry_the_most_integer_digits(
    cases: list[tuple[DecimalType, Decimal]],
) -> None:
    values = [value for _, value in cases]
    expected = max(decimal_digits(v)[0] for v in values)
    assert integer_digits_of_extremes(min(values), max(values)) == expected
    assert integer_digits_of_extremes(None, None) is None
