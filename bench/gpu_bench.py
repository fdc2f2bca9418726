#!/usr/bin/env python3
"""The GPU benchmark: layerkit fp16/bf16 against PyTorch eager and torch.compile, one GPU.

For ResNet-50 (batch 1, 64), BERT-base (sequence 128; batch 1, 32) and the GPT-2-style stack
(sequence 512; batch 1, 8) of bench/gen_models.py it times, in one run and on the same weights
and input files:
  - layerkit: `layerkit run MODEL --device=cuda --fp16` and `--bf16` (--loadInputs, --shapes,
    --iterations, --warmUp, --exportTimes, --exportOutput); its time is the GPU compute time from
    device events (the input's host-to-device copy and the output's copy back are not in it, as
    the peers' inputs and outputs stay on the GPU);
  - PyTorch: bench/torch_gpu_bench.py as a child process (bench/torch_models.py's module filled
    from the ONNX initializers, .half(), torch.inference_mode): eager, and torch.compile in the
    modes default, reduce-overhead and max-autotune, each after its own warm-up, its compile time
    recorded. max-autotune gets a child process of its own and runs after all other rows of the
    call, as it can compile for minutes.
Every output is compared (cosine) with layerkit's fp32 CPU engine (`layerkit run --device=cpu`)
on the first --ref-rows rows of the same input; torch's module in fp32 is compared too, which
checks that both sides compute the same function.

Inputs are made row by row from fixed seeds (row r of every batch is the same), so one CPU
reference of R rows serves both batches of a model. Models are written by bench/gen_models.py
into WORK/models when missing; it needs the onnx package: when `import onnx` fails, the wheels in
BUNDLE/wheels (scripts/bundle.sh puts them there) are installed into WORK/pydeps, each only where
the host lacks its module.

The host allows 10 minutes per command, so a run can be split: --models and --batches pick the
rows, --contenders (or --skip-max-autotune) the contenders, and every measurement is merged into
WORK/results.json the moment it is known (and copied to --results; a row the file already has is
not measured again unless --rerun). Each call prints the table of all it has; `--report FILE...`
renders the table from one or more such files (later files win) without a GPU, torch or onnx.

Usage (from the bundle, through run_gpu_bench.sh, which sets the library path):
  run_gpu_bench.sh [--models resnet50,bert_base,gpt2_stack] [--batches 1,64]
                   [--skip-max-autotune | --contenders lk-fp16,...] [--results FILE]
                   [--markdown FILE] [--iterations 200] [--deadline-s 560]
  bench/gpu_bench.py --report FILE [FILE...] [--markdown FILE]
"""
import argparse
import datetime
import glob
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ROWS = {"resnet50": (1, 64), "bert_base": (1, 32), "gpt2_stack": (1, 8), "mlp": (1, 8)}
# The benchmark's models; the MLP is a quick smoke test of the whole run (--models mlp).
DEFAULT_MODELS = ("resnet50", "bert_base", "gpt2_stack")
LAYERKIT = ("lk-fp16", "lk-bf16", "lk-fp32")
COMPILE = ("default", "reduce-overhead", "max-autotune")
CONTENDERS = LAYERKIT + ("eager",) + COMPILE
LABELS = {"lk-fp16": "layerkit --fp16", "lk-bf16": "layerkit --bf16",
          "lk-fp32": "layerkit fp32 (CUDA vs CPU check)", "eager": "torch eager",
          "default": "torch.compile default", "reduce-overhead": "torch.compile reduce-overhead",
          "max-autotune": "torch.compile max-autotune", "fp32": "torch fp32 (equivalence check)"}
# H200's dense fp16/bf16 tensor-core peak (NVIDIA's datasheet figure without sparsity).
PEAK_TFLOPS = 989.0
COSINE_GOAL = 0.999
INPUT_SEED = 4321
BERT_VOCAB = 30522


# --- small helpers -------------------------------------------------------------------------------


def percentile(v, p):
    """Nearest-rank percentile, the rule `layerkit run` prints."""
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * (len(v) - 1) + 0.5))]


def log(msg):
    print(f"gpu_bench: {msg}", flush=True)


def now():
    return datetime.datetime.now().isoformat(timespec="seconds")


class Child:
    """A child process with a wall-clock limit; its output goes to LOG.out / LOG.err."""

    def __init__(self, cmd, log_prefix, timeout_s, env=None):
        self.cmd = cmd
        start = time.perf_counter()
        with open(log_prefix + ".out", "w") as out, open(log_prefix + ".err", "w") as err:
            out.write("$ " + shlex.join(cmd) + "\n")
            out.flush()
            p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
            try:
                self.code = p.wait(timeout=max(1.0, timeout_s))
                self.timed_out = False
            except subprocess.TimeoutExpired:
                p.kill()
                self.code = p.wait()
                self.timed_out = True
        self.wall_s = time.perf_counter() - start
        with open(log_prefix + ".out") as f:
            self.out = f.read()
        with open(log_prefix + ".err") as f:
            self.err = f.read()

    def failure(self):
        if self.timed_out:
            return f"killed after {self.wall_s:.0f} s (time limit)"
        if self.code == 0:
            return None
        lines = [ln.strip() for ln in (self.out + "\n" + self.err).splitlines() if ln.strip()]
        return f"exit {self.code}: " + (lines[-1][:300] if lines else "no output")


