"""Drift policies from a TOML file (default and per-dataset), with errors naming file and key.

[default]
type_changes = "widen_only"          # evolve | widen_only | freeze
new_columns = "evolve"               # evolve | freeze | discard
removed_columns = "evolve"           # evolve | freeze
nullability = "evolve"               # evolve | freeze
precision = "block"                  # block | warn | widen
naive_timezone = "UTC"               # lets timestamp_ntz widen to timestamp_tz

[datasets."postgres://warehouse:5432::sales.public.orders"]
new_columns = "freeze"
renames = { cust = "customer" }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import attrs
import cattrs

from adapters.files.toml_edge import explain, toml_converter
from domain.dataset import DatasetRef
from domain.schema.policy import DriftPolicy, PolicyBook


class PolicyFileError(ValueError):
    pass


@attrs.frozen
class _PolicyFile:
    default: dict[str, Any] = attrs.field(factory=dict)
    datasets: dict[str, dict[str, Any]] = attrs.field(factory=dict)


def _policy(
    converter: cattrs.Converter, data: dict[str, Any], base: DriftPolicy, where: str
) -> DriftPolicy:
    merged = {**attrs.asdict(base, recurse=False), **data}
    renames = merged.get("renames") or {}
    if not isinstance(renames, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in renames.items()
    ):
        raise PolicyFileError(
            f'{where}.renames: expected a table of old = "new" column names, got {renames!r}'
        )
    merged["renames"] = dict(renames)
    try:
        return converter.structure(merged, DriftPolicy)
    except cattrs.BaseValidationError as invalid:
        reasons = "; ".join(explain(invalid, where))
        raise PolicyFileError(reasons) from None


def load_policies(path: Path | None, overrides: dict[str, Any] | None = None) -> PolicyBook:
    """The policy book in ``path`` (or the defaults), with command-line ``overrides`` on top."""
    converter = toml_converter()
    raw = _PolicyFile()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            raw = converter.structure(data, _PolicyFile)
        except UnicodeDecodeError:
            raise PolicyFileError(
                f"{path}: not UTF-8 text; a policy file is UTF-8 TOML (convert it with iconv)"
            ) from None
        except (OSError, tomllib.TOMLDecodeError) as bad:
            raise PolicyFileError(f"{path}: {bad}") from None
        except cattrs.BaseValidationError as invalid:
            raise PolicyFileError(
                f"{path}: {'; '.join(cattrs.transform_error(invalid))}; expected [default] and [datasets.\"namespace::name\"] tables"
            ) from None
    try:
        default = _policy(converter, raw.default, DriftPolicy(), "[default]")
        datasets = {}
        for subject, section in raw.datasets.items():
            datasets[DatasetRef.parse(subject)] = _policy(
                converter, section, default, f"[datasets.{subject!r}]"
            )
        if overrides:
            default = _policy(converter, overrides, default, "command line")
            datasets = {
                s: _policy(converter, overrides, p, "command line") for s, p in datasets.items()
            }
    except (PolicyFileError, ValueError) as invalid:
        raise PolicyFileError(f"{path or 'policy'}: {invalid}") from None
    return PolicyBook(default, datasets)
