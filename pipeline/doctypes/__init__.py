"""The registry of document types and their labelled datasets, discovered from packages.

Each sub-package of `pipeline/doctypes/` is one type: it defines `DOCTYPE` and, when it has
labelled documents, `DATASETS`. Packages named in `DOCKET_EXTRA_DOCTYPES` (comma-separated
module names) are registered too: a type can live outside this repository, and the test that
proves a type is one package uses this to add one without touching any other file.

Everything that depends on the set of types (router classes, API unions, CLI choices, review
hints, training targets, scorers) reads `REGISTRY` and `DATASETS` from here.
"""

from __future__ import annotations

import functools
import importlib
import os
import pkgutil
from pathlib import Path
from types import ModuleType

from pipeline.doctypes.base import (
    Aggregate,
    Dataset,
    DocType,
    Focus,
    QueryConfig,
    Score,
    Source,
    Synthetic,
)

__all__ = ["DATASETS", "REGISTRY", "UNKNOWN", "Aggregate", "Dataset", "DocType", "Focus",
           "QueryConfig", "Score", "Source", "Synthetic", "dataset", "datasets_of", "get",
           "migration_dirs"]

UNKNOWN = "unknown"
EXTRA_ENV = "DOCKET_EXTRA_DOCTYPES"


def _packages() -> list[ModuleType]:
    """The type packages: this folder's sub-packages (by name), then the extra ones in order."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
             if info.ispkg]
    extra = [name.strip() for name in os.environ.get(EXTRA_ENV, "").split(",") if name.strip()]
    for name in extra:
        try:
            found.append(importlib.import_module(name))
        except ImportError as exc:
            raise RuntimeError(f"{EXTRA_ENV} names '{name}', which cannot be imported ({exc}); "
                               "put its folder on PYTHONPATH or install it.") from exc
    return found


@functools.cache
def _register() -> tuple[list[ModuleType], dict[str, DocType], dict[str, Dataset]]:
    """Import the packages once, on first use (not at import: a package outside this folder
    imports `pipeline.doctypes` itself)."""
    packages = _packages()
    types: dict[str, DocType] = {}
    sets: dict[str, Dataset] = {}
    for package in packages:
        doctype: DocType = package.DOCTYPE
        if doctype.name in types or doctype.name == UNKNOWN:
            raise RuntimeError(f"{package.__name__}: the type name '{doctype.name}' is taken")
        types[doctype.name] = doctype
        for data in getattr(package, "DATASETS", ()):
            if data.name in sets:
                raise RuntimeError(f"{package.__name__}: the dataset '{data.name}' is taken")
            if data.doc_type != doctype.name:
                raise RuntimeError(f"{package.__name__}: dataset '{data.name}' labels "
                                   f"'{data.doc_type}', not '{doctype.name}'")
            sets[data.name] = data
    return packages, types, sets


# Declared for type checkers; the values come from `__getattr__`, on first use.
REGISTRY: dict[str, DocType]  # type name → DocType
DATASETS: dict[str, Dataset]  # dataset name → Dataset


def __getattr__(name: str) -> object:
    if name == "REGISTRY":
        return _register()[1]
    if name == "DATASETS":
        return _register()[2]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def migration_dirs() -> list[Path]:
    """Alembic version folders that type packages carry themselves (`<package>/migrations/`):
    how a type kept outside this repository brings its tables. Built-in types keep theirs in
    `migrations/versions/` with the rest of the schema."""
    dirs = [Path(package.__file__).parent / "migrations" for package in _register()[0]
            if package.__file__]
    return [d for d in dirs if d.is_dir()]


def get(name: str) -> DocType:
    try:
        return _register()[1][name]
    except KeyError:
        known = ", ".join(_register()[1])
        raise ValueError(f"Unknown document type '{name}'; known types: {known}") from None


def dataset(name: str) -> Dataset:
    """A registered dataset by name; an unknown name is an error that lists the known ones."""
    try:
        return _register()[2][name]
    except KeyError:
        known = ", ".join(_register()[2]) or "none"
        raise ValueError(f"Unknown dataset '{name}'; registered datasets: {known}") from None


def datasets_of(doc_type: str) -> list[Dataset]:
    """The datasets labelled with this type (what its adapter trains on and is scored on)."""
    return [d for d in _register()[2].values() if d.doc_type == doc_type]


def adapters() -> list[str]:
    """The names of the types' LoRA adapters (one per type that has one), sorted."""
    return sorted({t.adapter for t in _register()[1].values() if t.adapter})


def types_of(adapter: str) -> list[str]:
    """The types an adapter serves."""
    return [t.name for t in _register()[1].values() if t.adapter == adapter]