# --- results file --------------------------------------------------------------------------------


def key(model, batch, contender):
    return f"{model}|{batch}|{contender}"


def load_results(paths):
    merged = {"runs": {}, "calls": [], "peak": None, "references": {}, "models": {}}
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        merged["runs"].update(r.get("runs", {}))
        # Files copied from one another repeat calls: each is listed once.
        merged["calls"] += [c for c in r.get("calls", []) if c not in merged["calls"]]
        merged["references"].update(r.get("references", {}))
        merged["models"].update(r.get("models", {}))
        if r.get("peak"):
            merged["peak"] = r["peak"]
    return merged


def save_results(paths, results):
    for path in paths:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        os.replace(tmp, path)


# --- the onnx package ----------------------------------------------------------------------------

# The module each bundled wheel provides, so only those the host lacks are installed.
WHEEL_MODULES = {"onnx": "onnx", "protobuf": "google.protobuf", "ml_dtypes": "ml_dtypes",
                 "typing_extensions": "typing_extensions"}


def importable(module, extra_path):
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (env.get("PYTHONPATH"), extra_path) if p)
    return subprocess.run([sys.executable, "-c", f"import {module}"], env=env,
                          capture_output=True).returncode == 0


def ensure_onnx(work):
    """The PYTHONPATH entry that makes `import onnx` work ('' when the host has it)."""
    if importable("onnx", ""):
        return ""
    target = os.path.join(work, "pydeps")
    if importable("onnx", target):
        return target
    wheels = sorted(glob.glob(os.path.join(ROOT, "wheels", "*.whl")))
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    need = (f"the onnx package: put the wheels of onnx and its dependencies protobuf, ml_dtypes "
            f"and typing_extensions for {py} manylinux x86_64 into {os.path.join(ROOT, 'wheels')}"
            " (scripts/bundle.sh does: `pip download --only-binary=:all: --python-version "
            f"{sys.version_info.major}.{sys.version_info.minor} --implementation cp --platform "
            "manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --no-deps onnx protobuf "
            "ml_dtypes typing_extensions`)")
    if not wheels:
        sys.exit(f"gpu_bench: `import onnx` fails and there are no wheels: {need}")
    os.makedirs(target, exist_ok=True)
    has_pip = subprocess.run([sys.executable, "-m", "pip", "--version"],
                             capture_output=True).returncode == 0
    for w in wheels:
        dist = os.path.basename(w).split("-")[0].lower()
        module = WHEEL_MODULES.get(dist)
        if module and importable(module, ""):
            log(f"{os.path.basename(w)}: the host has {module}, not installed")
            continue
        log(f"installing {os.path.basename(w)} into {target}")
        if has_pip:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                            "--no-deps", "--target", target, w], check=True)
        else:
            # A wheel is a zip of the files site-packages would get; without pip, unpack it.
            with zipfile.ZipFile(w) as z:
                z.extractall(target)
    if not importable("onnx", target):
        r = subprocess.run([sys.executable, "-c", "import onnx"], capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=target))
        sys.exit(f"gpu_bench: `import onnx` still fails after installing {len(wheels)} wheel(s) "
                 f"into {target}: {r.stderr.strip().splitlines()[-1:]}; {need}")
    return target


def ensure_models(models, models_dir, pydeps, work):
    """Writes the missing model files; returns models.json's content."""
    sidecar = os.path.join(models_dir, "models.json")
    info = {}
    if os.path.exists(sidecar):
        with open(sidecar) as f:
            info = json.load(f)
    missing = [m for m in models
               if m not in info or not os.path.exists(os.path.join(models_dir, info[m]["file"]))]
    if missing:
        env = dict(os.environ)
        if pydeps:
            env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), pydeps) if p)
        log(f"writing {', '.join(missing)} into {models_dir} (bench/gen_models.py)")
        t = time.perf_counter()
        c = Child([sys.executable, os.path.join(HERE, "gen_models.py"), "--out", models_dir,
                   "--models", ",".join(missing)], os.path.join(work, "logs", "gen_models"),
                  1200, env)
        if c.failure():
            sys.exit(f"gpu_bench: bench/gen_models.py failed: {c.failure()} "
                     f"(log: {work}/logs/gen_models.err)")
        log(f"models written in {time.perf_counter() - t:.0f} s")
        with open(sidecar) as f:
            info = json.load(f)
    return info


# --- inputs and outputs --------------------------------------------------------------------------


