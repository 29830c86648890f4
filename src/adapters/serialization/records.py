"""JSON edge for metadata records: the one cattrs converter that turns domain values into
JSON-ready data and back.

- Decimals travel as strings ("12.50"); a JSON number where a decimal is due is refused,
  because a float has already lost digits.
- Datetimes are ISO-8601 with an offset and come back normalised to UTC; naive ones are
  refused.
- A record's ``kind`` picks its payload type through the domain's registry.
- Unknown keys are refused (``forbid_extra_keys``), and every problem is reported with the
  path of the offending value, e.g. ``$.payload.rows_written: expected int, got str '5'``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import cattrs
from cattrs.preconf.json import make_converter

from adapters.serialization.json_text import Problem, RecordDecodeError, parse_json
from domain.dataset import DatasetRef, RunId
from domain.metadata import PAYLOADS, MetadataRecord, Payload, RecordKind
from domain.metadata.timestamps import instant_text, parse_instant
from domain.schema import DataType, parse_type
from domain.text import unstorable


class InvalidValue(ValueError):
    """A value of the wrong shape; its message is shown as it is."""


def _describe(value: object) -> str:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{type(value).__name__} {shown}"


def _strict(expected: type, name: str) -> Callable[[Any, type], Any]:
    def structure(value: Any, _: type) -> Any:
        # bool is an int subclass in Python, but true is no row count in JSON.
        if type(value) is not expected:
            raise InvalidValue(f"expected {name}, got {_describe(value)}")
        return value

    return structure


def _structure_text(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"expected string, got {_describe(value)}")
    problem = unstorable(value)
    if problem:
        raise InvalidValue(problem)
    return value


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"expected number, got {_describe(value)}")
    return float(value)


def _structure_decimal(value: Any, _: type) -> Decimal:
    if not isinstance(value, str):
        raise InvalidValue(
            f'expected a decimal as a string (e.g. "12.50"), got {_describe(value)}; '
            f"JSON numbers lose digits"
        )
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise InvalidValue(f"expected a decimal string, got {value!r}") from None
    if not result.is_finite():
        raise InvalidValue(f"expected a finite decimal, got {value!r}")
    return result


def _structure_datetime(value: Any, _: type) -> datetime:
    if not isinstance(value, str):
        raise InvalidValue(f"expected an ISO-8601 timestamp string, got {_describe(value)}")
    try:
        return parse_instant(value)
    except ValueError as invalid:
        raise InvalidValue(str(invalid)) from None


def _structure_data_type(value: Any, _: type) -> DataType:
    if not isinstance(value, str):
        raise InvalidValue(
            f"expected a type string such as 'decimal(18,2)', got {_describe(value)}"
        )
    try:
        return parse_type(value)
    except ValueError as invalid:
        raise InvalidValue(str(invalid)) from None


def _structure_dataset_ref(value: Any, _: type) -> DatasetRef:
    if isinstance(value, str):
        return DatasetRef.parse(value)
    if not isinstance(value, dict):
        raise InvalidValue(
            f'expected {{"namespace": ..., "name": ...}} or \'namespace::name\', got {_describe(value)}'
        )
    extra = sorted(set(value) - {"namespace", "name"})
    if extra:
        raise InvalidValue(
            f"unknown keys {', '.join(map(repr, extra))}; expected namespace and name"
        )
    missing = [key for key in ("namespace", "name") if key not in value]
    if missing:
        raise InvalidValue(f"missing {', '.join(missing)}")
    return DatasetRef(namespace=value["namespace"], name=value["name"])


def _structure_run_id(value: Any, _: type) -> RunId:
    if not isinstance(value, str):
        raise InvalidValue(f"expected a string, got {_describe(value)}")
    return RunId(value)


def _structure_enum(value: Any, target: type[enum.Enum]) -> enum.Enum:
    try:
        return target(value)
    except ValueError:
        known = ", ".join(repr(member.value) for member in target)
        raise InvalidValue(f"expected one of {known}; got {_describe(value)}") from None


def _format(exc: BaseException, expected: type | None) -> str:
    if isinstance(exc, InvalidValue | ValueError) and str(exc):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s) {', '.join(map(repr, sorted(exc.extra_fields)))}; remove them"
    return cattrs.v.format_exception(exc, expected)


def _problems(exc: BaseException, path: str) -> list[Problem]:
    problems = []
    for line in cattrs.transform_error(exc, path=path, format_exception=_format):
        message, _, where = line.rpartition(" @ ")
        problems.append(Problem(where, message))
    return problems


_ENVELOPE_FIELDS = {
    "record_id",
    "kind",
    "subject",
    "run_id",
    "observed_at",
    "producer",
    "payload",
    "payload_version",
}
_REQUIRED_FIELDS = ("kind", "subject", "run_id", "observed_at", "producer", "payload")
_REQUIRED_SET = frozenset(_REQUIRED_FIELDS)
_SUBJECT_KEYS = {"namespace", "name"}


class RecordConverter:
    """Converts records to JSON-ready dicts and back, with path-named errors."""

    def __init__(self) -> None:
        converter = make_converter(forbid_extra_keys=True)
        converter.register_structure_hook(int, _strict(int, "int"))
        converter.register_structure_hook(str, _structure_text)
        converter.register_structure_hook(bool, _strict(bool, "boolean"))
        converter.register_structure_hook(float, _structure_float)
        converter.register_structure_hook(Decimal, _structure_decimal)
        converter.register_unstructure_hook(Decimal, str)
        converter.register_structure_hook(datetime, _structure_datetime)
        converter.register_unstructure_hook(datetime, instant_text)
        converter.register_structure_hook(DataType, _structure_data_type)
        converter.register_unstructure_hook(DataType, str)
        for data_type in DataType.__args__:  # each concrete type unstructures to its string
            converter.register_unstructure_hook(data_type, str)
        converter.register_structure_hook(DatasetRef, _structure_dataset_ref)
        converter.register_unstructure_hook(
            DatasetRef, lambda ref: {"namespace": ref.namespace, "name": ref.name}
        )
        converter.register_structure_hook_func(
            lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
        )
        converter.register_structure_hook(RunId, _structure_run_id)
        converter.register_unstructure_hook(RunId, str)
        self._converter = converter

    # -- payloads (for stores that keep the envelope in columns) ----------------------------

    def unstructure_payload(self, payload: Payload) -> dict[str, Any]:
        data: dict[str, Any] = self._converter.unstructure(payload)
        return data

    def structure_payload(self, kind: RecordKind, data: Any) -> Payload:
        payload: Payload = self._converter.structure(data, PAYLOADS[kind].payload_type)
        return payload

    # -- records ---------------------------------------------------------------------------

    def unstructure(self, record: MetadataRecord) -> dict[str, Any]:
        return {
            "record_id": record.record_id,
            "kind": record.kind.value,
            "subject": self._converter.unstructure(record.subject),
            "run_id": record.run_id.value,
            "observed_at": instant_text(record.observed_at),
            "producer": record.producer,
            "payload_version": record.payload_version,
            "payload": self._converter.unstructure(record.payload),
        }

    def structure(self, data: Any) -> MetadataRecord:
        """A record from JSON-ready data, or :class:`RecordDecodeError` listing every problem."""
        built = self._built_directly(data)
        if built is not None:
            return built
        if not isinstance(data, dict):
            raise RecordDecodeError(
                [Problem("$", f"expected a JSON object, got {_describe(data)}")]
            )
        problems: list[Problem] = []
        extra = sorted(set(data) - _ENVELOPE_FIELDS)
        if extra:
            problems.append(
                Problem("$", f"unknown field(s) {', '.join(map(repr, extra))}; remove them")
            )
        problems.extend(
            Problem(f"$.{key}", "required field missing")
            for key in _REQUIRED_FIELDS
            if key not in data
        )

        fields: dict[str, Any] = {}
        kind: RecordKind | None = None
        if "kind" in data:
            try:
                kind = RecordKind.parse(data["kind"]) if isinstance(data["kind"], str) else None
                if kind is None:
                    problems.append(
                        Problem("$.kind", f"expected a string, got {_describe(data['kind'])}")
                    )
            except ValueError as invalid:
                problems.append(Problem("$.kind", str(invalid).removeprefix("kind: ")))
        for key, target in (
            ("subject", DatasetRef),
            ("run_id", RunId),
            ("observed_at", datetime),
            ("producer", str),
            ("payload_version", int),
            ("record_id", str),
        ):
            if key in data:
                value = self._field(data[key], target, f"$.{key}", problems)
                if value is not None:
                    fields[key] = value
        if kind is not None and "payload" in data:
            payload = self._field(
                data["payload"], PAYLOADS[kind].payload_type, "$.payload", problems
            )
            if payload is not None:
                fields["payload"] = payload
        if problems:
            raise RecordDecodeError(problems)
        assert kind is not None  # a missing or unknown kind is a problem above
        try:
            return MetadataRecord(kind=kind, **fields)
        except ValueError as invalid:
            field, _, reason = str(invalid).partition(": ")
            path = f"$.{field}" if field in _ENVELOPE_FIELDS else "$"
            raise RecordDecodeError(
                [Problem(path, reason if path != "$" else str(invalid))]
            ) from None

    def _built_directly(self, data: Any) -> MetadataRecord | None:
        """The record when ``data`` has the envelope's exact shape and types (as `dumps`
        writes it), built by the same hooks and validators as the strict path below but
        without its per-field bookkeeping; None for anything else, which the strict path
        then names (a batch of a service or a file is mostly well formed: this is its cost)."""
        if not isinstance(data, dict) or not _REQUIRED_SET <= data.keys() <= _ENVELOPE_FIELDS:
            return None
        subject, payload = data["subject"], data["payload"]
        kind, run_id, observed_at = data["kind"], data["run_id"], data["observed_at"]
        version = data.get("payload_version", 0)
        if not (
            isinstance(subject, dict)
            and subject.keys() == _SUBJECT_KEYS
            and isinstance(payload, dict)
            and isinstance(kind, str)
            and isinstance(run_id, str)
            and isinstance(observed_at, str)
            and isinstance(version, int)
            and not isinstance(version, bool)
        ):
            return None
        try:
            parsed = RecordKind.parse(kind)
            optional = {}
            if "payload_version" in data:
                optional["payload_version"] = data["payload_version"]
            if "record_id" in data:
                optional["record_id"] = _structure_text(data["record_id"], str)
            return MetadataRecord(
                kind=parsed,
                subject=DatasetRef(namespace=subject["namespace"], name=subject["name"]),
                run_id=RunId(run_id),
                observed_at=parse_instant(observed_at),
                producer=_structure_text(data["producer"], str),
                payload=self._converter.structure(payload, PAYLOADS[parsed].payload_type),
                **optional,
            )
        except Exception:  # - any refusal: the strict path names it with its path
            return None

    def _field(self, value: Any, target: type, path: str, problems: list[Problem]) -> Any:
        if path == "$.payload" and not isinstance(value, dict):
            problems.append(Problem(path, f"expected a JSON object, got {_describe(value)}"))
            return None
        try:
            return self._converter.structure(value, target)
        except (cattrs.BaseValidationError, InvalidValue) as invalid:
            problems.extend(
                _problems(invalid, path)
                if isinstance(invalid, cattrs.BaseValidationError)
                else [Problem(path, str(invalid))]
            )
        except (ValueError, TypeError, AttributeError) as invalid:
            # An attrs validator refused the value (e.g. duplicate column names).
            problems.append(Problem(path, str(invalid)))
        return None

    # -- JSON text -------------------------------------------------------------------------

    def dumps(self, record: MetadataRecord) -> str:
        return json.dumps(self.unstructure(record), sort_keys=True, separators=(",", ":"))

    def loads_stored(self, text: str) -> MetadataRecord:
        """A record from the text :meth:`dumps` wrote (an outbox row): built as a store reads
        its rows back, the envelope's input checks skipped (the record's own validators
        still run); text of any other shape goes through :meth:`loads` for its problems."""
        try:
            data = json.loads(text)
            kind = RecordKind(data["kind"])
            subject = data["subject"]
            return MetadataRecord(
                kind=kind,
                subject=DatasetRef(subject["namespace"], subject["name"]),
                run_id=RunId(data["run_id"]),
                observed_at=parse_instant(data["observed_at"]),
                producer=data["producer"],
                payload=self.structure_payload(kind, data["payload"]),
                payload_version=data["payload_version"],
                record_id=data["record_id"],
            )
        except Exception:  # - any surprise: the strict path names the problem
            return self.loads(text)

    def loads(
        self, text: str, *, line: int | None = None, unique_keys: bool = False
    ) -> MetadataRecord:
        """A record from JSON text; ``line`` is where ``text`` sits in a JSONL input;
        ``unique_keys``: see :func:`parse_json`."""
        return self.structure(parse_json(text, line=line, unique_keys=unique_keys))
