"""Apache Iceberg through pyiceberg: catalogs, tables, snapshots, compaction and maintenance."""
