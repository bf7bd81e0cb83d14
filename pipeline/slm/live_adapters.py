"""Promoted adapter versions reach a running worker before its next document, no restart.

Before each document the worker asks Postgres which version of each adapter is current (one
small query) and, where that is not the one it holds, writes the version's files once under
the model cache (by their hash) and binds them in place of the old ones: the base model stays
loaded, as when adapters are swapped per document.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from psycopg import Connection

from pipeline.slm import adapters as adapter_store
from pipeline.slm.runtime import Runtime
from pipeline.storage import adapter_versions

log = logging.getLogger(__name__)


def loaded_version(runtime: Runtime, name: str) -> int | None:
    """The version the runtime holds of an adapter (None: the committed one, or none)."""
    adapter = runtime.adapters.get(name)
    return adapter.manifest.get("version") if adapter is not None else None


def current_adapter(conn: Connection[Any], name: str, cache_dir: Path,
                    adapters_dir: Path = adapter_store.ADAPTERS_DIR
                    ) -> adapter_store.Adapter | None:
    """The adapter's current version as a folder to load or continue training: the promoted
    version (written once under `cache_dir`), else the committed one (None: neither)."""
    current = adapter_versions.current(conn).get(name)
    if current is None or current.version_id is None:
        try:
            return adapter_store.find(name, adapters_dir)
        except ValueError:
            return None
    folder = adapter_versions.materialize(conn, current.version_id, cache_dir)
    return adapter_store.Adapter(name, folder,
                                 json.loads((folder / adapter_versions.MANIFEST).read_text()))


def sync(conn: Connection[Any], runtime: Runtime, cache_dir: Path,
         adapters_dir: Path = adapter_store.ADAPTERS_DIR) -> list[str]:
    """Bind every adapter's current version where the runtime holds another; returns what
    changed, as `name@version`."""
    changed = []
    for name, current in adapter_versions.current(conn).items():
        if current.version == loaded_version(runtime, name):
            continue
        adapter = current_adapter(conn, name, cache_dir, adapters_dir)
        if adapter is None:
            continue
        if adapter.manifest.get("base_model_sha256") != runtime.model_sha256:
            log.warning("adapter %s v%s was trained on other base weights; not loaded", name,
                        current.version)
            continue
        runtime.load_adapter(adapter)
        changed.append(f"{name}@{current.version or 'committed'}")
        log.info("adapter %s is now version %s", name, current.version or "committed")
    return changed