def make_input(spec, batch, path):
    """Row r is drawn from seed INPUT_SEED + r whatever the batch: a batch's first rows are the
    smaller batches. Floats are uniform in [-1, 1], token ids uniform in [0, vocab)."""
    import numpy as np

    row_shape = [d for d in spec["shape"] if d != "batch"]
    rows = []
    for r in range(batch):
        rng = np.random.default_rng(INPUT_SEED + r)
        if spec["dtype"] == "int64":
            rows.append(rng.integers(0, BERT_VOCAB, row_shape, dtype=np.int64))
        else:
            rows.append(rng.uniform(-1.0, 1.0, row_shape).astype(spec["dtype"]))
    x = np.stack(rows)
    x.tofile(path)
    return list(x.shape)


def read_layerkit_output(path):
    """The first output of `layerkit run --exportOutput` as float32 (C++ streams write nan/inf,
    which JSON lacks: they are read as NaN/Infinity)."""
    import numpy as np

    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?<![\w.])-?nan\b", "NaN", text)
    text = re.sub(r"(?<![\w.])(-?)inf\b", r"\1Infinity", text)
    first = json.loads(text)[0]
    dims = [int(d) for d in first["dimensions"].split("x") if d]
    return np.array(first["values"], dtype=np.float32).reshape(dims)


def cosine(y, ref):
    """Cosine of y's first rows against the reference rows (None when shapes disagree)."""
    import numpy as np

    rows = min(y.shape[0], ref.shape[0])
    a = np.asarray(y[:rows], np.float64).ravel()
    b = np.asarray(ref[:rows], np.float64).ravel()
    if a.size != b.size:
        return None, rows, f"{y.shape} vs reference {ref.shape}"
    if not np.isfinite(a).all():
        return float("nan"), rows, "non-finite values in the output"
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return (1.0 if na == nb else 0.0), rows, None
    return float(a @ b / (na * nb)), rows, None


# --- layerkit ------------------------------------------------------------------------------------


def parse_layerkit(out, times_json):
    """Times of one `layerkit run --device=cuda`: GPU compute per run where --exportTimes has it
    (trtexec's computeMs), else the median GPU compute line; host latency from --exportTimes."""
    r = {}
    m = re.search(r"build time: ([0-9.]+) ms", out)
    r["build_s"] = float(m.group(1)) / 1e3 if m else None
    m = re.search(r"GPU compute = ([0-9.]+) ms", out)
    compute_median = float(m.group(1)) if m else None
    with open(times_json) as f:
        runs = json.load(f)
    host = [float(x["latencyMs"]) for x in runs]
    r["host_median_ms"], r["host_p90_ms"] = percentile(host, 50), percentile(host, 90)
    r["n"] = len(runs)
    if runs and all("computeMs" in x for x in runs):
        t = [float(x["computeMs"]) for x in runs]
        r.update(median_ms=percentile(t, 50), p90_ms=percentile(t, 90),
                 timing="GPU compute per run (device events)")
    elif compute_median is not None:
        r.update(median_ms=compute_median, p90_ms=None,
                 timing="median GPU compute (device events); p90 not exported per run")
    else:
        raise ValueError("no 'GPU compute' line in the output (was it run on the CPU?)")
    return r


def run_layerkit_cuda(layerkit, model_path, spec_shapes, inputs, flag, tag, work, args,
                      timeout_s):
    times_json = os.path.join(work, "out", tag + "_times.json")
    out_json = os.path.join(work, "out", tag + "_output.json")
    for p in (times_json, out_json):
        if os.path.exists(p):
            os.remove(p)
    cmd = [layerkit, "run", model_path, "--device=cuda"] + ([flag] if flag else []) + [
           f"--shapes={spec_shapes}",
           "--loadInputs=" + inputs, f"--iterations={args.iterations}",
           f"--warmUp={args.layerkit_warmup_ms}", f"--exportTimes={times_json}",
           f"--exportOutput={out_json}"] + args.layerkit_arg
    c = Child(cmd, os.path.join(work, "logs", tag), timeout_s)
    rec = {"command": shlex.join(cmd), "wall_s": c.wall_s}
    if c.failure():
        rec.update(ok=False, failure=c.failure())
        return rec, None
    try:
        rec.update(parse_layerkit(c.out, times_json))
        y = read_layerkit_output(out_json)
    except (OSError, ValueError, KeyError, IndexError) as e:
        rec.update(ok=False, failure=f"unreadable result: {e}")
        return rec, None
    rec["ok"] = True
    if args.layerkit_profile:
        p = Child(cmd[:cmd.index(f"--iterations={args.iterations}")] + [
            "--iterations=20", f"--warmUp={args.layerkit_warmup_ms}", "--dumpProfile"]
            + args.layerkit_arg, os.path.join(work, "logs", tag + "_profile"), timeout_s)
        if not p.failure():
            lines = p.out.splitlines()
            start = next((i for i, ln in enumerate(lines) if ln.startswith("=== Profile")), None)
            if start is not None:
                rec["profile"] = lines[start:start + 2 + args.profile_rows]
    return rec, y


