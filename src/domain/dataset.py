"""Identities the platform speaks about: datasets (OpenLineage naming) and runs."""

from __future__ import annotations

import re
import uuid

import attrs

from domain.text import name_problem

# Between namespace and name in the string form. Namespaces may hold "://" and IPv6
# addresses ("postgres://[::1]:5432"), so the form splits at the *last* separator and
# names may not contain it.
_SEPARATOR = "::"
_NO_SPACE = re.compile(r"^\S+$")


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:57] + "...")


def _non_blank(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name}: must be a non-empty string, got {value!r}")
    problem = name_problem(value)
    if problem:
        raise ValueError(f"{attribute.name}: {_shown(value)} {problem}")


def _no_space(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _NO_SPACE.fullmatch(value):
        raise ValueError(f"{attribute.name}: must not contain whitespace, got {_shown(value)}")


def _trimmed(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    # Inside a name a space is legitimate (a table "order items"); around it, a typo.
    if value != value.strip():
        raise ValueError(
            f"{attribute.name}: {_shown(value)} has leading or trailing whitespace; trim it"
        )


def _name_without_separator(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if _SEPARATOR in value:
        raise ValueError(f"{attribute.name}: must not contain {_SEPARATOR!r}, got {_shown(value)}")


@attrs.frozen(order=True)
class DatasetRef:
    """A dataset as OpenLineage names it: a namespace (where) and a name (what).

    Examples: ``DatasetRef("postgres://db:5432", "sales.public.orders")``,
    ``DatasetRef("file", "/data/orders.parquet")``. The string form is
    ``namespace::name`` (see :meth:`parse`).
    """

    namespace: str = attrs.field(validator=[_non_blank, _no_space])
    name: str = attrs.field(validator=[_non_blank, _trimmed, _name_without_separator])

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Read the string form ``namespace::name``."""
        namespace, separator, name = text.rpartition(_SEPARATOR)
        if not separator:
            raise ValueError(
                f"dataset reference {_shown(text)}: expected 'namespace::name', "
                f"e.g. 'postgres://db:5432::sales.public.orders'"
            )
        return cls(namespace=namespace, name=name)

    def __str__(self) -> str:
        return f"{self.namespace}{_SEPARATOR}{self.name}"


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _run_id_format(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _RUN_ID.fullmatch(value):
        raise ValueError(
            f"run_id: expected 1-128 characters of letters, digits and '._:-' "
            f"starting with a letter or digit, got "
            f"{_shown(value) if isinstance(value, str) else repr(value)}"
        )


@attrs.frozen(order=True)
class RunId:
    """The identity of one run of a pipeline, a check or a harvest."""

    value: str = attrs.field(validator=_run_id_format)

    @classmethod
    def new(cls) -> RunId:
        return cls(uuid.uuid4().hex)

    def __str__(self) -> str:
        return self.value
