"""The serving tokenizer: the model's `tokenizer.json` on the `tokenizers` library directly.

transformers' `AutoTokenizer` wraps the same Rust tokenizer but holds ~170 MB more per worker
for what serving uses: encode, decode, the vocabulary and the special tokens. Training keeps
`AutoTokenizer` (offsets, tensors); a test checks both write the same ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from pipeline.slm import grammar


def _special(config: dict[str, Any], key: str) -> str | None:
    """A special token's text from tokenizer_config.json (a string, or {"content": ...})."""
    value = config.get(key)
    return value.get("content") if isinstance(value, dict) else value


@dataclass(frozen=True)
class Tokens:
    backend: Tokenizer
    eos_token_id: int | None
    pad_token_id: int | None

    @classmethod
    def load(cls, model_dir: Path) -> Tokens:
        backend = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        config_path = model_dir / "tokenizer_config.json"
        config = json.loads(config_path.read_text()) if config_path.is_file() else {}
        ids = {key: backend.token_to_id(text) if (text := _special(config, key)) else None
               for key in ("eos_token", "pad_token")}
        return cls(backend, ids["eos_token"], ids["pad_token"])

    def encode(self, text: str, special: bool = True) -> list[int]:
        """Token ids; `special`: with the model's own additions (Gemma: `<bos>` first)."""
        return list(self.backend.encode(text, add_special_tokens=special).ids)

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        """Ids of each text, without special tokens (one batched call)."""
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        return str(self.backend.decode(ids, skip_special_tokens=True))

    def get_vocab(self) -> dict[str, int]:
        return dict(self.backend.get_vocab(with_added_tokens=True))

    def grammar_info(self, vocab_size: int) -> Any:
        """xgrammar's view of this vocabulary, as `TokenizerInfo.from_huggingface` builds it
        for a fast tokenizer (same vocabulary order, type detection and stop token)."""
        info = grammar.TokenizerInfo
        vocab = self.get_vocab()
        encoded = [""] * vocab_size
        for token, index in vocab.items():
            if index < vocab_size:
                encoded[index] = token
        metadata = info._detect_metadata_from_hf(self.backend.to_str())
        detected = info._detect_vocab_type_from_vocab(vocab)
        if detected is not None and detected != metadata["vocab_type"]:
            raise ValueError(f"xgrammar reads this tokenizer as {metadata['vocab_type']} but "
                             f"its vocabulary as {detected}: build the grammar's tokenizer "
                             "info with transformers' AutoTokenizer instead")
        stop = [self.eos_token_id] if self.eos_token_id is not None else None
        return info(encoded, vocab_type=metadata["vocab_type"], vocab_size=vocab_size,
                    stop_token_ids=stop, add_prefix_space=metadata["add_prefix_space"])
