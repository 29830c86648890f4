"""Precision guardrails: can the values of a source column be stored in a target column?

Two verdicts per column pair:

- *declared fit*: every value the source type allows fits the target type;
- *observed fit*: the values actually seen (a ``dataset_profile``) fit, even though the
  declared types do not guarantee it. NUMBER(38,10) into DECIMAL(18,2) is declared-unsafe;
  if the largest value uses 7 integer digits and 2 fractional digits, it fits what was seen.

A decimal value fits decimal(p, s) when it needs at most s fractional digits (else it is
rounded) and at most p - s integer digits (else it overflows).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import attrs

from domain.metadata.payloads import ColumnProfile, PrecisionVerdict
from domain.schema.diff import TypeChange, classify
from domain.schema.policy import PrecisionMode
from domain.schema.schema import Column
from domain.schema.types import (
    MAX_DECIMAL_PRECISION,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    NumberType,
    StringType,
)

# Significant decimal digits a binary float / double always represents exactly.
_FLOAT_DIGITS = 6
_DOUBLE_DIGITS = 15


def decimal_digits(value: Decimal) -> tuple[int, int]:
    """(integer digits, fractional digits) a value needs, ignoring trailing zeros."""
    if value == 0:
        return 0, 0
    # From the tuple, not normalize(): normalize rounds to the context's 28 digits.
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "only finite decimals have digits"
    length = len(digits)
    while exponent < 0 and digits[length - 1] == 0:
        length -= 1
        exponent += 1
    return max(0, length + exponent), max(0, -exponent)


def integer_digits_of_extremes(*extremes: Decimal | None) -> int | None:
    """The most integer digits any value of a column uses, from its min and max: the
    largest magnitude is one of them. None when there are no values."""
    values = [v for v in extremes if v is not None]
    return max(decimal_digits(v)[0] for v in values) if values else None


def value_fits(value: Decimal, target: DecimalType) -> bool:
    """True when storing ``value`` in ``target`` neither rounds nor overflows it."""
    integer_digits, scale = decimal_digits(value)
    return scale <= target.scale and integer_digits <= target.integer_digits


@attrs.frozen
class ObservedDecimals:
    """What a profile says about a decimal column: digits used and the extreme values."""

    max_integer_digits: int
    max_scale: int
    min_value: Decimal | None
    max_value: Decimal | None

    @classmethod
    def of(cls, values: Iterable[Decimal]) -> ObservedDecimals:
        seen = list(values)
        digits = [decimal_digits(v) for v in seen]
        return cls(
            max((d[0] for d in digits), default=0),
            max((d[1] for d in digits), default=0),
            min(seen, default=None),
            max(seen, default=None),
        )

    def profile(self, name: str) -> ColumnProfile:
        return ColumnProfile(
            name=name,
            nulls=0,
            min_value=None if self.min_value is None else str(self.min_value),
            max_value=None if self.max_value is None else str(self.max_value),
            max_integer_digits=self.max_integer_digits,
            max_scale=self.max_scale,
        )


@attrs.frozen
class PrecisionFinding:
    """The guardrail's answer for one source column -> target column."""

    source: Column
    target: Column
    verdict: PrecisionVerdict
    detail: str
    blocking: bool = False
    largest_offending_value: str | None = None
    proposed_type: DataType | None = None

    @property
    def severity(self) -> str:
        if self.verdict is PrecisionVerdict.VIOLATION:
            return "violation" if self.blocking else "warning"
        return "ok"


def declared_fit(source: DataType, target: DataType) -> bool:
    """Whether every value of ``source`` can be stored in ``target`` without loss."""
    return classify(source, target) <= TypeChange.WIDENING


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _largest_magnitude(profile: ColumnProfile) -> Decimal | None:
    values = [v for v in (_number(profile.min_value), _number(profile.max_value)) if v is not None]
    return max(values, key=abs, default=None)


@attrs.frozen
class ObservedFit:
    """Whether the values a profile saw fit a target type; the largest misfit; a wider type."""

    fits: bool
    detail: str
    offending: str | None = None
    proposed: DataType | None = None


def _non_finite(profile: ColumnProfile, target: DataType) -> ObservedFit | None:
    if profile.non_finite:
        return ObservedFit(
            False, f"{profile.non_finite} value(s) are NaN or infinite, which {target} cannot hold"
        )
    return None


