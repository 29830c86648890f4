"""The precision guard never approves a value the target would round, overflow or cut.

Values are drawn first; the declared source type is drawn independently, so an exact type
may lie about them (as SQLite's do, or a stale catalog). A float column holds only floats,
so values declared float are first turned into floats, rendered as profilers render them
(the shortest text that reads back). The profile is what a profiler computes from the
values. Whenever the guard says ``fits`` or ``fits_observed``, an oracle that
knows nothing of the guard checks every value against the target.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext

from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from domain.metadata import ColumnProfile, PrecisionVerdict
from domain.schema import (
    Column,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    StringType,
)
from domain.schema.policy import PrecisionMode
from domain.schema.precision import check_column, decimal_digits

APPROVED = (PrecisionVerdict.FITS, PrecisionVerdict.FITS_OBSERVED)
# Pure and fast: four times the profile's examples (400 locally, 1,200 in CI).
thorough = settings(max_examples=settings().max_examples * 4)

decimals_types = st.integers(1, 38).flatmap(
    lambda p: st.builds(DecimalType, st.just(p), st.integers(0, p))
)
numeric_types: st.SearchStrategy[DataType] = st.one_of(
    st.sampled_from([IntegerType(b) for b in IntegerType.WIDTHS]),
    decimals_types,
    st.just(NumberType()),
    st.just(FloatType()),
    st.just(DoubleType()),
)


@st.composite
def exact_values(draw: st.DrawFn) -> Decimal:
    """A finite decimal of 0..40 integer digits and 0..20 fractional digits, either sign,
    often near the edges of the common types."""
    edge = draw(
        st.sampled_from(
            [
                None,
                Decimal(2**31 - 1),
                Decimal(-(2**31)),
                Decimal(2**63 - 1),
                Decimal(2**62),
                Decimal(2**40),
                Decimal(10**18),
                Decimal("123456789012345678901234567890.123456789"),
            ]
        )
    )
    if edge is not None:
        return edge + draw(st.sampled_from([0, 1, -1]))
    integer = draw(st.integers(0, 10 ** draw(st.integers(0, 40)) - 1))
    scale = draw(st.integers(0, 20))
    fraction = draw(st.integers(0, 10**scale - 1))
    with localcontext(prec=200):
        value = Decimal(integer) + Decimal(fraction).scaleb(-scale)
        return -value if draw(st.booleans()) else value


def profile_of(values: list[Decimal]) -> ColumnProfile:
    """What a profiler reports: extremes, digit counts and a value with the most fractional
    digits, computed from every value."""
    digits = [decimal_digits(v) for v in values]
    widest = max(range(len(values)), key=lambda i: digits[i][1])
    return ColumnProfile(
        name="c",
        nulls=0,
        min_value=format(min(values), "f"),
        max_value=format(max(values), "f"),
        max_integer_digits=max(d[0] for d in digits),
        max_scale=max(d[1] for d in digits),
        max_scale_value=format(values[widest], "f"),
        non_finite=0,
    )


def _single(value: Decimal) -> float | None:
    """``value`` as a 32-bit float (widened back to a Python float), None when out of range."""
    try:
        single: float = struct.unpack("f", struct.pack("f", float(value)))[0]
    except OverflowError:
        return None
    return single if math.isfinite(single) else None


def as_declared(value: Decimal, declared: DataType) -> Decimal | None:
    """What a column of ``declared`` type holds for ``value``: floats are floats."""
    if isinstance(declared, DoubleType):
        as_double = float(value)
        return Decimal(repr(as_double)) if math.isfinite(as_double) else None
    if isinstance(declared, FloatType):
        single = _single(value)
        return None if single is None else Decimal(repr(single))
    return value


def stored_unchanged(value: Decimal, target: DataType) -> bool:
    """Oracle: ``value`` stored in ``target`` comes back equal (no rounding, no overflow)."""
    with localcontext(prec=200):
        match target:
            case IntegerType():
                return value == value.to_integral_value() and (
                    target.min_value <= value <= target.max_value
                )
            case DecimalType(precision=p, scale=s):
                return value == value.quantize(Decimal(1).scaleb(-s)) and abs(value) < Decimal(
                    10
                ) ** (p - s)
            case NumberType():
                return value.is_finite()
            case DoubleType():
                as_double = float(value)
                return math.isfinite(as_double) and Decimal(repr(as_double)) == value
            case FloatType():
                single = _single(value)
                if single is None:
                    return False
                # Either it is a float32 value already, or a short decimal that float32
                # keeps (FLT_DIG = 6 significant digits read back the same).
                return single == float(value) or Decimal(format(single, ".6g")) == value
    raise AssertionError(f"no oracle for {target}")


@thorough
@given(
    st.lists(exact_values(), min_size=1, max_size=5),
    numeric_types,
    numeric_types,
    st.sampled_from(list(PrecisionMode)),
)
def test_the_guard_never_approves_a_number_the_target_would_change(
    values: list[Decimal], declared: DataType, target: DataType, mode: PrecisionMode
) -> None:
    held = [as_declared(v, declared) for v in values]
    assume(all(v is not None for v in held))
    values = [v for v in held if v is not None]
    finding = check_column(Column("c", declared), Column("c", target), profile_of(values), mode)
    note(f"{finding.verdict.value}: {finding.detail}")
    if finding.verdict in APPROVED:
        assert all(stored_unchanged(v, target) for v in values)
    else:
        assert finding.detail  # a refusal always says why


@thorough
@given(
    st.lists(st.text(max_size=60), min_size=1, max_size=5),
    st.builds(StringType, st.none() | st.integers(1, 60)),
    st.builds(StringType, st.none() | st.integers(1, 60)),
)
def test_the_guard_never_approves_text_the_target_would_cut(
    values: list[str], declared: StringType, target: StringType
) -> None:
    profile = ColumnProfile(name="c", nulls=0, max_length=max(len(v) for v in values))
    finding = check_column(Column("c", declared), Column("c", target), profile)
    if finding.verdict in APPROVED and target.max_length is not None:
        assert all(len(v) <= target.max_length for v in values)


def test_an_unbounded_numeric_does_not_fit_a_decimal_38_10() -> None:
    """The issue's case: PostgreSQL numeric holding 30 integer digits and scale 12."""
    value = Decimal("123456789012345678901234567890.123456789012")
    finding = check_column(
        Column("amount", NumberType()), Column("amount", DecimalType(38, 10)), profile_of([value])
    )
    assert finding.verdict is PrecisionVerdict.VIOLATION and finding.blocking
    assert "30 integer digits" in finding.detail and "12 fractional digits" in finding.detail
    assert str(value) in finding.detail  # the offending value is named


def test_a_profile_that_contradicts_the_declared_type_wins_and_says_so() -> None:
    """SQLite INTEGER declared int32 by an old catalog, holding 2^40: never "fits" int32."""
    finding = check_column(
        Column("n", IntegerType(32)), Column("n", IntegerType(32)), profile_of([Decimal(2**40)])
    )
    assert finding.verdict is PrecisionVerdict.VIOLATION
    assert "contradicts the declared int32" in finding.detail
    assert str(2**40) in finding.detail
