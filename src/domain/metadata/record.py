"""The metadata record: one envelope for everything the platform learns."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TypeVar

import attrs

from domain.dataset import DatasetRef, RunId
from domain.metadata.kinds import PAYLOADS, Payload, RecordKind, kind_of
from domain.metadata.timestamps import to_utc, utc_only
from domain.text import MAX_PRODUCER_LENGTH, name_problem

# Parts of the identity are joined with a separator that cannot occur in them unescaped.
_UNIT = "\x1f"


P = TypeVar("P")


def derive_record_id(kind: RecordKind, subject: DatasetRef, run_id: RunId, payload: Payload) -> str:
    """The idempotency key of a fact: equal (kind, subject, run, natural key) give equal ids."""
    parts = (kind.value, subject.namespace, subject.name, run_id.value, *payload.natural_key())
    canonical = _UNIT.join(parts)
    if "\\" in canonical or canonical.count(_UNIT) != len(parts) - 1:
        # A part holds the separator or the escape character: escape every part.
        canonical = _UNIT.join(part.replace("\\", "\\\\").replace(_UNIT, "\\u") for part in parts)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _payload_matches_kind(
    instance: MetadataRecord, attribute: attrs.Attribute[Payload], value: Payload
) -> None:
    expected = PAYLOADS[instance.kind].payload_type
    if not isinstance(value, expected):
        raise ValueError(
            f"payload: kind {instance.kind.value!r} carries {expected.__name__}, "
            f"got {type(value).__name__}"
        )


def _known_version(instance: MetadataRecord, attribute: attrs.Attribute[int], value: int) -> None:
    newest = PAYLOADS[instance.kind].current_version
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= newest:
        raise ValueError(
            f"payload_version: {instance.kind.value} payloads have versions 1..{newest}, got {value!r}"
        )


def _producer(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"producer: must name the tool that produced the record, got {value!r}")
    problem = name_problem(value, MAX_PRODUCER_LENGTH)
    if problem:
        raise ValueError(f"producer: {problem}")


def _derived_id(instance: MetadataRecord, attribute: attrs.Attribute[str], value: str) -> None:
    expected = derive_record_id(instance.kind, instance.subject, instance.run_id, instance.payload)
    if value != expected:
        raise ValueError(
            f"record_id: {value!r} does not match the id derived from kind, subject, run_id and "
            f"the payload's key ({expected!r}); omit record_id to have it derived"
        )


@attrs.frozen
class MetadataRecord:
    """A fact about a dataset, observed in a run, stated by a producer.

    Build one with :meth:`create`, which derives the ``record_id``; the constructor checks
    that a given id is the derived one, so an id always means the same fact.
    """

    kind: RecordKind
    subject: DatasetRef
    run_id: RunId
    observed_at: datetime = attrs.field(converter=to_utc, validator=utc_only)
    producer: str = attrs.field(validator=_producer)
    payload: Payload = attrs.field(validator=_payload_matches_kind)
    payload_version: int = attrs.field(default=1, validator=_known_version)
    record_id: str = attrs.field(
        default=attrs.Factory(
            lambda self: derive_record_id(self.kind, self.subject, self.run_id, self.payload),
            takes_self=True,
        ),
        validator=_derived_id,
    )

    @classmethod
    def create(
        cls,
        *,
        subject: DatasetRef,
        run_id: RunId,
        observed_at: datetime,
        producer: str,
        payload: Payload,
        payload_version: int | None = None,
    ) -> MetadataRecord:
        """A record for ``payload``; its kind comes from the payload's type."""
        kind = kind_of(payload)
        return cls(
            kind=kind,
            subject=subject,
            run_id=run_id,
            observed_at=observed_at,
            producer=producer,
            payload=payload,
            payload_version=payload_version or PAYLOADS[kind].current_version,
        )

    def payload_as(self, kind: type[P]) -> P:
        """The payload as the payload class ``kind``; TypeError names both when it is
        another (a typed read, where a caller knows the record's kind)."""
        if not isinstance(self.payload, kind):
            raise TypeError(
                f"record {self.record_id}: a {type(self.payload).__name__}, not a {kind.__name__}"
            )
        return self.payload
