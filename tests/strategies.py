"""Hypothesis strategies for the domain's values, with bounded, explicit arguments.

`st.builds` ignores attrs validators, so every strategy here only draws valid arguments.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from domain.dataset import DatasetRef, RunId
from domain.metadata import (
    ColumnChange,
    ColumnProfile,
    DatasetProfile,
    IngestionRuntime,
    IngestionVolume,
    MetadataRecord,
    Payload,
    PhaseTiming,
    PrecisionCheck,
    PrecisionVerdict,
    ReconResult,
    ReconStatus,
    RecordKind,
    RunEvent,
    RunEventType,
    RunStatus,
    SchemaDrift,
    SchemaSnapshot,
)
from domain.schema import (
    ArrayType,
    BinaryType,
    BooleanType,
    Column,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    MapType,
    Schema,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from domain.schema.diff import ColumnChangeKind

identifiers = st.text(string.ascii_letters + "_", min_size=1, max_size=1).flatmap(
    lambda first: st.text(string.ascii_letters + string.digits + "_", max_size=12).map(
        lambda rest: first + rest
    )
)
words = st.text(string.ascii_letters + string.digits + "._-/", min_size=1, max_size=20)
# Text every store keeps: no NUL (PostgreSQL refuses it; the gateway does too).
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)

decimal_types = st.integers(1, 38).flatmap(
    lambda p: st.builds(DecimalType, st.just(p), st.integers(0, p))
)

primitive_types: st.SearchStrategy[DataType] = st.one_of(
    st.sampled_from([IntegerType(b) for b in (8, 16, 32, 64)]),
    decimal_types,
    st.just(FloatType()),
    st.just(DoubleType()),
    st.builds(StringType, st.none() | st.integers(1, 10_000)),
    st.just(BooleanType()),
    st.just(DateType()),
    st.builds(TimestampType, st.booleans()),
    st.just(BinaryType()),
)


def _unique_fields(children: st.SearchStrategy[DataType]) -> st.SearchStrategy[StructType]:
    fields = st.lists(
        st.builds(StructField, identifiers, children, st.booleans()),
        min_size=1,
        max_size=4,
        unique_by=lambda f: f.name.lower(),
    )
    return fields.map(lambda fs: StructType(tuple(fs)))


data_types: st.SearchStrategy[DataType] = st.recursive(
    primitive_types,
    lambda children: st.one_of(
        st.builds(ArrayType, children, st.booleans()),
        st.builds(MapType, primitive_types, children, st.booleans()),
        _unique_fields(children),
    ),
    max_leaves=6,
)

column_names = st.text(
    string.ascii_letters + string.digits + "_ $", min_size=1, max_size=16
).filter(lambda name: name.strip() != "")
columns = st.builds(Column, column_names, data_types, st.booleans())
schemas = st.lists(columns, min_size=1, max_size=8, unique_by=lambda c: c.name.lower()).map(
    Schema.from_columns
)

dataset_refs = st.builds(
    DatasetRef,
    st.sampled_from(["file", "postgres://db:5432", "postgres://[::1]:5432", "s3://bucket"]) | words,
    words.filter(lambda n: "::" not in n),
)
run_ids = st.builds(
    RunId,
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=1).flatmap(
        lambda first: st.text(string.ascii_letters + string.digits + "._:-", max_size=30).map(
            lambda rest: first + rest
        )
    ),
)
utc_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
counts = st.integers(0, 10**12)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: d.is_finite()
)

column_profiles = st.builds(
    ColumnProfile,
    column_names,
    counts,
    st.none() | counts,
    st.none() | texts,
    st.none() | texts,
    st.none() | counts,
    st.none() | st.integers(0, 38),
    st.none() | st.integers(0, 38),
)
fingerprints = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def ingestion_runtimes(draw: st.DrawFn) -> IngestionRuntime:
    started = draw(utc_datetimes)
    duration = draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
    phases = draw(
        st.lists(st.builds(PhaseTiming, words, st.floats(0, 1e6, allow_nan=False)), max_size=4)
    )
    return IngestionRuntime(
        draw(words),
        started,
        started + duration,
        draw(st.sampled_from(RunStatus)),
        tuple(phases),
        tuple(draw(st.lists(texts, max_size=3))),
        draw(st.none() | words),
        draw(st.none() | texts),
        draw(st.none() | texts),
    )


payloads_by_kind: dict[RecordKind, st.SearchStrategy[Payload]] = {
    RecordKind.SCHEMA_SNAPSHOT: st.builds(SchemaSnapshot, schemas),
    RecordKind.DATASET_PROFILE: st.builds(
        DatasetProfile,
        counts,
        st.lists(column_profiles, max_size=5, unique_by=lambda c: c.name.lower()).map(tuple),
    ),
    RecordKind.SCHEMA_DRIFT: st.builds(
        SchemaDrift,
        fingerprints,
        fingerprints,
        st.lists(
            st.builds(
                ColumnChange,
                column_names,
                st.sampled_from(ColumnChangeKind),
                st.none() | data_types.map(str),
                st.none() | data_types.map(str),
                st.none() | st.sampled_from(["widening", "narrowing", "incompatible"]),
                texts,
            ),
            max_size=4,
        ).map(tuple),
        st.booleans(),
    ),
    RecordKind.PRECISION_CHECK: st.builds(
        PrecisionCheck,
        column_names,
        column_names,
        data_types.map(str),
        data_types.map(str),
        st.sampled_from(PrecisionVerdict),
        texts,
        st.none() | decimals.map(str),
    ),
    RecordKind.INGESTION_VOLUME: st.builds(
        IngestionVolume,
        counts,
        counts,
        counts,
        st.none() | counts,
        st.none() | counts,
        st.none() | counts,
        st.none() | counts,
        st.none() | counts,
    ),
    RecordKind.INGESTION_RUNTIME: ingestion_runtimes(),
    RecordKind.RECON_RESULT: st.builds(
        ReconResult,
        words,
        st.sampled_from(ReconStatus),
        st.none() | decimals,
        st.none() | decimals,
        decimals,
        texts,
        st.lists(st.tuples(words, counts), max_size=3),
        st.lists(st.tuples(words, texts), max_size=3),
        st.none() | decimals,
        texts,
    ),
    RecordKind.RUN_EVENT: st.builds(
        RunEvent, st.sampled_from(RunEventType), texts, st.none() | st.integers(0, 10**6)
    ),
}
payloads: st.SearchStrategy[Payload] = st.one_of(*payloads_by_kind.values())


def records_with(payload: st.SearchStrategy[Payload]) -> st.SearchStrategy[MetadataRecord]:
    return st.builds(
        lambda subject, run_id, observed_at, producer, payload: MetadataRecord.create(
            subject=subject,
            run_id=run_id,
            observed_at=observed_at,
            producer=producer,
            payload=payload,
        ),
        dataset_refs,
        run_ids,
        utc_datetimes,
        words,
        payload,
    )


records = records_with(payloads)
