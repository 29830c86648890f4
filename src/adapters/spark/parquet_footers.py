"""What the footers of Parquet files already know: row counts, nulls, min and max.

Every Parquet file ends in a footer holding, per row group and column chunk, the row count
and (when the writer kept them) statistics: nulls, min and max. Reading them costs a few
reads per file on the driver and no Spark job, so the profiler takes these figures from the
footers and scans only for what footers cannot say.

A figure is used only when every chunk of the column carries it; otherwise the column is
left to the scan. Min and max are taken only for types whose Parquet order is Spark's
order: integers, decimals, strings (unsigned bytes, as Spark compares UTF-8), dates and
booleans. Floating point (NaN is left out of Parquet statistics but is Spark's largest
value) and timestamps (INT96, with no statistics, is Spark's default) are scanned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

# Footers are read on the driver over the py4j bridge, about 8 ms per column of a file
# (0.1 s for two files of six columns): past this many file columns a scan is cheaper.
MAX_FOOTER_COLUMNS = 400

_EPOCH = dt.date(1970, 1, 1)
_MIN_MAX_TYPES = (T.IntegralType, T.DecimalType, T.StringType, T.DateType, T.BooleanType)


@attrs.frozen
class ColumnFooter:
    """One column over all files: nulls, and min/max when every chunk recorded them."""

    nulls: int
    min_value: Any = None
    max_value: Any = None
    min_max_known: bool = False


@attrs.frozen
class FooterStatistics:
    """Row count of the files and what their footers know of each top-level column."""

    rows: int
    columns: dict[str, ColumnFooter]

    def column(self, name: str) -> ColumnFooter | None:
        return self.columns.get(name)


@attrs.define
class _Accumulator:
    nulls: int = 0
    complete: bool = True
    min_max_known: bool = True
    low: Any = None
    high: Any = None

    def add(self, low: Any, high: Any) -> None:
        self.low = low if self.low is None or low < self.low else self.low
        self.high = high if self.high is None or high > self.high else self.high


def parquet_footer_statistics(frame: DataFrame) -> FooterStatistics | None:
    """The footer statistics of the files ``frame`` reads, or None when there are none to
    use (no files, or more file columns than reading footers is worth)."""
    files = frame.inputFiles()
    if not files or len(files) * len(frame.schema.fields) > MAX_FOOTER_COLUMNS:
        return None
    return read_footers(frame.sparkSession, files, frame.schema)


def read_footers(
    spark: SparkSession, files: Sequence[str], schema: T.StructType
) -> FooterStatistics | None:
    jvm = spark._jvm
    assert jvm is not None
    conf = spark._jsc.hadoopConfiguration()
    fields = {field.name: field.dataType for field in schema.fields}
    seen = {name: _Accumulator() for name in fields}
    rows = 0
    for file in files:
        input_file = jvm.org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
            jvm.org.apache.hadoop.fs.Path(file), conf
        )
        reader = jvm.org.apache.parquet.hadoop.ParquetFileReader.open(input_file)
        try:
            blocks = list(reader.getFooter().getBlocks())
        finally:
            reader.close()
        in_file: set[str] = set()
        for block in blocks:
            block_rows = int(block.getRowCount())
            rows += block_rows
            for chunk in block.getColumns():
                path = list(chunk.getPath().toArray())
                name = path[0]
                if len(path) != 1 or name not in seen:
                    continue  # nested fields are not profiled from footers
                in_file.add(name)
                _take(seen[name], chunk, block_rows, fields[name])
        for name, accumulator in seen.items():
            if name not in in_file:
                accumulator.complete = False  # a partition column, or a file without it
    columns = {
        name: ColumnFooter(
            nulls=accumulator.nulls,
            min_value=accumulator.low if accumulator.min_max_known else None,
            max_value=accumulator.high if accumulator.min_max_known else None,
            min_max_known=accumulator.min_max_known,
        )
        for name, accumulator in seen.items()
        if accumulator.complete
    }
    return FooterStatistics(rows, columns)


def _take(accumulator: _Accumulator, chunk: Any, rows: int, spark_type: T.DataType) -> None:
    statistics = chunk.getStatistics()
    if statistics is None or statistics.isEmpty() or not statistics.isNumNullsSet():
        accumulator.complete = False
        return
    nulls = int(statistics.getNumNulls())
    accumulator.nulls += nulls
    if not accumulator.min_max_known or nulls == rows:
        return  # an all-null chunk has no min or max to add
    if not isinstance(spark_type, _MIN_MAX_TYPES) or not statistics.hasNonNullValue():
        accumulator.min_max_known = False
        return
    physical = chunk.getPrimitiveType().getPrimitiveTypeName().name()
    low = _value(statistics.genericGetMin(), physical, spark_type)
    high = _value(statistics.genericGetMax(), physical, spark_type)
    if low is None or high is None:
        accumulator.min_max_known = False
        return
    accumulator.add(low, high)


def _value(raw: Any, physical: str, spark_type: T.DataType) -> Any:
    """A footer value as the Python value Spark would collect, or None if not understood."""
    if isinstance(spark_type, T.BooleanType):
        return bool(raw)
    if isinstance(spark_type, T.IntegralType):
        return int(raw)
    if isinstance(spark_type, T.DateType):
        return _EPOCH + dt.timedelta(days=int(raw))
    if isinstance(spark_type, T.StringType):
        return str(raw.toStringUsingUTF8())
    if isinstance(spark_type, T.DecimalType):
        if physical in ("INT32", "INT64"):
            unscaled = int(raw)
        elif physical in ("FIXED_LEN_BYTE_ARRAY", "BINARY"):
            unscaled = int.from_bytes(bytes(raw.getBytes()), "big", signed=True)
        else:
            return None
        return Decimal(f"{unscaled}E-{spark_type.scale}")  # exact, whatever the digits
    return None
