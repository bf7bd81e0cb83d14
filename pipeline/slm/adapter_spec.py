"""What a LoRA adapter for the base model may train: the one spec training and serving share.

Training (`pipeline.training.lora`) builds its PEFT config from these, and the ONNX export
(`onnx_export`) leaves a LoRA slot on exactly these projections and layers, so every adapter
trained with the defaults can be bound to the exported graph. Changing `TARGET_MODULES` or
`SKIP_LAYERS` changes the export's cache key: the next start exports the model again.
"""

from __future__ import annotations

# All seven projections of every adapted layer: attention and MLP.
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# The lowest layers keep no adapter: backward stops above them, which is most of a CPU step's
# saving, and the export has no slot below them.
SKIP_LAYERS = 6
RANK = 16
ALPHA = 32
# Dropout copies every adapted activation: a cost CPUs feel.
DROPOUT = 0.0


def adapted_layers(num_hidden_layers: int, skip_layers: int = SKIP_LAYERS) -> list[int]:
    """The layer indices that carry an adapter: from `skip_layers` up to the top."""
    return list(range(skip_layers, num_hidden_layers))
