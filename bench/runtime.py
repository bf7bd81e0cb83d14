"""Docket's ONNX runtime against transformers eager PyTorch and llama.cpp: same prompts, threads,
weights.

    python -m bench.runtime --quick     # one receipt and one contract prompt (< 5 min)
    python -m bench.runtime             # every sample, longer decodes, output parity

Each engine runs in its own process (so its load time and peak RSS are its own):
- docket: `OnnxRuntime` on the int8 export of the packaged GGUF (`docket model prepare`);
- torch: `TorchRuntime`, the same weights dequantised to fp32, eager transformers;
- llama.cpp: llama-cpp-python on the same GGUF (Q4_K_M), installed here on first use (it is not
  a dependency of Docket): a wheel from ~/.cache/docket/wheels if one was built, else built
  from PyPI's source for AVX2.
Prompts are Docket's real extraction prompts for the bundled samples. Rows:
- prefill tokens/s (the prompt), free decoding (plain greedy over the whole vocabulary for a
  fixed number of tokens: ms/token and tokens/s), load time and peak RSS;
- constrained decoding: Docket's schema-constrained JSON (`generate_json`): speculative (the
  grammar's dictated text and copies from the document checked in one pass; what workers
  run), one pass a token, and over the whole vocabulary; model passes a token and how many
  copies were kept; whether speculative output is token for token that of one pass a token;
  llama.cpp with its own JSON-schema grammar, plain and with its prompt-lookup decoding;
- adapter switch: binding another LoRA adapter for the next run (docket) vs PEFT's
  `set_adapter` (torch);
- end to end: `bench.latency`'s receipt (and, without --quick, contract) p50 and p95;
- worker RSS: a fresh worker (the ONNX runtime, the base and every adapter) after the PDF and
  image samples, split into private and file-backed pages; then after the markup samples too.
Ratios are Docket ÷ reference. The last line is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "documents"
QUICK = ["receipt-bookshop.pdf", "contract-nda.pdf"]
WHEELS = Path.home() / ".cache" / "docket" / "wheels"
LLAMA_CPP = "llama-cpp-python==0.3.36"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_parts_mb() -> dict[str, float]:
    """Resident memory in private pages (anon) and in mapped files (shared with other
    workers: the embedding table, libraries)."""
    parts = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            parts[line.split(":")[0].lower().replace("rss", "rss_") + "_mb"] = \
                int(line.split()[1]) / 1024
    return parts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- prompts (parent) ---------------------------------------------------------------------

def build_prompts(names: list[str]) -> list[dict[str, Any]]:
    """Docket's extraction prompt, schema and document vocabulary text for each sample."""
    from pipeline import doctypes
    from pipeline.convert import convert
    from pipeline.extract import null_out, prompt_for
    from pipeline.settings import get_settings
    from pipeline.slm import adapters

    settings = get_settings()
    prompts = []
    for name in names:
        kind = "receipt" if name.startswith("receipt") else "contract"
        doctype = doctypes.REGISTRY[kind]
        document = convert((SAMPLES / name).read_bytes(), name, settings)
        prompt, text = prompt_for(document, doctype, settings)
        unlearned = adapters.find(kind).manifest.get("unlearned", [])
        prompts.append({"name": name, "adapter": kind, "prompt": prompt, "text": text,
                        "schema": null_out(doctype.json_schema(), unlearned)})
    return prompts


# -- engines (children) -------------------------------------------------------------------

