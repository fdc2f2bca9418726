#!/usr/bin/env python3
"""Benchmarks layerkit against onnxruntime and libtorch on the models of bench/gen_models.py.

For each model x batch {1, 8} x threads {1, 2} it runs, one after another and as child processes
of this script, on the same fixed-seed inputs:
  - `layerkit run MODEL --shapes=... --threads=T --loadInputs=... --exportTimes=...`
  - bench/ort_bench.py (onnxruntime, intra_op_num_threads=T, inter_op 1, ORT_ENABLE_ALL)
  - libtorch_bench (the same computation through ATen, at::set_num_threads(T))
and prints a Markdown table: median and p90 latency, speedups (peer time / layerkit time),
achieved GFLOP/s and share of the fp32 peak (measured by fma_peak at the row's thread count; the
nominal NOMINAL_PEAK_GFLOPS_PER_THREAD per thread is printed beside it), then a
memory table and notes (numerical agreement with onnxruntime, versions), ending with the line
`geomean speedup vs onnxruntime: X, vs libtorch: Y`.

It builds nothing: it expects `layerkit`, `libtorch_bench` and `fma_peak` in the build folder and the models
(bench/gen_models.py --out BUILD/bench_models) there too. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
are removed from every child's environment, so OpenBLAS (libtorch's BLAS) picks its own kernels.

Usage: bench/run_bench.py [--build DIR] [--models resnet50,bert_base,mlp] [--quick]
                          [--iterations N] [--results FILE]
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_MODELS = ("resnet50", "bert_base", "mlp")
# The machine's nominal fp32 peak per core (AMD Zen 5: 2 x 512-bit FMA pipes x 16 lanes x 2 flops
# at about 4 GHz). What a program can reach depends on the vector width the CPU exposes (a VM may
# hide AVX-512), so the share-of-peak column divides by fma_peak's measurement instead.
NOMINAL_PEAK_GFLOPS_PER_THREAD = 256.0
UNSET_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BERT_VOCAB = 30522
# Timed runs per engine: layerkit's reference engine takes seconds per ResNet-50/BERT run, so it
# gets fewer than its peers; every engine first runs once untimed (warm-up) at least.
ITERATIONS = {
    #             layerkit  peers
    "resnet50": (20, 20),
    "bert_base": (20, 20),
    "mlp": (50, 50),
}
QUICK_ITERATIONS = (2, 5)
PEER_WARMUP_MS = 500


def percentile(times, p):
    """Nearest-rank percentile, the same rule `layerkit run` prints."""
    v = sorted(times)
    return v[min(len(v) - 1, int(p / 100.0 * (len(v) - 1) + 0.5))]


class Child:
    """One child process: exit code, output, peak resident memory (from wait4) and wall time."""

    def __init__(self, cmd, env, timeout_s, log_prefix):
        self.cmd = cmd
        start = time.perf_counter()
        with open(log_prefix + ".out", "w") as out, open(log_prefix + ".err", "w") as err:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
            timer = threading.Timer(timeout_s, p.kill)
            timer.start()
            _, status, usage = os.wait4(p.pid, 0)
            timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
        self.wall_s = time.perf_counter() - start
        self.code = p.returncode
        self.timed_out = self.code == -9
        self.peak_rss_mb = usage.ru_maxrss / 1024.0  # Linux reports KiB
        with open(log_prefix + ".out") as f:
            self.out = f.read()
        with open(log_prefix + ".err") as f:
            self.err = f.read()

    def failure(self):
        if self.code == 0:
            return None
        if self.timed_out:
            return f"killed after the {self.wall_s:.0f} s timeout"
        lines = [ln for ln in (self.err + self.out).splitlines() if ln.strip()]
        return f"exit {self.code}: " + (lines[-1] if lines else "no output")


def make_input(spec, batch, path):
    """Fixed-seed input for one model input: uniform [-1, 1] floats, or token ids in [0, vocab)."""
    shape = [batch if d == "batch" else d for d in spec["shape"]]
    rng = np.random.default_rng(1234)
    if spec["dtype"] == "int64":
        x = rng.integers(0, BERT_VOCAB, shape, dtype=np.int64)
    else:
        x = rng.uniform(-1.0, 1.0, shape).astype(spec["dtype"])
    x.tofile(path)
    return shape


def read_layerkit_output(path):
    with open(path) as f:
        data = json.load(f)
    return np.array(data[0]["values"], dtype=np.float32)


def fmt_ms(ms):
    if ms is None:
        return "—"
    return f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x"


def machine_description():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="build folder with layerkit, libtorch_bench and bench_models/")
    ap.add_argument("--models", default=",".join(ALL_MODELS))
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: batch 1 only, %d/%d timed runs" % QUICK_ITERATIONS)
    ap.add_argument("--iterations", type=int, help="timed runs for every engine")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="seconds per onnxruntime or libtorch child process")
    ap.add_argument("--layerkit-budget", type=float, default=60,
                    help="seconds of timed layerkit runs per row (at least one run)")
    ap.add_argument("--layerkit-max-run", type=float, default=240,
                    help="a layerkit row whose one run takes, or is projected to take, longer "
                         "than this many seconds is stopped or not run")
    ap.add_argument("--results", help="also write every measurement as JSON here")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    models_dir = os.path.join(build, "bench_models")
    work = os.path.join(build, "bench_run")
    os.makedirs(work, exist_ok=True)
    layerkit = os.path.join(build, "layerkit")
    libtorch_bench = os.path.join(build, "libtorch_bench")
    fma_peak = os.path.join(build, "fma_peak")
    sidecar = os.path.join(models_dir, "models.json")
    for path, how in ((layerkit, "build the layerkit_cli target"),
                      (libtorch_bench, "build the libtorch_bench target (needs libtorch)"),
                      (fma_peak, "build the fma_peak target"),
                      (sidecar, "run bench/gen_models.py --out " + models_dir)):
        if not os.path.exists(path):
            sys.exit(f"run_bench: {path} is missing: {how} (scripts/run_bench.sh does all)")
    with open(sidecar) as f:
        info = json.load(f)
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in info:
            sys.exit(f"run_bench: no model '{m}' in {sidecar} (have {', '.join(info)})")
    batches = [1] if args.quick else [1, 8]
    threads_list = [int(t) for t in args.threads.split(",")]

    env = dict(os.environ)
    removed = [f"{k}={env.pop(k)}" for k in UNSET_ENV if k in env]
    print(f"run_bench: unset {' and '.join(UNSET_ENV)} for all child processes "
          f"({'were ' + ', '.join(removed) if removed else 'neither was set'})")
    peaks = measure_peak(fma_peak, threads_list)
    print(f"run_bench: {machine_description()}; measured fp32 FMA peak "
          + ", ".join(f"{peaks[t]['gflops']:.1f} GFLOP/s at {t} thread(s) ({peaks[t]['isa']})"
                      for t in threads_list)
          + f"; nominal {NOMINAL_PEAK_GFLOPS_PER_THREAD:.0f} GFLOP/s per thread")
    load_start = os.getloadavg()
    sys.stdout.flush()

    rows, mem_rows, notes, versions = [], [], [], {}
    records = []
    lk_state, projected_s = {}, {}  # per model: measured / projected seconds per run by batch
    for model in models:
        meta = info[model]
        onnx_path = os.path.join(models_dir, meta["file"])
        lk_iters, peer_iters = QUICK_ITERATIONS if args.quick else ITERATIONS[model]
        if args.iterations:
            lk_iters = peer_iters = args.iterations
        for batch in batches:
            inputs = []
            for spec in meta["inputs"]:
                path = os.path.join(work, f"{model}_b{batch}_{spec['name']}.bin")
                shape = make_input(spec, batch, path)
                inputs.append((spec, shape, path))
            shapes = ",".join(f"{s['name']}:{'x'.join(map(str, sh))}" for s, sh, _ in inputs)
            ref = None  # onnxruntime's output at the first thread count
            rss = {}
            for threads in threads_list:
                tag = f"{model}_b{batch}_t{threads}"
                res = {"model": model, "batch": batch, "threads": threads}
                print(f"run_bench: {tag} ...", flush=True)

                # onnxruntime
                ort_out = os.path.join(work, tag + "_ort.bin")
                cmd = [sys.executable, os.path.join(ROOT, "bench", "ort_bench.py"),
                       "--onnx", onnx_path, "--threads", str(threads),
                       "--iterations", str(peer_iters), "--warmUp", str(PEER_WARMUP_MS),
                       "--output", ort_out]
                for s, sh, path in inputs:
                    cmd += ["--input", f"{s['name']}:{s['dtype']}:{'x'.join(map(str, sh))}:{path}"]
                c = Child(cmd, env, args.timeout, os.path.join(work, tag + "_ort"))
                res["ort"] = collect(c, lambda out: json.loads(out.splitlines()[-1]))
                if res["ort"].get("ok"):
                    versions["onnxruntime"] = res["ort"]["version"]
                    y = np.fromfile(ort_out, dtype=np.float32)
                    if ref is None:
                        ref = y
                rss.setdefault("ort", c.peak_rss_mb)

                # libtorch
                torch_out = os.path.join(work, tag + "_torch.bin")
                cmd = [libtorch_bench, "--model", model, "--onnx", onnx_path,
                       "--batch", str(batch), "--threads", str(threads),
                       "--iterations", str(peer_iters), "--warmUp", str(PEER_WARMUP_MS),
                       "--input", inputs[0][2], "--output", torch_out]
                c = Child(cmd, env, args.timeout, os.path.join(work, tag + "_torch"))
                res["torch"] = collect(c, lambda out: json.loads(out.splitlines()[-1]))
                if res["torch"].get("ok"):
                    versions["libtorch"] = (f"{res['torch']['version']}, BLAS "
                                            f"{res['torch']['blas']}")
                    res["torch"]["err"] = compare(np.fromfile(torch_out, dtype=np.float32), ref)
                rss.setdefault("torch", c.peak_rss_mb)

                # layerkit
                res["layerkit"] = run_layerkit(
                    layerkit, onnx_path, shapes, threads, inputs, tag, work, env, args,
                    lk_iters, projected_s.get(model, {}).get(batch), lk_state.setdefault(model, {}))
                lk = res["layerkit"]
                if lk.get("ok"):
                    lk["err"] = compare(read_layerkit_output(lk["output_json"]), ref)
                    lk_state[model][batch] = lk["median_ms"] / 1e3
                projected_s[model] = project(lk_state[model])
                rss.setdefault("layerkit", lk.get("peak_rss_mb"))
                if lk.get("act_mib"):
                    rss.setdefault("layerkit_act_mib", lk["act_mib"])
                records.append(res)
                rows.append(table_row(res, meta["flops_per_sample"] * batch,
                                      peaks[threads]["gflops"]))
                print(f"run_bench: {tag}: " + summary(res), flush=True)
            act = meta["activation_memory"][str(batch)]
            mem_rows.append((model, batch, act, rss))

    load = (load_start, os.getloadavg())
    print_tables(rows, mem_rows, records, versions, threads_list, load)
    if args.results:
        with open(args.results, "w") as f:
            json.dump({"date": datetime.date.today().isoformat(), "machine": machine_description(),
                       "versions": versions, "records": records}, f, indent=1)


def project(measured):
    """Seconds per layerkit run by batch, scaled linearly from the largest batch measured."""
    if not measured:
        return {}
    b0 = max(measured)
    return {b: measured[b0] * b / b0 for b in (1, 8)}


def run_layerkit(layerkit, onnx_path, shapes, threads, inputs, tag, work, env, args, max_iters,
                 projected, state):
    """Runs `layerkit run` for one row within the time budget.

    The reference engine takes from seconds to many minutes per run, so the number of timed runs
    adapts: with no earlier measurement of the model it first times one run (no warm-up); when
    that run shows more fit into --layerkit-budget, it runs again with as many (up to
    `max_iters`, after a warm-up when runs are short). A row whose run is projected (from a
    smaller batch) to take over --layerkit-max-run seconds is not run, and says so.
    """
    if state.get("timed_out"):
        return {"ok": False, "failure": "not run: a smaller run of this model took over "
                f"{args.layerkit_max_run:.0f} s", "skipped": True}
    if projected is not None and projected > args.layerkit_max_run:
        return {"ok": False, "skipped": True,
                "failure": f"not run: one run is projected at {projected:.0f} s from the "
                "smaller batch (over --layerkit-max-run)"}
    times_json = os.path.join(work, tag + "_layerkit_times.json")
    out_json = os.path.join(work, tag + "_layerkit_output.json")

    def attempt(iters, warmup_ms, timeout_s):
        cmd = [layerkit, "run", onnx_path, f"--shapes={shapes}", f"--threads={threads}",
               f"--iterations={iters}", f"--warmUp={warmup_ms}",
               "--loadInputs=" + ",".join(f"{s['name']}:{p}" for s, _, p in inputs),
               f"--exportTimes={times_json}", f"--exportOutput={out_json}"]
        c = Child(cmd, env, timeout_s, os.path.join(work, tag + "_layerkit"))

        def parse(out):
            with open(times_json) as f:
                t = [r["latencyMs"] for r in json.load(f)]
            line = [ln for ln in out.splitlines() if ln.startswith("build time")]
            mem = re.search(r"activation memory: ([0-9.]+) MiB planned .*, ([0-9.]+) MiB unplanned",
                            out)
            return {"times_ms": t, "output_json": out_json,
                    "build": line[0].split(":", 1)[1].strip() if line else "?",
                    "act_mib": (float(mem.group(1)), float(mem.group(2))) if mem else None}

        r = collect(c, parse)
        if c.timed_out:
            state["timed_out"] = True
            r["failure"] = (f"one run takes over {args.layerkit_max_run:.0f} s "
                            "(--layerkit-max-run): stopped")
        return r

    # Importing and building take a while for the large models: they get their own allowance.
    slack_s = 120
    if projected is None:
        r = attempt(1, 0, slack_s + args.layerkit_max_run)
        if not r["ok"]:
            return r
        projected = r["median_ms"] / 1e3
        if min(max_iters, int(args.layerkit_budget // projected)) <= 1:
            return r
    iters = max(1, min(max_iters, int(args.layerkit_budget // max(projected, 1e-3))))
    warmup = PEER_WARMUP_MS if projected < 1.0 else 0
    return attempt(iters, warmup, slack_s + 2 * iters * projected + warmup / 1e3)


def collect(child, parse):
    fail = child.failure()
    if fail:
        return {"ok": False, "failure": fail, "peak_rss_mb": child.peak_rss_mb}
    try:
        r = parse(child.out)
    except (ValueError, KeyError, IndexError, OSError) as e:
        return {"ok": False, "failure": f"unreadable result ({e})",
                "peak_rss_mb": child.peak_rss_mb}
    r["ok"] = True
    r["median_ms"] = percentile(r["times_ms"], 50)
    r["p90_ms"] = percentile(r["times_ms"], 90)
    r["peak_rss_mb"] = child.peak_rss_mb
    return r


def compare(y, ref):
    if ref is None:
        return None
    if y.size != ref.size:
        return {"shape_mismatch": f"{y.size} vs {ref.size} values"}
    d = np.abs(y.astype(np.float64) - ref.astype(np.float64))
    scale = float(np.abs(ref).max()) or 1.0
    return {"max_abs": float(d.max()), "max_abs_over_max_ref": float(d.max()) / scale,
            "finite": bool(np.isfinite(y).all())}


def summary(res):
    parts = []
    for key, name in (("layerkit", "layerkit"), ("ort", "onnxruntime"), ("torch", "libtorch")):
        r = res[key]
        parts.append(f"{name} {fmt_ms(r['median_ms'])} ms" if r["ok"]
                     else f"{name} FAILED ({r['failure']})")
    return ", ".join(parts)


def measure_peak(fma_peak, threads_list):
    """fma_peak's GFLOP/s and vector ISA per thread count."""
    out = subprocess.run([fma_peak] + [str(t) for t in threads_list], check=True,
                         capture_output=True, text=True).stdout
    peaks = {}
    for m in re.finditer(r"fma peak: ([0-9.]+) GFLOP/s with (\d+) threads \(([^)]*)\)", out):
        peaks[int(m.group(2))] = {"gflops": float(m.group(1)), "isa": m.group(3)}
    missing = [t for t in threads_list if t not in peaks]
    if missing:
        sys.exit(f"run_bench: fma_peak printed no result for {missing} threads: {out!r}")
    return peaks


