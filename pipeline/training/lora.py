"""Train a LoRA adapter for one document type with PEFT, on this CPU.

Why it is shaped this way:
- The loss is on the target JSON only, and only on the pieces the source labels
  (`targets.Piece.scored`); the prompt is context.
- The output layer (262k tokens × 640, ~170M of the 270M parameters) is applied only at the
  scored positions (`logits_to_keep` with indices): prompts are several times longer than
  targets, so this skips most of the step's cost.
- Batch size 1 (no padding wasted on 2 cores), gradients accumulated over `accumulate` examples.
- Steps on long Kleister examples were slow with adapters on every layer and dropout;
  adapters only above the lowest layers (`adapter_spec`), no dropout and shorter contract
  contexts bring that down (backward stops at the lowest adapted layer).
- Where the CPU has bf16 instructions (AVX512-BF16, AMX), forward and backward run under
  bf16 autocast: faster steps with the same loss; the LoRA weights and optimizer stay fp32.
- The adapter is saved in PEFT's own format (adapter_config.json + adapter_model.safetensors,
  fp16 to halve the size) with a manifest: base model and its hash, rank, targets, data,
  training time; `docket eval` adds its figures.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from pipeline.settings import Settings
from pipeline.slm import adapter_spec, onnx_adapters, onnx_export
from pipeline.slm.adapters import Adapter
from pipeline.slm.models import prepare
from pipeline.training.targets import Target

log = logging.getLogger(__name__)

Progress = Callable[[int, int, float], None]  # step, steps, running loss


@dataclass(frozen=True)
class TrainConfig:
    rank: int = adapter_spec.RANK
    alpha: int = adapter_spec.ALPHA
    dropout: float = adapter_spec.DROPOUT
    skip_layers: int = adapter_spec.SKIP_LAYERS  # fewer: layers the ONNX export has no slot for
    learning_rate: float = 2e-4
    epochs: float = 1.0
    accumulate: int = 2
    warmup: int = 10
    max_prompt_tokens: int = 1024
    seed: int = 0
    bf16: bool | None = None  # None: where the CPU has bf16 instructions (`cpu_has_bf16`)


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively; emulated, bf16 autocast is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


@dataclass
class Encoded:
    key: str
    input_ids: torch.Tensor  # [1, prompt + target]
    positions: torch.Tensor  # where the logits predict a scored target token
    labels: torch.Tensor  # those tokens


def encode(target: Target, tokenizer: Any, max_prompt_tokens: int) -> Encoded:
    """Tokenize prompt and target as inference does (prompt with BOS, then the answer's tokens)
    and keep, as labels, the target tokens that lie wholly inside scored pieces."""
    prompt_ids = tokenizer(target.prompt)["input_ids"][-max_prompt_tokens:]
    encoded = tokenizer(target.text, add_special_tokens=False, return_offsets_mapping=True)
    scored_chars = [piece.scored for piece in target.pieces for _ in piece.text]
    positions, labels = [], []
    for i, (token, (start, end)) in enumerate(
            zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)):
        if end > start and all(scored_chars[start:end]):
            positions.append(len(prompt_ids) + i - 1)
            labels.append(token)
    ids = prompt_ids + list(encoded["input_ids"])
    return Encoded(target.key, torch.tensor([ids]), torch.tensor(positions), torch.tensor(labels))


def train(targets: list[Target], output_dir: Path, settings: Settings, config: TrainConfig,
          summary: dict[str, Any], progress: Progress | None = None,
          init_adapter: Path | None = None) -> dict[str, Any]:
    """Train, save the adapter and its manifest into `output_dir`, return the manifest.

    `init_adapter`: continue training that adapter (its rank and layers) instead of a new one;
    how corrections teach an adapter that already knows its type.
    """
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(config.seed)
    if settings.model_threads:
        torch.set_num_threads(settings.model_threads)
    prepared = prepare(settings.model, settings.model_cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(prepared.path))
    base = AutoModelForCausalLM.from_pretrained(str(prepared.path), dtype=torch.float32)
    if init_adapter is not None:
        before = json.loads((init_adapter / "manifest.json").read_text())
        config = replace(config, rank=before["rank"], alpha=before["alpha"],
                         dropout=before["dropout"], skip_layers=before["layers"][0])
        model = PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)
    else:
        model = get_peft_model(base, LoraConfig(
            r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
            target_modules=adapter_spec.TARGET_MODULES, task_type="CAUSAL_LM",
            layers_to_transform=adapter_spec.adapted_layers(base.config.num_hidden_layers,
                                                            config.skip_layers),
        ))
    examples = [encode(t, tokenizer, config.max_prompt_tokens) for t in targets]
    examples = [e for e in examples if len(e.labels)]
    rng = random.Random(config.seed)
    order = [i for _ in range(math.ceil(config.epochs)) for i in rng.sample(
        range(len(examples)), len(examples))][: round(len(examples) * config.epochs)]
    updates = math.ceil(len(order) / config.accumulate)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=config.learning_rate,
        weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda u: min(
        (u + 1) / config.warmup, max(0.0, (updates - u) / max(1, updates - config.warmup))))

    bf16 = cpu_has_bf16() if config.bf16 is None else config.bf16
    model.train()
    started = time.perf_counter()
    running = 0.0
    for step, index in enumerate(order, start=1):
        example = examples[index]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(input_ids=example.input_ids, logits_to_keep=example.positions)
            loss = torch.nn.functional.cross_entropy(out.logits[0].float(), example.labels)
        (loss / config.accumulate).backward()
        if step % config.accumulate == 0 or step == len(order):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        running = loss.item() if step == 1 else 0.95 * running + 0.05 * loss.item()
        if progress:
            progress(step, len(order), running)
    seconds = time.perf_counter() - started

    model.eval()
    save(model, output_dir)
    manifest = {
        "name": output_dir.name,
        "base_model": prepared.name,
        "base_model_sha256": prepared.gguf_sha256,
        "format": "peft-lora",
        "rank": config.rank,
        "alpha": config.alpha,
        "dropout": config.dropout,
        "target_modules": adapter_spec.TARGET_MODULES,
        "layers": [config.skip_layers, base.config.num_hidden_layers - 1],
        "training": {
            **summary,
            "examples": len(examples),
            "steps": len(order),
            "epochs": config.epochs,
            "learning_rate": config.learning_rate,
            "accumulate": config.accumulate,
            "scored_tokens": int(sum(len(e.labels) for e in examples)),
            "input_tokens": int(sum(e.input_ids.shape[1] for e in examples)),
            "final_loss": round(running, 4),
            "seconds": round(seconds, 1),
            "threads": torch.get_num_threads(),
            "bf16_autocast": bf16,
        },
        "decoding": {"copy_preference": False, "repetition_penalty": 1.0},
        # No source labelled these: the adapter writes null there (see pipeline.extract).
        "unlearned": sorted(frozenset.intersection(
            *(t.unscored for t in targets if t.focus is None))),
        "eval": {},
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    write_manifest(output_dir, manifest)
    # The serving runtime's form of the same weights (ONNX Runtime's adapter format).
    manifest["onnx_adapter"] = onnx_adapters.convert(
        Adapter(output_dir.name, output_dir, manifest), onnx_export.export(prepared).lora_inputs
    ).name
    write_manifest(output_dir, manifest)
    return manifest


def save(model: Any, output_dir: Path) -> None:
    """PEFT's adapter files, the weights stored as fp16 (they are loaded back as fp32)."""
    from safetensors.torch import load_file, save_file

    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output_dir))
    (output_dir / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
    # PEFT records the base model's folder on this machine; a committed adapter names it
    # (the manifest pins the weights by hash).
    config_path = output_dir / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = Path(config["base_model_name_or_path"]).name
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    weights = output_dir / "adapter_model.safetensors"
    state = {k: v.to(torch.float16) for k, v in load_file(str(weights)).items()}
    save_file(state, str(weights), metadata={"format": "pt"})


def write_manifest(output_dir: Path, manifest: dict[str, Any]) -> None:
    (output_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
