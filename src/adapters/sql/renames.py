"""Rewrite a store's subjects onto their canonical spelling (domain.identity).

Run by migration 0005 on a store made before one table had one reference: each record
about an old spelling moves to the canonical subject with its id derived again (so the id
still means the same fact); where the canonical subject already holds that fact, the old
copy is the duplicate and goes. Every old spelling is kept in ``metadata_aliases``.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from adapters.serialization.records import RecordConverter
from adapters.sql.tables import aliases, records, subjects
from domain.dataset import DatasetRef, RunId
from domain.identity import canonical
from domain.metadata.kinds import RecordKind
from domain.metadata.record import derive_record_id


def rename_subjects(connection: Connection, home: str | None = None) -> dict[str, int]:
    """Move every record of a non-canonical subject; returns counts (subjects, moved,
    duplicates dropped)."""
    converter = RecordConverter()
    counts = {"subjects": 0, "moved": 0, "duplicates": 0}
    stored = connection.execute(select(subjects.c.namespace, subjects.c.name)).all()
    for namespace, name in stored:
        try:
            old = DatasetRef(namespace, name)
        except ValueError:
            continue  # not a reference this tool wrote: left as it is
        new = canonical(old, home)
        if new == old:
            continue
        counts["subjects"] += 1
        rows = connection.execute(
            select(
                records.c.seq,
                records.c.record_id,
                records.c.kind,
                records.c.run_id,
                records.c.payload,
            ).where(records.c.namespace == namespace, records.c.name == name)
        ).all()
        for row in rows:
            kind = RecordKind(row.kind)
            payload = converter.structure_payload(kind, row.payload)
            record_id = derive_record_id(kind, new, RunId(row.run_id), payload)
            taken = connection.execute(
                select(records.c.seq).where(records.c.record_id == record_id)
            ).first()
            if taken is not None:
                connection.execute(delete(records).where(records.c.seq == row.seq))
                counts["duplicates"] += 1
                continue
            connection.execute(
                update(records)
                .where(records.c.seq == row.seq)
                .values(namespace=new.namespace, name=new.name, record_id=record_id)
            )
            counts["moved"] += 1
        connection.execute(
            delete(subjects).where(subjects.c.namespace == namespace, subjects.c.name == name)
        )
        present = connection.execute(
            select(subjects.c.name).where(
                subjects.c.namespace == new.namespace, subjects.c.name == new.name
            )
        ).first()
        if present is None:
            connection.execute(insert(subjects).values(namespace=new.namespace, name=new.name))
        connection.execute(
            insert(aliases).values(
                namespace=namespace,
                name=name,
                canonical_namespace=new.namespace,
                canonical_name=new.name,
            )
        )
    return counts