def reference(layerkit, model, model_path, spec, rows, work, args, results):
    """layerkit's fp32 CPU engine on the first `rows` rows; cached per model file and rows."""
    import numpy as np

    st = os.stat(model_path)
    ident = {"rows": rows, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    npy = os.path.join(work, "ref", f"{model}_r{rows}.npy")
    meta = npy + ".json"
    if os.path.exists(npy) and os.path.exists(meta):
        with open(meta) as f:
            if json.load(f) == ident:
                return np.load(npy)
    path = os.path.join(work, "inputs", f"{model}_{spec['name']}_ref{rows}.bin")
    shape = make_input(spec, rows, path)
    out_json = os.path.join(work, "ref", f"{model}_r{rows}_output.json")
    cmd = [layerkit, "run", model_path, "--device=cpu",
           f"--shapes={spec['name']}:{'x'.join(map(str, shape))}",
           f"--loadInputs={spec['name']}:{path}", "--iterations=1", "--warmUp=0",
           f"--threads={args.ref_threads}", f"--exportOutput={out_json}"]
    log(f"{model}: fp32 CPU reference on {rows} row(s)")
    c = Child(cmd, os.path.join(work, "logs", f"{model}_ref{rows}"), args.ref_timeout_s)
    ref_key = f"{model}|{rows}"
    results["references"][ref_key] = {"rows": rows, "command": shlex.join(cmd),
                                      "wall_s": round(c.wall_s, 1), "failure": c.failure()}
    try:
        if c.failure():
            raise ValueError(c.failure())
        y = read_layerkit_output(out_json)
    except (OSError, ValueError, KeyError, IndexError) as e:
        results["references"][ref_key]["failure"] = str(e)
        log(f"{model}: the CPU reference failed: {e}")
        return None
    np.save(npy, y)
    with open(meta, "w") as f:
        json.dump(ident, f)
    os.remove(out_json)
    return y


# --- PyTorch -------------------------------------------------------------------------------------


def run_torch(model, batch, model_path, spec, input_path, shape, contenders, rows, work, args,
              timeout_s, env):
    """Runs bench/torch_gpu_bench.py; returns {contender: record} (with outputs' paths)."""
    tag = f"{model}_b{batch}_torch_{'_'.join(contenders)}"
    lines_path = os.path.join(work, "out", tag + ".jsonl")
    if os.path.exists(lines_path):
        os.remove(lines_path)
    cmd = [sys.executable, os.path.join(HERE, "torch_gpu_bench.py"), "--model", model,
           "--onnx", model_path, "--input", input_path, "--dtype", spec["dtype"],
           "--shape", "x".join(map(str, shape)), "--rows", str(rows),
           "--contenders", ",".join(contenders), "--results", lines_path,
           "--outputs", os.path.join(work, "out"), "--iterations", str(args.iterations),
           "--warmup-iters", str(args.warmup_iters), "--warmup-s", str(args.warmup_s)]
    if args.no_cudnn_benchmark:
        cmd.append("--no-cudnn-benchmark")
    c = Child(cmd, os.path.join(work, "logs", tag), timeout_s, env)
    got = {}
    if os.path.exists(lines_path):
        with open(lines_path) as f:
            for line in f:
                rec = json.loads(line)
                got[rec.pop("contender")] = rec
    load = got.pop("load", {})
    for name in contenders:
        if name not in got:
            why = c.failure() or "exited without a result"
            got[name] = {"ok": False, "failure": f"not measured: the torch child {why}"}
        got[name]["torch_env"] = load.get("env")
        got[name]["torch_settings"] = {"cudnn_benchmark": load.get("cudnn_benchmark"),
                                       "fresh_compile_cache": not args.keep_compile_cache}
        got[name]["command"] = shlex.join(cmd)
    return got


def measure_peak(env, work):
    c = Child([sys.executable, os.path.join(HERE, "torch_gpu_bench.py"), "--peak"],
              os.path.join(work, "logs", "peak"), 300, env)
    if c.failure():
        log(f"GEMM peak not measured: {c.failure()}")
        return None
    r = json.loads(c.out.strip().splitlines()[-1])
    log(f"measured GEMM peak ({r['n']}^3, torch.matmul): fp16 {r['fp16_tflops']:.0f} TFLOP/s, "
        f"bf16 {r['bf16_tflops']:.0f} TFLOP/s on {r['env']['gpu']}")
    return r


# --- the run -------------------------------------------------------------------------------------


def finish(rec, y, ref, flops, batch):
    if rec.get("ok"):
        if "times_ms" in rec:
            t = rec.pop("times_ms")
            rec.update(median_ms=percentile(t, 50), p90_ms=percentile(t, 90), n=len(t))
        if rec.get("median_ms"):
            rec["tflops"] = flops * batch / (rec["median_ms"] * 1e-3) / 1e12
        if ref is not None and y is not None:
            rec["cosine"], rec["rows_compared"], note = cosine(y, ref)
            if note:
                rec["cosine_note"] = note
    rec["date"] = now()
    return rec


def run(args):
    start = time.perf_counter()
    deadline = start + args.deadline_s

    def left():
        return deadline - time.perf_counter()

    work = os.path.abspath(args.work)
    for d in ("models", "inputs", "ref", "out", "logs"):
        os.makedirs(os.path.join(work, d), exist_ok=True)
    # WORK/results.json gathers every call's measurements; --results gets a copy of it.
    cumulative = os.path.join(work, "results.json")
    results_path = [cumulative] + ([os.path.abspath(args.results)] if args.results else [])
    # An earlier call's --results file (e.g. from a machine since given back) seeds this one.
    results = load_results([p for p in results_path if os.path.exists(p)])
    # run_gpu_bench.sh names itself, so the report shows the command as it was typed.
    entry = os.environ.get("LAYERKIT_GPU_BENCH_ENTRY") or sys.argv[0]
    results["calls"].append({"date": now(), "command": shlex.join([entry] + sys.argv[1:]),
                             "cwd": os.getcwd()})
    layerkit = os.path.abspath(args.layerkit)
    if not os.access(layerkit, os.X_OK):
        sys.exit(f"gpu_bench: no layerkit at {layerkit} (--layerkit)")

    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in ROWS:
            sys.exit(f"gpu_bench: unknown model '{m}' (choose from {', '.join(ROWS)})")
    batches = None if not args.batches else {int(b) for b in args.batches.split(",")}
    contenders = [c for c in args.contenders.split(",") if c]
    for c in contenders:
        if c not in CONTENDERS:
            sys.exit(f"gpu_bench: unknown contender '{c}' (choose from {', '.join(CONTENDERS)})")
    if args.skip_max_autotune and "max-autotune" in contenders:
        contenders.remove("max-autotune")
    plan = [(m, b) for m in models for b in ROWS[m] if batches is None or b in batches]
    if not plan:
        sys.exit("gpu_bench: --models/--batches select no row")

    def todo(m, b, c):
        return args.rerun or not results["runs"].get(key(m, b, c), {}).get("ok")

    # The child processes write inductor's and triton's caches into a fresh folder, so every
    # compile time is a first compilation (--keep-compile-cache reuses the usual folders).
    env = dict(os.environ)
    cache = None
    if not args.keep_compile_cache:
        cache = tempfile.mkdtemp(prefix="inductor_", dir=work)
        env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache, "inductor")
        env["TRITON_CACHE_DIR"] = os.path.join(cache, "triton")

    pydeps = ensure_onnx(work)
    if pydeps:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), pydeps) if p)
    models_dir = os.path.join(work, "models")
    info = ensure_models(models, models_dir, pydeps, work)
    for m in models:
        results["models"][m] = {"flops_per_sample": info[m]["flops_per_sample"],
                                "inputs": info[m]["inputs"]}
    if not args.skip_peak:
        results["peak"] = measure_peak(env, work) or results["peak"]
    save_results(results_path, results)

    late = []  # max-autotune rows, after everything else
    for model in models:
        meta = info[model]
        model_path = os.path.join(models_dir, meta["file"])
        spec = meta["inputs"][0]
        flops = meta["flops_per_sample"]
        rows_here = [b for m, b in plan if m == model]
        if not any(todo(model, b, c) for b in rows_here for c in contenders):
            log(f"{model}: the results file has every selected row (--rerun measures again)")
            continue
        ref_rows = min(max(rows_here), args.ref_rows)
        ref = reference(layerkit, model, model_path, spec, ref_rows, work, args, results)
        save_results(results_path, results)
        for batch in rows_here:
            input_path = os.path.join(work, "inputs", f"{model}_{spec['name']}_b{batch}.bin")
            shape = make_input(spec, batch, input_path)
            shapes = f"{spec['name']}:{'x'.join(map(str, shape))}"
            # lk-fp32 is no contender of the speed comparison: its cosine against the CPU
            # engine checks the CUDA engine in fp32 on the benchmark's models.
            for c, flag in (("lk-fp16", "--fp16"), ("lk-bf16", "--bf16"), ("lk-fp32", None)):
                if c not in contenders or not todo(model, batch, c):
                    continue
                if left() < 30:
                    log(f"{model} b{batch} {c}: not run, the call's --deadline-s is spent")
                    continue
                log(f"{model} b{batch}: layerkit {flag or 'fp32'}")
                rec, y = run_layerkit_cuda(layerkit, model_path, shapes,
                                           f"{spec['name']}:{input_path}", flag,
                                           f"{model}_b{batch}_{c}", work, args,
                                           min(args.layerkit_timeout_s, left()))
                results["runs"][key(model, batch, c)] = finish(rec, y, ref, flops, batch)
                summary(model, batch, c, rec)
                save_results(results_path, results)
            group = [c for c in ("eager", "default", "reduce-overhead")
                     if c in contenders and todo(model, batch, c)]
            if group and (args.rerun or not results["runs"].get(key(model, batch, "fp32"))):
                group = ["fp32"] + group
            if group:
                if left() < 60:
                    log(f"{model} b{batch} torch {group}: not run, the call's --deadline-s is "
                        "spent")
                else:
                    log(f"{model} b{batch}: torch {', '.join(group)}")
                    run_torch_group(model, batch, model_path, spec, input_path, shape, group,
                                    ref_rows, ref, flops, work, args, left() - 10, env, results,
                                    results_path)
            if "max-autotune" in contenders and todo(model, batch, "max-autotune"):
                late.append((model, batch, model_path, spec, input_path, shape, ref_rows, ref,
                             flops))
    for model, batch, model_path, spec, input_path, shape, ref_rows, ref, flops in late:
        if left() < 60:
            log(f"{model} b{batch} max-autotune: not run, the call's --deadline-s is spent "
                "(run it in a call of its own: --contenders max-autotune)")
            continue
        log(f"{model} b{batch}: torch.compile max-autotune")
        run_torch_group(model, batch, model_path, spec, input_path, shape, ["max-autotune"],
                        ref_rows, ref, flops, work, args, left() - 10, env, results,
                        results_path)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    log(f"this call took {time.perf_counter() - start:.0f} s; results in "
        f"{', '.join(results_path)}")
    return results


