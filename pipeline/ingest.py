"""Uploads: files, folders and zip archives → one batch of stored, queued documents.

Every file becomes a document with its bytes in Postgres, even one that is refused (too
large, unsupported type): it ends `failed` with the reason, so nothing handed over is lost.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg import Connection

from pipeline import doctypes
from pipeline.convert import sniff_mime
from pipeline.convert.sniff import is_zip_archive
from pipeline.errors import DocumentError
from pipeline.settings import Settings
from pipeline.storage import documents, webhooks


@dataclass
class Upload:
    filename: str
    data: bytes
    problem: str | None = None  # set when the file is refused before processing


@dataclass
class BatchResult:
    batch_id: uuid.UUID
    stored: list[documents.Stored] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (filename, reason)
    to_process: list[uuid.UUID] = field(default_factory=list)  # new documents for a worker
    webhook: webhooks.Webhook | None = None  # the upload's callback


def iter_uploads(paths: list[Path], settings: Settings) -> Iterator[Upload]:
    """Files in the given paths, recursing into folders and opening .zip archives."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if not child.name.startswith("."):
                    yield from _from_file(child, settings, display=str(child))
        elif path.is_file():
            yield from _from_file(path, settings, display=str(path))
        else:
            raise FileNotFoundError(f"No such file or folder: {path}")


def _from_file(path: Path, settings: Settings, display: str) -> Iterator[Upload]:
    size = path.stat().st_size
    if path.suffix.lower() == ".zip":
        yield from _from_zip(path, settings)
        return
    if size > settings.max_upload_bytes:
        yield Upload(display, path.read_bytes(), _too_large(size, settings))
        return
    yield Upload(display, path.read_bytes())


def _from_zip(path: Path, settings: Settings) -> Iterator[Upload]:
    yield from _zip_members(path, str(path), settings)


def _zip_members(source: Path | io.BytesIO, label: str, settings: Settings,
                 ) -> Iterator[Upload]:
    """Each file of an archive as an upload named `archive!member`, read with a bound.

    A member that cannot be taken (too large, unreadable) keeps the archive's own bytes as its
    original, so what was handed over is still there to fetch; an archive over the upload
    limit itself is not copied into the database.
    """
    def archive_bytes() -> bytes:
        if isinstance(source, io.BytesIO):
            return source.getvalue()
        return source.read_bytes() if source.stat().st_size <= settings.max_upload_bytes else b""

    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        yield Upload(label, archive_bytes(), "The zip archive is corrupt and cannot be opened; "
                     "re-create it and upload again.")
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir() or Path(info.filename).name.startswith("."):
                continue
            # Names are only labels: nothing is written to disk, so '../' cannot escape.
            name = f"{label}!{info.filename}"
            if info.file_size > settings.max_upload_bytes:
                yield Upload(name, archive_bytes(), _too_large(info.file_size, settings))
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(settings.max_upload_bytes + 1)  # bounded: no zip bombs
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError,
                    NotImplementedError) as exc:  # damaged, encrypted, unknown compression
                yield Upload(name, archive_bytes(), f"This file of the zip archive cannot be "
                             f"read ({exc}); re-create the archive without encryption and "
                             "upload again.")
                continue
            if len(data) > settings.max_upload_bytes:
                yield Upload(name, archive_bytes(), _too_large(len(data), settings))
                continue
            yield Upload(name, data)


def expand_archives(uploads: list[Upload], settings: Settings) -> list[Upload]:
    """Uploads with every plain zip archive replaced by its files (as `docket ingest` does);
    Office files, which are zips too, stay whole."""
    out: list[Upload] = []
    for upload in uploads:
        if not upload.problem and is_zip_archive(upload.data):
            out += _zip_members(io.BytesIO(upload.data), upload.filename, settings)
        else:
            out.append(upload)
    return out


def _too_large(size: int, settings: Settings) -> str:
    return (f"The file is {size / 1e6:.1f} MB, over the {settings.max_upload_bytes / 1e6:.0f} MB "
            "limit (DOCKET_MAX_UPLOAD_BYTES); split it or raise the limit.")


def sniff_upload(upload: Upload) -> tuple[str | None, str | None]:
    """(mime type, None) for a processable upload, else (None, why not). No conversion."""
    if upload.problem:
        return None, upload.problem
    try:
        return sniff_mime(upload.data, upload.filename), None
    except DocumentError as exc:
        return None, str(exc)


def check_upload(upload: Upload) -> str | None:
    """Why this upload cannot be processed, or None."""
    return sniff_upload(upload)[1]


def store_uploads(
    conn: Connection[Any],
    uploads: list[Upload] | Iterator[Upload],
    settings: Settings,
    source: str,
    type_hint: str | None = None,
    progress: Callable[[Upload], None] | None = None,
    key_id: uuid.UUID | None = None,
    callback_url: str | None = None,
) -> BatchResult:
    """Store a batch of uploads (refused ones as `failed` documents, with their reason).

    `key_id`: the API key that uploaded it; `callback_url`: a webhook told of each document's
    end and the batch's (`result.webhook` holds its id and signing secret).
    """
    if type_hint is not None:
        doctypes.get(type_hint)
    result = BatchResult(documents.create_batch(conn, source, key_id))
    if callback_url is not None:
        result.webhook = webhooks.create(conn, callback_url, key_id, result.batch_id)
    for count, upload in enumerate(uploads, start=1):
        if count > settings.max_files_per_batch:
            raise DocumentError(
                f"A batch holds at most {settings.max_files_per_batch} files "
                "(DOCKET_MAX_FILES_PER_BATCH); split the upload."
            )
        mime, problem = sniff_upload(upload)
        if problem:
            stored = documents.add_failed_upload(
                conn, result.batch_id, upload.filename, upload.data, problem
            )
            result.refused.append((upload.filename, problem))
        else:
            stored = documents.add_document(
                conn, result.batch_id, upload.filename, upload.data, type_hint, mime
            )
            if not stored.duplicate:
                result.to_process.append(stored.document_id)
        result.stored.append(stored)
        if progress:
            progress(upload)
    webhooks.seal(conn, result.batch_id)
    return result