def table_row(res, flops, peak):
    lk, ort_r, tr = res["layerkit"], res["ort"], res["torch"]

    def med(r):
        return r["median_ms"] if r["ok"] else None

    def lat(r, runs=False):
        if not r["ok"]:
            return "not run" if r.get("skipped") else "failed"
        n = f" (n={len(r['times_ms'])})" if runs else ""
        return f"{fmt_ms(r['median_ms'])} / {fmt_ms(r['p90_ms'])}{n}"

    def gflops(r):
        return flops / (r["median_ms"] * 1e-3) / 1e9 if r["ok"] else None

    def speed(peer):
        return med(peer) / med(lk) if med(peer) and med(lk) else None

    g = [gflops(r) for r in (lk, ort_r, tr)]
    return {
        "cells": [res["model"], str(res["batch"]), str(res["threads"]), lat(lk, True), lat(ort_r),
                  lat(tr), fmt_ratio(speed(ort_r)), fmt_ratio(speed(tr)),
                  " / ".join("—" if x is None else f"{x:.1f}" for x in g),
                  " / ".join("—" if x is None else f"{100 * x / peak:.1f}" for x in g)],
        "speedup_ort": speed(ort_r), "speedup_torch": speed(tr),
    }


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def print_tables(rows, mem_rows, records, versions, threads_list, load):
    print()
    print(md_table(["model", "batch", "threads", "layerkit median / p90 ms",
                    "onnxruntime median / p90 ms", "libtorch median / p90 ms",
                    "speedup vs onnxruntime", "speedup vs libtorch",
                    "GFLOP/s layerkit / ORT / libtorch",
                    "% of peak layerkit / ORT / libtorch"], [r["cells"] for r in rows]))
    print()
    mb = 1024.0 * 1024.0
    print(md_table(
        ["model", "batch", "activations, one buffer each (MB)", "activations, live peak (MB)",
         "layerkit activations planned / unplanned (MB)",
         "peak RSS layerkit / ORT / libtorch (MB)"],
        [[m, str(b), f"{a['all_bytes'] / mb:.1f}", f"{a['live_peak_bytes'] / mb:.1f}",
          "n/a" if not rss.get("layerkit_act_mib") else
          "{:.1f} / {:.1f}".format(*rss["layerkit_act_mib"]),
          " / ".join("—" if rss.get(k) is None else f"{rss[k]:.0f}"
                     for k in ("layerkit", "ort", "torch"))]
         for m, b, a, rss in mem_rows]))
    print()
    print("Notes:")
    print("- speedup = peer median / layerkit median (above 1: layerkit is faster); GFLOP/s = "
          "2 x multiply-adds of Conv/MatMul/Gemm per sample x batch / median; % of peak divides "
          "by fma_peak's measured FMA throughput at the row's thread count (see the first "
          f"lines; the nominal {NOMINAL_PEAK_GFLOPS_PER_THREAD:.0f} GFLOP/s per thread needs "
          "AVX-512, which the CPU may not expose).")
    print("- activation columns come from the graph (ONNX shape inference): every node output "
          "in a buffer of its own (no memory planning), and the most bytes alive at one node "
          "(what a planner that reuses buffers needs). layerkit's columns are its engine's own "
          "network (after the builder passes) as `layerkit run` reports it: the peak when "
          "buffers are reused by lifetime (its executor hands released buffers out again) and "
          "the sum of one buffer per tensor; peak RSS is each process's whole resident peak "
          "(weights, runtime, activations) at threads = " + str(threads_list[0]) + ".")
    for r in records:
        for key, name in (("layerkit", "layerkit"), ("torch", "libtorch")):
            e = r[key].get("err") if r[key]["ok"] else None
            if e and r["threads"] == threads_list[0]:
                if "shape_mismatch" in e:
                    print(f"- {r['model']} batch {r['batch']}: {name} output size differs from "
                          f"onnxruntime's: {e['shape_mismatch']}")
                else:
                    print(f"- {r['model']} batch {r['batch']}: {name} vs onnxruntime: max abs "
                          f"error {e['max_abs']:.3g}, relative to max |output| "
                          f"{e['max_abs_over_max_ref']:.3g}"
                          + ("" if e["finite"] else " (NON-FINITE values)"))
        for key, name in (("layerkit", "layerkit"), ("ort", "onnxruntime"),
                          ("torch", "libtorch")):
            if not r[key]["ok"]:
                what = "" if r[key].get("skipped") else "failed: "
                print(f"- {r['model']} batch {r['batch']} threads {r['threads']}: {name} "
                      f"{what}{r[key]['failure']}")
    lk_iters = [len(r["layerkit"]["times_ms"]) for r in records if r["layerkit"]["ok"]]
    peer_iters = [len(r["ort"]["times_ms"]) for r in records if r["ort"]["ok"]]
    if lk_iters and peer_iters:
        print(f"- timed runs: layerkit {min(lk_iters)}-{max(lk_iters)} (n in its column; a "
              f"warm-up of {PEER_WARMUP_MS} ms only where one run takes under a second); "
              f"onnxruntime and libtorch {min(peer_iters)}-{max(peer_iters)} after "
              f"{PEER_WARMUP_MS} ms of warm-up.")
    for k, v in versions.items():
        print(f"- {k} {v}")
    # Other work on the machine inflates every engine's times; the load average shows how much.
    print(f"- 1-minute load average {load[0][0]:.2f} at the start, {load[1][0]:.2f} at the end "
          f"({os.cpu_count()} logical CPUs).")
    g_ort = geomean(r["speedup_ort"] for r in rows)
    g_torch = geomean(r["speedup_torch"] for r in rows)
    n_ort = sum(1 for r in rows if r["speedup_ort"])
    n_torch = sum(1 for r in rows if r["speedup_torch"])
    print(f"- geomeans over the {n_ort} (onnxruntime) and {n_torch} (libtorch) rows where both "
          f"engines ran, of {len(rows)}.")

    def fmt(g):
        return "n/a" if g is None else f"{g:.3g}"

    print(f"geomean speedup vs onnxruntime: {fmt(g_ort)}, vs libtorch: {fmt(g_torch)}")


if __name__ == "__main__":
    main()