def run_torch_group(model, batch, model_path, spec, input_path, shape, group, ref_rows, ref,
                    flops, work, args, timeout_s, env, results, results_path):
    import numpy as np

    got = run_torch(model, batch, model_path, spec, input_path, shape, group, ref_rows, work,
                    args, timeout_s, env)
    for c, rec in got.items():
        y = None
        if rec.get("ok") and rec.get("output"):
            y = np.load(rec.pop("output"))
        results["runs"][key(model, batch, c)] = finish(rec, y, ref, flops, batch)
        summary(model, batch, c, rec)
    save_results(results_path, results)


def summary(model, batch, c, rec):
    if not rec.get("ok"):
        log(f"{model} b{batch} {c}: FAILED: {rec.get('failure')}")
        return
    parts = []
    if rec.get("median_ms") is not None:
        parts.append(f"median {rec['median_ms']:.3f} ms")
    if rec.get("compile_s") is not None:
        parts.append(f"compile {rec['compile_s']:.1f} s")
    if rec.get("build_s") is not None:
        parts.append(f"build {rec['build_s']:.1f} s")
    if rec.get("cosine") is not None:
        parts.append(f"cosine {rec['cosine']:.6f} on {rec['rows_compared']} row(s)")
    log(f"{model} b{batch} {c}: " + ", ".join(parts))