def run_docket(kind: str, prompts: list[dict[str, Any]], free_tokens: int, json_tokens: int,
               threads: int) -> dict[str, Any]:
    """Docket's runtimes (`onnx` or `torch`): the same loop, two bodies."""
    import numpy as np

    from pipeline.settings import get_settings
    from pipeline.slm.models import prepare
    from pipeline.slm.runtime import Runtime

    settings = get_settings()
    prepared = prepare(settings.model, settings.model_cache_dir)
    started = time.perf_counter()
    runtime: Runtime
    if kind == "onnx":
        from pipeline.slm.onnx_runtime import OnnxRuntime

        runtime = OnnxRuntime(prepared, threads=threads)
    else:
        from pipeline.slm.torch_runtime import TorchRuntime

        runtime = TorchRuntime(prepared, threads=threads)
    load_s = time.perf_counter() - started
    rows: list[dict[str, Any]] = []
    for item in prompts:
        ids = runtime.encode(item["prompt"])
        row: dict[str, Any] = {"name": item["name"], "prompt_tokens": len(ids)}
        with runtime.using(None):
            stepper = runtime._stepper()
            forward, score = stepper.forward, stepper.score
            t0 = time.perf_counter()
            state = forward(ids)
            row["prefill_s"] = time.perf_counter() - t0
            token = int(np.argmax(score(state, None)))
            t0 = time.perf_counter()
            for _ in range(free_tokens):
                state = forward([token])
                token = int(np.argmax(score(state, None)))
            row["free_decode_s"] = time.perf_counter() - t0
        # candidates: candidate logits and speculative decoding (what workers run); plain:
        # candidate logits, one pass a token; full: whole vocabulary, one pass a token
        modes = {"candidates": (True, True), "plain": (True, False), "full": (False, False)}
        for adapter in (None, item["adapter"]):
            for mode in (modes if kind == "onnx" else ["full"]):
                candidates, speculative = modes[mode]
                runtime.speculative = speculative
                if kind == "onnx":
                    setattr(runtime, "candidate_logits", candidates)  # noqa: B010
                generation = runtime.generate_json(
                    item["prompt"], item["schema"], json_tokens, None, 1.0, adapter,
                    item["text"] if candidates else None)
                key = f"json_{adapter or 'base'}_{mode}"
                row[key] = {"text": generation.text, "tokens": generation.output_tokens,
                            "decode_s": generation.decode_s, "ids": generation.token_ids,
                            "full_vocab_steps": generation.full_vocab_steps,
                            "passes": generation.model_passes,
                            "forced": generation.forced_tokens,
                            "drafted": generation.drafted_tokens,
                            "kept": generation.accepted_drafts}
                if kind == "onnx" and candidates:
                    row[key]["candidates"] = np.asarray(runtime._candidates(
                        item["text"], json.dumps(item["schema"]))).tolist()
        rows.append(row)
    switch = measure_switch(runtime, prompts[0]["prompt"])
    result = {"engine": kind, "load_s": load_s, "rows": rows, "switch": switch,
              "peak_rss_mb": peak_rss_mb(), "rss_mb": rss_mb(),
              "adapters": sorted(runtime.adapters)}
    if kind == "onnx":
        result["worker"] = measure_worker(threads)
    return result


def measure_switch(runtime: Any, prompt: str, rounds: int = 50) -> dict[str, float]:
    """Time to make another adapter active for the next run, and one decode step with it."""
    import numpy as np

    names = [None, *sorted(runtime.adapters)]
    ids = runtime.encode(prompt)[:64]
    switch_s, step_s = [], []
    for n in range(rounds):
        adapter = names[n % len(names)]
        t0 = time.perf_counter()
        with runtime.using(adapter):
            switch_s.append(time.perf_counter() - t0)
            stepper = runtime._stepper()
            forward, score = stepper.forward, stepper.score
            state = forward(ids)
            token = int(np.argmax(score(state, None)))
            t0 = time.perf_counter()
            forward([token])
            step_s.append(time.perf_counter() - t0)
    return {"switch_ms": 1000 * float(np.median(switch_s)),
            "step_after_switch_ms": 1000 * float(np.median(step_s))}


def measure_worker(threads: int) -> dict[str, Any]:
    """A fresh worker's memory: the ONNX runtime with the base and every adapter, after every
    PDF and image sample went through the stages as a worker runs them (`run_stages`); then
    after the DOCX/HTML/Markdown samples too (docling's converter imports torch)."""
    code = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from bench.runtime import SAMPLES, rss_mb, rss_parts_mb, peak_rss_mb
from pipeline.process import run_stages
from pipeline.settings import get_settings
from pipeline.slm.factory import load_runtime
settings = get_settings().model_copy(update={{"model_threads": {threads}, "runtime": "onnx"}})
runtime = load_runtime(settings)
loaded = rss_mb()
names = sorted(p.name for p in SAMPLES.iterdir())
markup = [n for n in names if n.endswith((".docx", ".html", ".md"))]
statuses = {{}}
for name in [n for n in names if n not in markup]:
    statuses[name] = str(run_stages((SAMPLES / name).read_bytes(), name, runtime, settings).status)
result = {{"adapters": sorted(runtime.adapters), "loaded_rss_mb": loaded, "rss_mb": rss_mb(),
          **rss_parts_mb(), "torch_loaded": "torch" in sys.modules}}
