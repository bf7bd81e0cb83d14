"""Seconds per stage on the bundled samples, and constrained decoding against plain greedy.

    python -m bench.stages            # all samples
    python -m bench.stages --quick    # one receipt, one contract

For each sample: pages, seconds in convert / classify / prefill / decode, output tokens and
decode tokens/s. Reference: plain greedy decoding (unconstrained, whole vocabulary) on the same
runtime (`DOCKET_RUNTIME`: onnx by default, or torch) and prompt
for the same number of new tokens, so the ratio is the cost of schema-constrained decoding with
copy preference over plain greedy decoding. Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from pipeline import doctypes  # noqa: E402
from pipeline.classify import classify  # noqa: E402
from pipeline.convert import convert  # noqa: E402
from pipeline.extract import extract, prompt_for  # noqa: E402
from pipeline.settings import get_settings  # noqa: E402
from pipeline.slm.factory import get_runtime  # noqa: E402
from pipeline.slm.runtime import Runtime  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"


def reference_decode_tps(runtime: Runtime, prompt: str, new_tokens: int,
                         adapter: str | None) -> float:
    """Plain greedy decoding (no grammar, whole vocabulary) of exactly `new_tokens` tokens on
    the same runtime and adapter: decode tokens/s."""
    ids = runtime.encode(prompt)
    with runtime.using(adapter):
        stepper = runtime._stepper()
        forward, score = stepper.forward, stepper.score
        state = forward(ids)
        token = int(np.argmax(score(state, None)))
        started = time.perf_counter()
        for _ in range(new_tokens - 1):
            state = forward([token])
            token = int(np.argmax(score(state, None)))
        total = time.perf_counter() - started
    return (new_tokens - 1) / max(total, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one receipt and one contract")
    args = parser.parse_args()
    settings = get_settings()
    started = time.perf_counter()
    runtime = get_runtime(settings)
    load_s = time.perf_counter() - started
    names = (["receipt-bookshop.pdf", "contract-nda.pdf"] if args.quick
             else sorted(p.name for p in SAMPLES.iterdir()))
    rows: list[dict[str, float | str]] = []
    header = (f"{'document':26} {'pages':>5} {'convert':>8} {'classify':>8} {'prefill':>8} "
              f"{'decode':>8} {'tokens':>6} {'tok/s':>6} {'ref tok/s':>9} {'ratio':>6}")
    print(f"model {runtime.name} on {runtime.kind}, load {load_s:.1f} s, "
          f"threads {settings.model_threads or os.cpu_count()}")
    print(header)
    for name in names:
        data = (SAMPLES / name).read_bytes()
        t0 = time.perf_counter()
        document = convert(data, name, settings)
        convert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        routed = classify(document, runtime)
        classify_s = time.perf_counter() - t0
        doctype = doctypes.get(routed.document_type)
        extraction = extract(document, doctype, runtime, settings)
        gen = extraction.generation
        prompt, _ = prompt_for(document, doctype, settings)
        ref = reference_decode_tps(runtime, prompt, max(gen.output_tokens, 2), gen.adapter)
        ratio = gen.decode_tokens_per_s / ref
        rows.append({"document": name, "pages": len(document.pages), "convert_s": convert_s,
                     "classify_s": classify_s, "prefill_s": gen.prefill_s,
                     "decode_s": gen.decode_s, "output_tokens": gen.output_tokens,
                     "decode_tps": gen.decode_tokens_per_s, "reference_tps": ref,
                     "ratio": ratio})
        print(f"{name:26} {len(document.pages):>5} {convert_s:>8.2f} {classify_s:>8.2f} "
              f"{gen.prefill_s:>8.2f} {gen.decode_s:>8.2f} {gen.output_tokens:>6} "
              f"{gen.decode_tokens_per_s:>6.1f} {ref:>9.1f} {ratio:>6.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = {k: sum(float(r[k]) for r in rows)
             for k in ("convert_s", "classify_s", "prefill_s", "decode_s")}
    print(f"peak RSS {rss_mb:.0f} MB")
    print(json.dumps({
        "model": runtime.name, "documents": len(rows), "load_s": round(load_s, 2),
        **{k: round(v, 2) for k, v in total.items()},
        "seconds_per_document": round(sum(total.values()) / len(rows), 2),
        "decode_tps_vs_generate": round(sum(float(r["ratio"]) for r in rows) / len(rows), 3),
        "peak_rss_mb": round(rss_mb),
    }))


if __name__ == "__main__":
    main()
