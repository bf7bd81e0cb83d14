"""The LoRA adapters committed in `adapters/<name>/`: what is there, and whether it fits.

Each folder holds PEFT's `adapter_config.json` + `adapter_model.safetensors` and Docket's
`manifest.json` (base model and its GGUF hash, rank, targets, training data, eval figures).
An adapter trained on other base weights is refused, never silently applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADAPTERS_DIR = Path(__file__).resolve().parents[2] / "adapters"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Adapter:
    name: str
    path: Path
    manifest: dict[str, Any]

    @property
    def decoding(self) -> dict[str, Any]:
        return dict(self.manifest.get("decoding", {}))


def available(adapters_dir: Path = ADAPTERS_DIR) -> list[Adapter]:
    """Every LoRA adapter folder (the router's head is not one)."""
    found = []
    for path in sorted(adapters_dir.iterdir()) if adapters_dir.is_dir() else []:
        manifest = path / MANIFEST
        if (path / "adapter_config.json").is_file() and manifest.is_file():
            found.append(Adapter(path.name, path, json.loads(manifest.read_text())))
    return found


def find(name: str, adapters_dir: Path = ADAPTERS_DIR) -> Adapter:
    for adapter in available(adapters_dir):
        if adapter.name == name:
            return adapter
    names = ", ".join(a.name for a in available(adapters_dir)) or "none"
    raise ValueError(f"No adapter '{name}' in {adapters_dir} (available: {names}); train one "
                     f"with `docket adapters train`.")


def for_model(model_sha256: str, adapters_dir: Path = ADAPTERS_DIR) -> list[Adapter]:
    """The adapters trained on these exact base weights."""
    return [a for a in available(adapters_dir)
            if a.manifest.get("base_model_sha256") == model_sha256]