# --- the report ----------------------------------------------------------------------------------


def fmt_ms(ms):
    if ms is None:
        return "—"
    return f"{ms:.1f}" if ms >= 100 else f"{ms:.3f}" if ms < 1 else f"{ms:.2f}"


def fmt_num(x):
    if x is None:
        return "—"
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2g}"


def fmt_x(r):
    return "—" if r is None else f"{r:.2f}x"


def fmt_cos(rec, digits=6):
    c = rec.get("cosine")
    if c is None:
        return "—"
    s = "nan" if math.isnan(c) else f"{c:.{digits}f}"
    if math.isnan(c) or c < COSINE_GOAL:
        s += " (below 0.999)"
    return s + f" ({rec['rows_compared']} of {rec.get('batch_rows', '?')} rows)"


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def render(results):
    runs = results["runs"]
    peak = results.get("peak") or {}
    rows = sorted({(k.split("|")[0], int(k.split("|")[1])) for k in runs},
                  key=lambda mb: (list(ROWS).index(mb[0]) if mb[0] in ROWS else 99, mb[1]))
    out = ["| model | batch | contender | median ms | p90 ms | runs | TFLOP/s | % of 989 | "
           "% of measured GEMM | cosine vs fp32 CPU | build / compile s | layerkit fp16 "
           "speedup |", "|" + "---|" * 12]
    summary_rows, speed_eager, speed_compile = [], [], []
    notes = []
    for model, batch in rows:
        recs = {c: runs[key(model, batch, c)] for c in CONTENDERS + ("fp32",)
                if key(model, batch, c) in runs}
        lk = recs.get("lk-fp16", {})
        lk_ms = lk.get("median_ms") if lk.get("ok") else None
        for c in CONTENDERS:
            if c not in recs:
                continue
            r = dict(recs[c], batch_rows=batch)
            if not r.get("ok"):
                cells = [model, str(batch), LABELS[c],
                         "failed: " + r.get("failure", "?").replace("|", "/")] + [""] * 8
                out.append("| " + " | ".join(cells) + " |")
                continue
            t = r.get("tflops")
            measured = None if c == "lk-fp32" else peak.get("bf16_tflops" if c == "lk-bf16"
                                                            else "fp16_tflops")
            speed = (r["median_ms"] / lk_ms) if lk_ms and c != "lk-fp16" else None
            built = r.get("build_s") if c in LAYERKIT else r.get("compile_s")
            out.append(" | ".join([
                f"| {model}", str(batch), LABELS[c], fmt_ms(r.get("median_ms")),
                fmt_ms(r.get("p90_ms")) if r.get("p90_ms") is not None else "n/a",
                str(r.get("n", "—")), fmt_num(t),
                "—" if t is None else fmt_num(100 * t / PEAK_TFLOPS),
                "—" if t is None or not measured else fmt_num(100 * t / measured),
                fmt_cos(r), "—" if built is None else f"{built:.1f}", fmt_x(speed)]) + " |")
            if c in LAYERKIT and r.get("p90_ms") is None:
                notes.append(f"{model} b{batch} {LABELS[c]}: {r.get('timing')}; host latency "
                             f"(copies included) median {fmt_ms(r.get('host_median_ms'))} / p90 "
                             f"{fmt_ms(r.get('host_p90_ms'))} ms")
        if "fp32" in recs:
            r = dict(recs["fp32"], batch_rows=batch)
            notes.append(f"{model} b{batch}: torch fp32 vs layerkit fp32 CPU (equivalence of the "
                         "two implementations): " + (fmt_cos(r, 8) if r.get("ok") else
                                                     "failed: " + r.get("failure", "?")))
        eager = recs.get("eager", {})
        eager_ms = eager.get("median_ms") if eager.get("ok") else None
        compiled = [(recs[c]["median_ms"], c) for c in COMPILE
                    if recs.get(c, {}).get("ok") and recs[c].get("median_ms")]
        best = min(compiled) if compiled else None
        se = eager_ms / lk_ms if eager_ms and lk_ms else None
        sc = best[0] / lk_ms if best and lk_ms else None
        speed_eager.append(se)
        speed_compile.append(sc)
        missing = [c for c in COMPILE if not recs.get(c, {}).get("ok")]
        summary_rows.append(" | ".join([
            f"| {model}", str(batch), fmt_ms(lk_ms),
            fmt_ms(recs["lk-bf16"]["median_ms"]) if recs.get("lk-bf16", {}).get("ok") else "—",
            fmt_ms(eager_ms),
            "—" if not best else f"{fmt_ms(best[0])} ({best[1]})"
            + (f"; not measured: {', '.join(missing)}" if missing else ""),
            fmt_x(se), fmt_x(sc)]) + " |")

    text = ["## GPU benchmark", ""]
    env = next((r.get("torch_env") for r in runs.values() if r.get("torch_env")), None) or \
        peak.get("env")
    if env:
        text.append(f"{env.get('gpu')} ({env.get('gpu_memory_gib')} GiB), PyTorch "
                    f"{env.get('torch')}, CUDA {env.get('cuda')}, cuDNN {env.get('cudnn')}, "
                    f"Python {env.get('python')}.")
    if peak.get("fp16_tflops"):
        text.append(f"Measured GEMM peak ({peak['n']}^3 torch.matmul): fp16 "
                    f"{peak['fp16_tflops']:.0f} TFLOP/s, bf16 {peak['bf16_tflops']:.0f} TFLOP/s "
                    f"(dense fp16 datasheet peak {PEAK_TFLOPS:.0f}).")
    text += ["", "Commands:", "", "```"] + [c["command"] for c in results["calls"]] + ["```", ""]
    text += ["| model | batch | layerkit fp16 ms | layerkit bf16 ms | torch eager ms | best "
             "torch.compile ms | speedup vs eager | speedup vs best compile |",
             "|" + "---|" * 8] + summary_rows + [""] + out + [""]
    text.append("Notes:")
    text.append("- Times are medians / p90s (nearest rank) of CUDA-event times, one synchronized "
                "run after another after a warm-up; layerkit's are its GPU compute time from "
                "device events (`layerkit run`; input and output copies excluded, as the peers' "
                "tensors stay on the GPU). TFLOP/s = models.json's FLOPs per sample (2 x "
                "multiply-adds of Conv/MatMul/Gemm, both attention MatMuls in full) x batch / "
                "median. Speedups are the peer's median / layerkit --fp16's median (the peers "
                "run in fp16).")
    settings = {json.dumps(r["torch_settings"], sort_keys=True) for r in runs.values()
                if r.get("torch_settings")}
    for st in sorted(settings):
        st = json.loads(st)
        text.append("- PyTorch: the module `.half()` under torch.inference_mode, "
                    f"torch.backends.cudnn.benchmark {'on' if st['cudnn_benchmark'] else 'off'}; "
                    "torch.compile(mode=M, dynamic=False) after torch._dynamo.reset(), its "
                    "compile time the first call's; inductor's and triton's caches "
                    + ("fresh for every call (first compilations)" if st["fresh_compile_cache"]
                       else "reused (compile times may be cache hits)") + ".")
    text.append("- Cosines are against `layerkit run --device=cpu` (fp32) on the first rows of "
                "the same input (row r of every batch is the same): a batch larger than "
                "--ref-rows is compared on those rows only; each cell says on how many.")
    for ref_key, r in sorted(results.get("references", {}).items()):
        if r.get("failure"):
            text.append(f"- {ref_key.split('|')[0]}: the fp32 CPU reference on {r['rows']} "
                        f"row(s) FAILED: {r['failure']}")
    text += [f"- {n}" for n in notes]
    ge, gc_ = geomean(speed_eager), geomean(speed_compile)
    n_e = sum(1 for x in speed_eager if x)
    n_c = sum(1 for x in speed_compile if x)
    text.append(f"- geomeans over the {n_e} (eager) and {n_c} (compile) rows of {len(rows)} "
                "where both ran.")
    for (model, batch) in rows:
        for c in LAYERKIT:
            prof = runs.get(key(model, batch, c), {}).get("profile")
            if prof:
                text += ["", f"{model} b{batch} {LABELS[c]}, slowest layers:", "", "```"] + \
                    prof + ["```"]
    text.append("")
    text.append(f"geomean speedup vs torch eager: {'n/a' if ge is None else f'{ge:.2f}'}, "
                f"vs best torch.compile: {'n/a' if gc_ is None else f'{gc_:.2f}'}")
    return "\n".join(text) + "\n"