def _observed_decimal(profile: ColumnProfile, target: DecimalType) -> ObservedFit:
    if profile.max_integer_digits is None or profile.max_scale is None:
        return ObservedFit(
            False, "the profile has no digit counts for this column; profile the source"
        )
    integer_digits, scale = profile.max_integer_digits, profile.max_scale
    margin = (
        f"uses {integer_digits} of {target.integer_digits} integer digits and "
        f"{scale} of {target.scale} fractional digits"
    )
    proposed_scale = max(target.scale, scale)
    proposed_precision = max(target.integer_digits, integer_digits) + proposed_scale
    proposed = (
        DecimalType(proposed_precision, proposed_scale)
        if proposed_precision <= MAX_DECIMAL_PRECISION
        else None
    )
    if integer_digits <= target.integer_digits and scale <= target.scale:
        return ObservedFit(True, f"fits observed data: {margin}")
    problems = []
    offending = None
    if integer_digits > target.integer_digits:
        largest = _largest_magnitude(profile)
        offending = None if largest is None else str(largest)
        problems.append(
            f"a value needs {integer_digits} integer digits, {target} holds {target.integer_digits}"
            + (f" (largest {offending})" if offending else "")
        )
    if scale > target.scale:
        example = profile.max_scale_value
        problems.append(
            (f"value {example} has" if example else "a value has")
            + f" {scale} fractional digits, {target} keeps {target.scale} (rounding)"
        )
        offending = offending or example
    return ObservedFit(False, "; ".join(problems), offending, proposed)


def _observed_integer(
    profile: ColumnProfile, target: IntegerType, source: DataType | None = None
) -> ObservedFit:
    low, high = _number(profile.min_value), _number(profile.max_value)
    if low is None or high is None:
        return ObservedFit(False, "the profile has no min/max for this column; profile the source")
    if profile.max_scale is None and not isinstance(source, IntegerType):
        return ObservedFit(
            False,
            "the profile does not say whether values have fractional digits; profile the source",
        )
    if profile.max_scale:
        example = profile.max_scale_value
        return ObservedFit(
            False,
            (f"value {example} has" if example else "values have")
            + f" {profile.max_scale} fractional digits; {target} keeps none",
            example,
        )
    width = next(
        (
            b
            for b in IntegerType.WIDTHS
            if IntegerType(b).min_value <= low and high <= IntegerType(b).max_value
        ),
        None,
    )
    proposed = (
        IntegerType(max(width, target.bits))
        if width is not None
        else DecimalType(
            min(MAX_DECIMAL_PRECISION, max(decimal_digits(low)[0], decimal_digits(high)[0])), 0
        )
    )
    if target.min_value <= low and high <= target.max_value:
        return ObservedFit(
            True,
            f"fits observed data: values {low}..{high} within {target}'s {target.min_value}..{target.max_value}",
        )
    offending = str(high if high > target.max_value else low)
    return ObservedFit(
        False,
        f"value {offending} is outside {target}'s {target.min_value}..{target.max_value}",
        offending,
        proposed,
    )


def _observed_string(profile: ColumnProfile, target: StringType) -> ObservedFit:
    if target.max_length is None:
        return ObservedFit(True, "fits observed data: the target is unbounded")
    if profile.max_length is None:
        return ObservedFit(
            False, "the profile has no max length for this column; profile the source"
        )
    if profile.max_length <= target.max_length:
        return ObservedFit(
            True,
            f"fits observed data: longest value {profile.max_length} of {target.max_length} characters",
        )
    return ObservedFit(
        False,
        f"a value of {profile.max_length} characters exceeds {target}",
        None,
        StringType(profile.max_length),
    )


def _observed_float(profile: ColumnProfile, target: FloatType | DoubleType) -> ObservedFit:
    digits = _DOUBLE_DIGITS if isinstance(target, DoubleType) else _FLOAT_DIGITS
    if profile.max_integer_digits is None or profile.max_scale is None:
        return ObservedFit(
            False, "the profile has no digit counts for this column; profile the source"
        )
    used = profile.max_integer_digits + profile.max_scale
    if used <= digits:
        return ObservedFit(
            True,
            f"fits observed data: values use {used} of the {digits} digits {target} keeps exactly",
        )
    return ObservedFit(
        False,
        f"values use up to {used} significant digits; {target} keeps {digits} exactly (rounding)",
    )