for name in markup:
    statuses[name] = str(run_stages((SAMPLES / name).read_bytes(), name, runtime, settings).status)
result.update({{"with_markup_rss_mb": rss_mb(), "with_markup_torch_loaded": "torch" in sys.modules,
               "peak_rss_mb": peak_rss_mb(), "statuses": statuses}})
print(json.dumps(result))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def ensure_llama_cpp() -> None:
    """Install llama-cpp-python for the benchmark only (never a dependency of Docket)."""
    if importlib.util.find_spec("llama_cpp"):
        return
    print(f"installing {LLAMA_CPP} for the benchmark (a source build takes ~10 min)…",
          file=sys.stderr)
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2),
           # AVX2 rather than this CPU's native set: built native on an AVX-512 Xeon, version
           # 0.3.36 crashed (SIGSEGV) in its first prompt evaluation of Gemma-3
           "CMAKE_ARGS": "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
                         "-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF "
                         "-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF"}
    WHEELS.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--find-links", str(WHEELS), "-w", str(WHEELS),
                    LLAMA_CPP], env=env, check=True)
    subprocess.run([*pip, "install", "--find-links", str(WHEELS), LLAMA_CPP], check=True)


def last_logits(llm: Any) -> Any:
    """The last token's logits (llama-cpp-python keeps no scores without logits_all)."""
    import numpy as np

    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))


def run_llama_cpp(prompts: list[dict[str, Any]], free_tokens: int, json_tokens: int,
                  threads: int) -> dict[str, Any]:
    import numpy as np
    from llama_cpp import Llama, LlamaGrammar
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from pipeline.settings import get_settings
    from pipeline.slm.models import MODELS

    gguf = MODELS[get_settings().model].locate_gguf()
    started = time.perf_counter()
    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                n_batch=512, verbose=False)
    load_s = time.perf_counter() - started
    lookup = Llama(model_path=str(gguf), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                   n_batch=512, verbose=False, logits_all=True,  # drafts are checked on them
                   draft_model=LlamaPromptLookupDecoding(num_pred_tokens=10))
    rows = []
    for item in prompts:
        ids = llm.tokenize(item["prompt"].encode(), add_bos=True, special=True)
        row: dict[str, Any] = {"name": item["name"], "prompt_tokens": len(ids)}
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        row["prefill_s"] = time.perf_counter() - t0
        token = int(np.argmax(last_logits(llm)))
        t0 = time.perf_counter()
        for _ in range(free_tokens):
            llm.eval([token])
            token = int(np.argmax(last_logits(llm)))
        row["free_decode_s"] = time.perf_counter() - t0
        # llama-cpp-python's schema → GBNF converter fails on our regex patterns ("unknown
        # escape", then a segfault): its grammar gets the same schema without `pattern`.
        grammar = LlamaGrammar.from_json_schema(json.dumps(without_patterns(item["schema"])),
                                                verbose=False)
        llm.reset()
        t0 = time.perf_counter()
        out: Any = llm.create_completion(item["prompt"], max_tokens=json_tokens, temperature=0.0,
                                         top_k=1, grammar=grammar)
        total = time.perf_counter() - t0
        tokens = out["usage"]["completion_tokens"]
        row["json_base_grammar"] = {"text": out["choices"][0]["text"], "tokens": tokens,
                                    "decode_s": max(total - row["prefill_s"], 1e-9)}
        lookup.reset()  # the same, with llama.cpp's own prompt-lookup drafts
        t0 = time.perf_counter()
        out = lookup.create_completion(item["prompt"], max_tokens=json_tokens, temperature=0.0,
                                       top_k=1, grammar=grammar)
        total = time.perf_counter() - t0
        row["json_base_lookup"] = {"text": out["choices"][0]["text"],
                                   "tokens": out["usage"]["completion_tokens"],
                                   "decode_s": max(total - row["prefill_s"], 1e-9)}
        rows.append(row)
    return {"engine": "llama.cpp", "load_s": load_s, "rows": rows,
            "peak_rss_mb": peak_rss_mb(), "rss_mb": rss_mb()}


def without_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_patterns(v) for k, v in node.items() if k != "pattern"}
    if isinstance(node, list):
        return [without_patterns(v) for v in node]
    return node


# -- report (parent) ----------------------------------------------------------------------

