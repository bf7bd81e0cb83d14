"""The router: which document type is this? A linear head over the base model's own embedding.

Asking the 270M base model to name the type was unreliable (scanned receipts came back as
"contract"). Instead the loaded base model embeds the start of the document
(`Runtime.embed`: mean of its last hidden layer) and a small softmax head, trained on text
from Docket's own converters (`pipeline.training.router`, `docket router train`), maps that
to receipt / contract / unknown. It reuses the model already in memory, costs one forward
pass over at most `EMBED_TOKENS` tokens, and is retrained in minutes when a type is added.

The head lives in `adapters/router/` (`manifest.json` + `head.safetensors`) and is tied to
the base model's weights: a head trained on other weights is refused, not silently misused.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import doctypes
from pipeline.document import Document
from pipeline.slm.runtime import Runtime

log = logging.getLogger(__name__)

ROUTER_DIR = Path(__file__).resolve().parents[1] / "adapters" / "router"
MANIFEST = "manifest.json"
WEIGHTS = "head.safetensors"
# What the head sees: the first characters of the document, then the model's first tokens of
# them. The first page says what a document is; more only costs prefill. Training and
# routing must read exactly the same text, so both use these and the manifest records them.
EMBED_CHARS = 1500
EMBED_TOKENS = 256
TRAIN_HINT = "run `docket router train` to train it (takes a few minutes on CPU)"


class RouterError(RuntimeError):
    """The router head is missing, damaged or belongs to other base-model weights.

    An install/configuration problem, not a problem with the document: retrying cannot help.
    """


@dataclass
class Classification:
    document_type: str  # a registry name or doctypes.UNKNOWN
    confidence: float
    method: str  # "hint" or "router"
    seconds: float = 0.0
    # The router's embedding of the document (None for a hint): kept for the documents it
    # could not place, which `pipeline.new_kinds` clusters, so that costs no second pass.
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RouterHead:
    """A trained softmax head: probabilities = softmax(weight @ embedding + bias)."""

    classes: tuple[str, ...]
    weight: np.ndarray  # [classes, hidden] float32, input standardisation folded in
    bias: np.ndarray  # [classes]
    threshold: float  # below this top probability the answer is "unknown"
    base_model: str
    model_sha256: str
    embed_chars: int
    embed_tokens: int
    directory: Path

    def check_runtime(self, runtime: Runtime) -> None:
        """Refuse to route with a head trained on other base-model weights."""
        if runtime.model_sha256 != self.model_sha256:
            raise RouterError(
                f"The router head in {self.directory} was trained on {self.base_model} "
                f"(sha256 {self.model_sha256[:12]}…), but the loaded model is {runtime.name} "
                f"(sha256 {runtime.model_sha256[:12]}…). A head only fits the weights it was "
                f"trained on: {TRAIN_HINT}."
            )

    def probabilities(self, embedding: np.ndarray) -> np.ndarray:
        logits = self.weight @ embedding.astype(np.float32) + self.bias
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def decide(self, probabilities: np.ndarray) -> tuple[str, float]:
        """The label and its probability; "unknown" when the best class is not sure enough."""
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        label = self.classes[best]
        if confidence < self.threshold:
            label = doctypes.UNKNOWN
        return label, confidence


def load_head(directory: Path = ROUTER_DIR) -> RouterHead:
    """Read a head from disk and check it against the type registry (no runtime needed)."""
    manifest_path = directory / MANIFEST
    weights_path = directory / WEIGHTS
    if not manifest_path.is_file() or not weights_path.is_file():
        raise RouterError(f"No router head in {directory} (missing {MANIFEST} or {WEIGHTS}): "
                          f"{TRAIN_HINT}.")
    try:
        from safetensors.numpy import load_file

        manifest = json.loads(manifest_path.read_text())
        tensors = load_file(str(weights_path))
        head = RouterHead(
            classes=tuple(manifest["classes"]),
            weight=tensors["weight"].astype(np.float32),
            bias=tensors["bias"].astype(np.float32),
            threshold=float(manifest["threshold"]),
            base_model=str(manifest["base_model"]),
            model_sha256=str(manifest["model_sha256"]),
            embed_chars=int(manifest["embedding"]["max_chars"]),
            embed_tokens=int(manifest["embedding"]["max_tokens"]),
            directory=directory,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RouterError(f"The router head in {directory} is unreadable ({exc}): "
                          f"{TRAIN_HINT}.") from exc
    if head.weight.shape[0] != len(head.classes) or head.bias.shape != (len(head.classes),):
        raise RouterError(f"The router head in {directory} does not match its manifest's "
                          f"classes {list(head.classes)}: {TRAIN_HINT}.")
    unregistered = [c for c in head.classes if c != doctypes.UNKNOWN and c not in doctypes.REGISTRY]
    if unregistered:
        raise RouterError(f"The router head in {directory} routes to {unregistered}, which the "
                          f"type registry does not have: {TRAIN_HINT}.")
    untrained = [name for name in doctypes.REGISTRY if name not in head.classes]
    if untrained:
        log.warning("The router head cannot route to %s (added after it was trained); %s.",
                    untrained, TRAIN_HINT)
    return head


@functools.cache
def get_head() -> RouterHead:
    """The process's router head, read once on first use."""
    return load_head(ROUTER_DIR)


def classify(document: Document, runtime: Runtime, hint: str | None = None) -> Classification:
    if hint:
        doctypes.get(hint)  # an unknown hint is a caller error, said clearly
        return Classification(hint, 1.0, "hint")
    head = get_head()
    head.check_runtime(runtime)
    started = time.perf_counter()
    embedding = runtime.embed(document.text(max_chars=head.embed_chars),
                              max_tokens=head.embed_tokens)
    label, confidence = head.decide(head.probabilities(embedding))
    return Classification(label, confidence, "router", seconds=time.perf_counter() - started,
                          embedding=embedding)