def observed_fit(
    profile: ColumnProfile | None, target: DataType, source: DataType | None = None
) -> ObservedFit:
    """Whether the values ``profile`` saw can be stored in ``target`` without loss;
    ``source`` is the declared type they come from, when known."""
    if profile is None:
        return ObservedFit(
            False, "declared types do not guarantee a fit and there is no profile of the source"
        )
    if isinstance(target, DecimalType | IntegerType | NumberType | FloatType | DoubleType):
        refused = _non_finite(profile, target)
        if refused is not None:
            return refused
    if isinstance(target, NumberType):
        unknown = profile.max_integer_digits is None or profile.max_scale is None
        if unknown and not isinstance(source, IntegerType | DecimalType):
            return ObservedFit(
                False, "the profile has no digit counts for this column; profile the source"
            )
        return ObservedFit(True, f"fits observed data: {target} holds any finite decimal")
    if isinstance(target, DecimalType):
        return _observed_decimal(profile, target)
    if isinstance(target, IntegerType):
        return _observed_integer(profile, target, source)
    if isinstance(target, StringType):
        return _observed_string(profile, target)
    if isinstance(target, FloatType | DoubleType):
        return _observed_float(profile, target)
    return ObservedFit(False, f"values do not carry over to {target}")


def contradiction(profile: ColumnProfile | None, declared: DataType) -> str | None:
    """What in ``profile`` a value of the ``declared`` type could not be (SQLite keeps any
    value in any column; a catalog can be wrong), or None when nothing contradicts it."""
    if profile is None:
        return None
    if isinstance(declared, DecimalType | IntegerType) and profile.non_finite:
        return f"{profile.non_finite} value(s) are NaN or infinite"
    if isinstance(declared, DecimalType):
        digits, scale = profile.max_integer_digits, profile.max_scale
        if digits is not None and digits > declared.integer_digits:
            largest = _largest_magnitude(profile)
            return (
                f"a value{'' if largest is None else f' ({largest})'} has {digits} integer digits"
            )
        if scale is not None and scale > declared.scale:
            example = profile.max_scale_value
            return (
                f"a value{'' if example is None else f' ({example})'} has {scale} fractional digits"
            )
    if isinstance(declared, IntegerType):
        low, high = _number(profile.min_value), _number(profile.max_value)
        for value in (low, high):
            if value is not None and not declared.min_value <= value <= declared.max_value:
                return f"value {value} is outside {declared.min_value}..{declared.max_value}"
        if profile.max_scale:
            return f"values have {profile.max_scale} fractional digits"
    if (
        isinstance(declared, StringType)
        and declared.max_length is not None
        and profile.max_length is not None
        and profile.max_length > declared.max_length
    ):
        return f"a value has {profile.max_length} characters"
    return None


def check_column(
    source: Column,
    target: Column,
    profile: ColumnProfile | None,
    mode: PrecisionMode = PrecisionMode.BLOCK,
) -> PrecisionFinding:
    """The guardrail's verdict for storing ``source`` values in ``target`` under ``mode``.

    A profile that contradicts the declared source type wins: the declared type no longer
    vouches for the values, and the verdict says so.
    """
    contradicted = contradiction(profile, source.type)
    if contradicted is None and declared_fit(source.type, target.type):
        return PrecisionFinding(
            source, target, PrecisionVerdict.FITS, f"every {source.type} value fits {target.type}"
        )
    observed = observed_fit(profile, target.type, None if contradicted else source.type)
    note = (
        ""
        if contradicted is None
        else f" (the profile contradicts the declared {source.type}: {contradicted}; judged by the values seen)"
    )
    if observed.fits:
        return PrecisionFinding(
            source,
            target,
            PrecisionVerdict.FITS_OBSERVED,
            f"{source.type} -> {target.type} {observed.detail}{note}",
        )
    detail = f"{source.type} -> {target.type}: {observed.detail}{note}"
    blocking = mode is PrecisionMode.BLOCK
    if mode is PrecisionMode.WIDEN:
        if observed.proposed is not None:
            detail += f"; widen the target to {observed.proposed}"
        else:
            blocking = True
            detail += "; no type of the target's kind holds these values"
    return PrecisionFinding(
        source,
        target,
        PrecisionVerdict.VIOLATION,
        detail,
        blocking=blocking,
        largest_offending_value=observed.offending,
        proposed_type=observed.proposed,
    )