def summarise(result: dict[str, Any], free_tokens: int) -> dict[str, float]:
    rows = result["rows"]
    prefill = sum(r["prompt_tokens"] for r in rows) / sum(r["prefill_s"] for r in rows)
    free = free_tokens * len(rows) / sum(r["free_decode_s"] for r in rows)
    summary = {"prefill_tps": prefill, "decode_tps": free, "ms_per_token": 1000 / free,
               "load_s": result["load_s"], "peak_rss_mb": result["peak_rss_mb"]}
    for key in {k for r in rows for k in r if k.startswith("json_")}:
        parts = [r[key] for r in rows if key in r]
        seconds = sum(p["decode_s"] for p in parts)
        summary[f"{key}_tps"] = sum(p["tokens"] for p in parts) / seconds if seconds else 0.0
    return summary


def _common_prefix(a: str, b: str) -> str:
    return a[:next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                   min(len(a), len(b)))]


def parity(onnx: dict[str, Any], torch: dict[str, Any]) -> dict[str, Any]:
    """Docket's JSON outputs against the PyTorch reference, prompt by prompt."""
    compared = same_full = same_candidates = 0
    differences = []
    for ours, ref in zip(onnx["rows"], torch["rows"], strict=True):
        for key in sorted(k for k in ours if k.endswith("_candidates")):
            suffix = key[len("json_"):-len("_candidates")]
            reference = ref[f"json_{suffix}_full"]["text"]
            full = ours[f"json_{suffix}_full"]["text"]
            candidates = ours[key]["text"]
            compared += 1
            same_full += full == reference
            same_candidates += candidates == reference
            if candidates != reference:
                ours_ids, ref_ids = ours[key]["ids"], ref[f"json_{suffix}_full"]["ids"]
                step = next((i for i, (a, b) in enumerate(zip(ours_ids, ref_ids, strict=False))
                             if a != b), min(len(ours_ids), len(ref_ids)))
                wanted = ref_ids[step] if step < len(ref_ids) else None
                in_set = wanted is None or wanted in set(ours[key]["candidates"])
                at = len(_common_prefix(candidates, reference))
                differences.append({"prompt": ours["name"], "adapter": suffix, "token": step,
                                    "cause": "int8 weights (a near tie flipped)" if in_set else
                                    "torch's token was not a candidate",
                                    "ours": candidates[max(0, at - 20):at + 40],
                                    "torch": reference[max(0, at - 20):at + 40]})
    speculative = [ours[k]["ids"] == ours[k.replace("_candidates", "_plain")]["ids"]
                   for ours in onnx["rows"] for k in ours if k.endswith("_candidates")]
    return {"compared": compared, "identical_int8_full_vocab": same_full,
            "identical_int8_candidates": same_candidates, "differences": differences,
            "speculative_identical": f"{sum(speculative)}/{len(speculative)}"}


