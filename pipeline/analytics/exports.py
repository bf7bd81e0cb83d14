"""Streaming CSV and Parquet writers: chunks of rows in, bytes out as they are produced.

An export of every receipt never sits in memory: the API streams these bytes to the client and
`docket export` to a file, one chunk (a Parquet row group) at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from pipeline.storage.analytics import Column

FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def csv_value(value: Any) -> Any:
    """Plain text a spreadsheet reads back: ISO dates, true/false, lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(columns: list[Column], chunks: Iterable[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    """A header line, then one block of lines per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    yield buffer.getvalue().encode()
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([[csv_value(v) for v in row] for row in chunk])
        yield buffer.getvalue().encode()


def arrow_type(column: Column) -> Any:
    """The Arrow type of a Postgres column: money stays decimal, dates stay dates."""
    import pyarrow as pa

    scalar = {
        "bool": pa.bool_(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
        "float4": pa.float32(), "float8": pa.float64(), "date": pa.date32(),
        "timestamptz": pa.timestamp("us", tz="UTC"), "timestamp": pa.timestamp("us"),
        # uuid as its text form: every Parquet reader reads a string; the UUID logical
        # type is not read everywhere yet.
        "uuid": pa.string(),
    }
    if column.type.endswith("[]"):
        return pa.list_(arrow_type(Column(column.name, column.type[:-2])))
    if column.type == "numeric":
        if column.precision is None:  # no declared scale: keep every digit as text
            return pa.string()
        return pa.decimal128(column.precision, column.scale or 0)
    return scalar.get(column.type, pa.string())


def _arrow_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


class _Sink:
    """A write-only file the Parquet writer writes into; `drain` hands over what it wrote."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def write_parquet(columns: list[Column],
                  chunks: Iterable[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    """One row group per chunk; the bytes of each are yielded as soon as it is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])
    converters = [_converter(t) for t in schema.types]
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        for chunk in chunks:
            arrays = [pa.array([convert(row[i]) for row in chunk], type=schema.types[i])
                      for i, convert in enumerate(converters)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            if data := sink.drain():
                yield data
    finally:
        writer.close()
    yield sink.drain()


def _converter(arrow: Any) -> Any:
    """Python value → what pa.array takes for this type (text for text-typed columns)."""
    import pyarrow as pa

    if pa.types.is_string(arrow):
        return lambda v: None if v is None else (v if isinstance(v, str) else str(
            _arrow_value(v)))
    if pa.types.is_decimal(arrow):
        return lambda v: v if v is None or isinstance(v, Decimal) else Decimal(str(v))
    return _arrow_value
