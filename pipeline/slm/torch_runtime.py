"""The reference runtime: eager transformers (fp32) with PEFT adapters.

The stack training uses (`pipeline.training.lora`), and the reference the ONNX runtime's
outputs are compared with (`DOCKET_RUNTIME=torch`). PEFT keeps every adapter beside the base
weights: `using` switches the active one, or disables them all for the plain base model.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.slm import adapters as adapter_store
from pipeline.slm.decoding import Stepper
from pipeline.slm.models import PreparedModel
from pipeline.slm.runtime import Runtime

log = logging.getLogger(__name__)


class TorchRuntime(Runtime):
    """Eager transformers (fp32) with PEFT: the training path and the reference."""

    kind = "torch"

    def __init__(self, prepared: PreparedModel, threads: int = 0,
                 adapters_dir: Path = adapter_store.ADAPTERS_DIR) -> None:
        from transformers import AutoModelForCausalLM

        torch.set_num_threads(threads or os.cpu_count() or 1)
        started = time.perf_counter()
        self.base = AutoModelForCausalLM.from_pretrained(
            str(prepared.path), dtype=torch.float32
        ).eval()
        self._init_text(prepared, self.base.config.vocab_size)
        self.model: Any = self.base
        self.adapters = {a.name: a for a in adapter_store.for_model(self.model_sha256,
                                                                    adapters_dir)}
        for n, adapter in enumerate(self.adapters.values()):
            from peft import PeftModel

            if n == 0:
                self.model = PeftModel.from_pretrained(self.base, str(adapter.path),
                                                       adapter_name=adapter.name).eval()
            else:
                self.model.load_adapter(str(adapter.path), adapter_name=adapter.name)
        self.load_s = time.perf_counter() - started
        log.info("Loaded %s (torch) in %.1f s", self.name, self.load_s)

    def load_adapter(self, adapter: adapter_store.Adapter) -> None:
        from peft import PeftModel

        if not self.adapters:
            self.model = PeftModel.from_pretrained(self.base, str(adapter.path),
                                                   adapter_name=adapter.name).eval()
        else:
            if adapter.name in self.adapters:
                self.model.delete_adapter(adapter.name)
            self.model.load_adapter(str(adapter.path), adapter_name=adapter.name)
        self.adapters[adapter.name] = adapter

    @contextmanager
    def using(self, adapter: str | None) -> Iterator[None]:
        """Run the enclosed calls with this adapter active (None: the plain base model)."""
        if not self.adapters:
            if adapter is not None:
                raise ValueError(f"No adapter '{adapter}' is loaded for {self.name}")
            yield
        elif adapter is None:
            with self.model.disable_adapter():
                yield
        else:
            if adapter not in self.adapters:
                raise ValueError(f"No adapter '{adapter}' is loaded for {self.name}; loaded: "
                                 f"{', '.join(self.adapters)}")
            self.model.set_adapter(adapter)
            yield

    @torch.inference_mode()
    def embed(self, text: str, max_tokens: int = 256) -> np.ndarray:
        """Mean of the last hidden layer over the text's first tokens: a document fingerprint.

        The router's small linear head reads this, so routing reuses the loaded base model.
        """
        input_ids = torch.tensor([self.encode(text)[:max_tokens]])
        with self.using(None):
            out = self.base.model(input_ids=input_ids)
        return out.last_hidden_state[0].float().mean(dim=0).numpy()

    def _stepper(self, candidates: np.ndarray | None = None) -> Stepper:
        from transformers import DynamicCache

        past = DynamicCache(config=self.model.config)
        past.activate_past_recording()  # sliding-window layers keep what a rollback needs
        length = [0]

        @torch.inference_mode()
        def feed(ids: list[int], every: bool = True) -> np.ndarray:
            out = self.model(input_ids=torch.tensor([ids]), past_key_values=past,
                             use_cache=True, logits_to_keep=len(ids) if every else 1)
            length[0] += len(ids)
            return out.logits[0].float().numpy()

        def score(logits: np.ndarray, ids: np.ndarray | None) -> np.ndarray:
            return logits if ids is None else logits[ids]

        def keep(tokens: int) -> None:
            past.crop(tokens - length[0])  # a negative count: that many tokens go
            length[0] = tokens

        return Stepper(feed, score, keep)