def passes(onnx: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Speculative decoding's model passes a token, dictated share and copy acceptance, for
    the base model, with adapters, and in all."""
    out = {}
    for mode, test in (("base", lambda k: k == "json_base_candidates"),
                       ("adapters", lambda k: k != "json_base_candidates"),
                       ("all", lambda k: True)):
        parts = [r[k] for r in onnx["rows"] for k in r
                 if k.startswith("json_") and k.endswith("_candidates") and test(k)]
        tokens = sum(p["tokens"] for p in parts) or 1
        drafted = sum(p["drafted"] for p in parts)
        out[mode] = {"passes_per_token": sum(p["passes"] for p in parts) / tokens,
                     "forced_share": sum(p["forced"] for p in parts) / tokens,
                     "drafted": drafted,
                     "draft_acceptance": sum(p["kept"] for p in parts) / drafted
                     if drafted else 0.0}
    return out


def child(engine: str, prompts: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(prompts, fh)
    command = [sys.executable, "-m", "bench.runtime", "--engine", engine, "--prompts", fh.name,
               "--threads", str(args.threads), "--free-tokens", str(args.free_tokens),
               "--json-tokens", str(args.json_tokens)]
    out = subprocess.run(command, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    os.unlink(fh.name)
    if out.returncode:
        raise SystemExit(f"{engine} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two prompts, short decodes")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--free-tokens", type=int, default=0)
    parser.add_argument("--json-tokens", type=int, default=0)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.free_tokens = args.free_tokens or (48 if args.quick else 128)
    args.json_tokens = args.json_tokens or (160 if args.quick else 384)
    if args.engine:  # a child: one engine, one JSON line
        prompts = json.loads(Path(args.prompts).read_text())
        if args.engine == "llama.cpp":
            result = run_llama_cpp(prompts, args.free_tokens, args.json_tokens, args.threads)
        else:
            result = run_docket(args.engine, prompts, args.free_tokens, args.json_tokens,
                                args.threads)
        print(json.dumps(result))
        return
    ensure_llama_cpp()
    names = QUICK if args.quick else sorted(p.name for p in SAMPLES.iterdir())
    prompts = build_prompts(names)
    results = {engine: child(engine, prompts, args) for engine in ("onnx", "torch", "llama.cpp")}
    results["latency"] = latency(args.quick)
    report(results, args, prompts)


def latency(quick: bool) -> dict[str, Any]:
    """`bench.latency`'s end-to-end figures (its own process): the receipt samples (--quick),
    or with 20 SROIE dev receipts and 5 Kleister-NDA dev contracts."""
    sizes = ["--receipts", "0", "--contracts", "0"] if quick else \
        ["--receipts", "20", "--contracts", "5"]
    out = subprocess.run([sys.executable, "-m", "bench.latency", *sizes, "--no-reference"],
                         capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(results: dict[str, Any], args: argparse.Namespace,
           prompts: list[dict[str, Any]]) -> None:
    s = {engine: summarise(results[engine], args.free_tokens)
         for engine in ("onnx", "torch", "llama.cpp")}
    ours, torch, llama = s["onnx"], s["torch"], s["llama.cpp"]
    tokens = sum(r["prompt_tokens"] for r in results["onnx"]["rows"])
    print(f"{len(prompts)} prompts ({tokens} prompt tokens), {args.free_tokens} free tokens "
          f"each, JSON up to {args.json_tokens} tokens, {args.threads} threads\n")
    print(f"{'':34} {'docket (onnx int8)':>19} {'torch eager fp32':>17} {'llama.cpp Q4_K_M':>17}"
          f" {'÷ torch':>8} {'÷ llama':>8}")
    for label, key in (("prefill tokens/s", "prefill_tps"),
                       ("decode tokens/s (free)", "decode_tps"),
                       ("ms/token (free)", "ms_per_token"), ("load s", "load_s"),
                       ("peak RSS MB", "peak_rss_mb")):
        print(f"{label:34} {ours[key]:19.1f} {torch[key]:17.1f} {llama[key]:17.1f} "
              f"{ours[key] / torch[key]:8.2f} {ours[key] / llama[key]:8.2f}")
    json_rows = [("JSON tokens/s, base, speculative", "json_base_candidates_tps", None,
                  "json_base_lookup_tps"),
                 ("JSON tokens/s, base, one pass a token", "json_base_plain_tps", None,
                  "json_base_grammar_tps"),
                 ("JSON tokens/s, base, full vocab", "json_base_full_tps", "json_base_full_tps",
                  "json_base_grammar_tps")]
    for label, key, ref_key, llama_key in json_rows:
        ref = torch.get(ref_key or "json_base_full_tps", 0.0)
        grammar = llama.get(llama_key, 0.0)
        print(f"{label:34} {ours.get(key, 0):19.1f} {ref:17.1f} {grammar:17.1f} "
              f"{ours.get(key, 0) / ref if ref else 0:8.2f} "
              f"{ours.get(key, 0) / grammar if grammar else 0:8.2f}")
    adapter_keys = sorted(k for k in ours if k.startswith("json_") and "_base_" not in k)
    for key in adapter_keys:
        ref_key = key.replace("_candidates", "_full")
        ref = torch.get(ref_key, 0.0)
        print(f"{'JSON tokens/s, ' + key[5:-4].replace('_', ', '):34} {ours[key]:19.1f} "
              f"{ref:17.1f} {'':>17} {ours[key] / ref if ref else 0:8.2f}")
    switch = results["onnx"]["switch"]
    tswitch = results["torch"]["switch"]
    print(f"{'adapter switch ms':34} {switch['switch_ms']:19.3f} {tswitch['switch_ms']:17.3f}")
    print(f"{'decode step after a switch ms':34} {switch['step_after_switch_ms']:19.1f} "
          f"{tswitch['step_after_switch_ms']:17.1f}")
    worker = results["onnx"]["worker"]
    print(f"{'worker RSS MB, after PDFs and scans':34} {worker['rss_mb']:19.0f}   "
          f"({worker['rss_anon_mb']:.0f} private, {worker['rss_file_mb']:.0f} mapped files; "
          f"loaded {worker['loaded_rss_mb']:.0f}; torch {worker['torch_loaded']}; "
          f"adapters {', '.join(worker['adapters'])})")
    print(f"{'worker RSS MB, and markup samples':34} {worker['with_markup_rss_mb']:19.0f}   "
          f"(docling imports torch: {worker['with_markup_torch_loaded']}; "
          f"peak {worker['peak_rss_mb']:.0f})")
    speculation = passes(results["onnx"])
    for mode, figures in speculation.items():
        print(f"{'model passes a token, ' + mode:34} {figures['passes_per_token']:19.3f}   "
              f"(dictated tokens {figures['forced_share']:.0%}, copies kept "
              f"{figures['draft_acceptance']:.0%} of {figures['drafted']})")
    free = ours["decode_tps"]
    constrained = ours.get("json_base_candidates_tps", 0.0)
    print(f"\nconstrained (JSON, candidates) vs free decoding, docket: {constrained / free:.2f}×; "
          f"full-vocab JSON vs free: {ours.get('json_base_full_tps', 0) / free:.2f}×")
    same = parity(results["onnx"], results["torch"])
    print(f"parity with the PyTorch reference (greedy JSON): {same['identical_int8_candidates']}"
          f"/{same['compared']} identical with candidate logits, "
          f"{same['identical_int8_full_vocab']}/{same['compared']} with the full vocabulary")
    print(f"speculative decoding vs one pass a token (same runtime): "
          f"{same['speculative_identical']} token for token identical")
    for diff in same["differences"]:
        print(f"  {diff['prompt']} [{diff['adapter']}] from token {diff['token']} "
              f"({diff['cause']}): ours …{diff['ours']!r}… torch …{diff['torch']!r}…")
    # Docket's decode speed is that of its real work (schema-constrained JSON with candidate
    # logits); the references decode freely, their fastest mode. Free vs free is listed too.
    headline = {
        "decode_tps_vs_llamacpp": round(constrained / llama["decode_tps"], 3),
        "decode_tps_vs_torch": round(constrained / torch["decode_tps"], 3),
        "free_decode_tps_vs_llamacpp": round(free / llama["decode_tps"], 3),
        "free_decode_tps_vs_torch": round(free / torch["decode_tps"], 3),
        "prefill_tps_vs_llamacpp": round(ours["prefill_tps"] / llama["prefill_tps"], 3),
        "json_tps_vs_llamacpp_grammar": round(
            constrained / llama["json_base_grammar_tps"], 3) if llama.get(
            "json_base_grammar_tps") else None,
        "json_tps_vs_torch": round(constrained / torch["json_base_full_tps"], 3),
        "adapter_switch_ms": round(switch["switch_ms"], 4),
        "worker_rss_mb": round(worker["rss_mb"], 1),
        "worker_rss_with_markup_mb": round(worker["with_markup_rss_mb"], 1),
        "worker_torch_loaded": worker["torch_loaded"],
        "decode_tps": round(free, 1),
        "json_decode_tps": round(constrained, 1),
        "parity_identical": f"{same['identical_int8_candidates']}/{same['compared']}",
        "json_tps": round(constrained, 1),
        "json_tps_plain": round(ours.get("json_base_plain_tps", 0.0), 1),
        "json_tps_vs_llamacpp_lookup": round(
            constrained / llama["json_base_lookup_tps"], 3) if llama.get(
            "json_base_lookup_tps") else None,
        "passes_per_token": round(speculation["all"]["passes_per_token"], 3),
        "draft_acceptance": round(speculation["all"]["draft_acceptance"], 3),
        "speculative_identical": same["speculative_identical"],
    }
    ends = results["latency"]
    print(f"end to end, bytes to validated record: receipt p50 {ends['receipt_p50_ms']} ms, "
          f"p95 {ends['receipt_p95_ms']} ms"
          + (f"; contract p50 {ends['contract_p50_ms']} ms" if "contract_p50_ms" in ends
             else "") + " (python -m bench.latency for the stages and the reference)")
    headline.update({k: v for k, v in ends.items()
                     if k in ("receipt_p50_ms", "receipt_p95_ms", "contract_p50_ms")})
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