def main():
    bundle = os.path.exists(os.path.join(ROOT, "bin", "layerkit"))
    default_layerkit = next((p for p in (os.path.join(ROOT, "bin", "layerkit"),
                                         os.path.join(ROOT, "build-gpu", "layerkit"),
                                         os.path.join(ROOT, "build", "layerkit"))
                             if os.path.exists(p)), os.path.join(ROOT, "bin", "layerkit"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", nargs="+", metavar="FILE",
                    help="only render the table from these results files")
    ap.add_argument("--markdown", help="also write the table here (default WORK/gpu_bench.md)")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help=f"default {','.join(DEFAULT_MODELS)}; mlp is a smoke test")
    ap.add_argument("--batches", help="only these batches of each model (e.g. 1 or 64,32,8)")
    ap.add_argument("--contenders", default=",".join(CONTENDERS))
    ap.add_argument("--skip-max-autotune", action="store_true")
    ap.add_argument("--rerun", action="store_true",
                    help="measure again what the results file already has")
    ap.add_argument("--results", help="also write the results JSON here (WORK/results.json "
                    "gathers every call's results; this is a copy of it)")
    ap.add_argument("--work", default=os.path.join(ROOT, "gpu_bench_work") if bundle
                    else os.path.join(ROOT, "build", "gpu_bench"),
                    help="models, inputs, references, outputs and logs")
    ap.add_argument("--layerkit", default=default_layerkit)
    ap.add_argument("--layerkit-arg", action="append", default=[],
                    help="extra flag for every `layerkit run --device=cuda` (repeatable)")
    ap.add_argument("--layerkit-profile", action="store_true",
                    help="an extra --dumpProfile run per layerkit row; its slowest layers go "
                         "into the report")
    ap.add_argument("--profile-rows", type=int, default=15)
    ap.add_argument("--iterations", type=int, default=200, help="timed runs (>= 100)")
    ap.add_argument("--warmup-iters", type=int, default=20, help="torch warm-up calls (at least)")
    ap.add_argument("--warmup-s", type=float, default=1.0, help="torch warm-up seconds (at least)")
    ap.add_argument("--layerkit-warmup-ms", type=int, default=1000)
    ap.add_argument("--layerkit-timeout-s", type=float, default=300)
    ap.add_argument("--ref-rows", type=int, default=8,
                    help="rows the fp32 CPU reference computes (larger batches are compared on "
                         "those rows)")
    ap.add_argument("--ref-threads", type=int, default=os.cpu_count())
    ap.add_argument("--ref-timeout-s", type=float, default=240)
    ap.add_argument("--deadline-s", type=float, default=560,
                    help="stop starting work this many seconds after the start (the host "
                         "kills a command at 600 s)")
    ap.add_argument("--skip-peak", action="store_true", help="do not time the GEMM peak")
    ap.add_argument("--no-cudnn-benchmark", action="store_true",
                    help="leave torch.backends.cudnn.benchmark off")
    ap.add_argument("--keep-compile-cache", action="store_true",
                    help="let torch.compile reuse its usual cache folders (compile times then "
                         "are not first compilations)")
    args = ap.parse_args()

    if args.report:
        results = load_results(args.report)
    else:
        if args.iterations < 100:
            log(f"--iterations={args.iterations}: the benchmark's figures need at least 100")
        results = run(args)
    text = render(results)
    print()
    print(text, end="")
    md = args.markdown or (None if args.report else os.path.join(os.path.abspath(args.work),
                                                                   "gpu_bench.md"))
    if md:
        with open(md, "w") as f:
            f.write(text)
        log(f"table written to {md}")


if __name__ == "__main__":
    main()
