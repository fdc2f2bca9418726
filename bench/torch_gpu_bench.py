#!/usr/bin/env python3
"""Times the PyTorch peers of one model at one batch on the GPU; bench/gpu_bench.py runs it.

The module of bench/torch_models.py, filled from the ONNX file, runs on the input file that
`layerkit run --loadInputs` reads too:
  - fp32  the module in fp32 with TF32 off, on the first ROWS rows only, untimed: its output
          against layerkit's fp32 CPU engine checks that both sides compute the same function;
  - eager           the module `.half()`, called as it is;
  - default, reduce-overhead, max-autotune
                    torch.compile(module, mode=M, dynamic=False) of the half module, after
                    torch._dynamo.reset(); the first call's time (compilation included) is the
                    compile time.
Everything runs under torch.inference_mode. After a warm-up (at least --warmup-iters calls and
--warmup-s seconds) each timed call is bracketed by CUDA events and followed by a device
synchronize, so every run starts on an idle GPU and the host's launch time shows, as it does in
`layerkit run`'s GPU compute time. Each contender's result goes out as one JSON line appended to
--results the moment it is known (a contender that crashes the process leaves the others' lines),
and the first ROWS rows of its output as float32 .npy in --outputs.

--peak instead times --peak-n^3 fp16 and bf16 GEMMs (torch.matmul) and prints the TFLOP/s and
the versions as one JSON line.

Usage: bench/torch_gpu_bench.py --model M --onnx FILE --input FILE --dtype D --shape 8x512x768
         --rows R --contenders fp32,eager,default,... --results FILE --outputs DIR
         [--iterations N] [--warmup-iters N] [--warmup-s S] [--no-cudnn-benchmark]
       bench/torch_gpu_bench.py --peak [--peak-n 8192]
"""
import argparse
import gc
import json
import os
import sys
import time
import traceback

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")


def environment():
    props = torch.cuda.get_device_properties(0)
    return {"torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "gpu": props.name,
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "python": sys.version.split()[0]}


def peak(n):
    out = {"env": environment(), "n": n}
    for name, dt in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        a = torch.randn(n, n, dtype=dt, device="cuda")
        b = torch.randn(n, n, dtype=dt, device="cuda")
        for _ in range(10):
            torch.matmul(a, b)
        torch.cuda.synchronize()
        times = []
        for _ in range(50):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            torch.matmul(a, b)
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        ms = sorted(times)[len(times) // 2]
        out[name + "_tflops"] = 2.0 * n**3 / (ms * 1e-3) / 1e12
        del a, b
    print(json.dumps(out), flush=True)


def timed(fn, x, iterations, warmup_iters, warmup_s):
    """CUDA-event times (ms) of `iterations` calls after the warm-up, and the last output."""
    start = time.perf_counter()
    k = 0
    while k < warmup_iters or time.perf_counter() - start < warmup_s:
        fn(x)
        k += 1
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        y = fn(x)
        e.record()
        torch.cuda.synchronize()
        times.append(s.elapsed_time(e))
    return times, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peak", action="store_true")
    ap.add_argument("--peak-n", type=int, default=8192)
    ap.add_argument("--model")
    ap.add_argument("--onnx")
    ap.add_argument("--input")
    ap.add_argument("--dtype")
    ap.add_argument("--shape")
    ap.add_argument("--rows", type=int, default=1)
    ap.add_argument("--contenders", default="fp32,eager," + ",".join(COMPILE_MODES))
    ap.add_argument("--results")
    ap.add_argument("--outputs")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--warmup-iters", type=int, default=20)
    ap.add_argument("--warmup-s", type=float, default=1.0)
    ap.add_argument("--no-cudnn-benchmark", action="store_true")
    args = ap.parse_args()
    if args.peak:
        return peak(args.peak_n)

    def emit(rec):
        with open(args.results, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def save(contender, y):
        path = os.path.join(args.outputs, f"{args.model}_b{shape[0]}_{contender}.npy")
        np.save(path, y[:args.rows].float().cpu().numpy())
        return path

    shape = [int(d) for d in args.shape.split("x")]
    contenders = [c for c in args.contenders.split(",") if c]
    # cuDNN picks its convolution algorithms by timing them, as tuned PyTorch inference does.
    torch.backends.cudnn.benchmark = not args.no_cudnn_benchmark
    t0 = time.perf_counter()
    model = torch_models.load_onnx(args.model, args.onnx).cuda()
    emit({"contender": "load", "ok": True, "load_s": time.perf_counter() - t0,
          "env": environment(), "cudnn_benchmark": torch.backends.cudnn.benchmark})
    x_np = np.fromfile(args.input, dtype=args.dtype).reshape(shape)
    floating = x_np.dtype.kind == "f"

    with torch.inference_mode():
        if "fp32" in contenders:
            matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
            cudnn_tf32 = torch.backends.cudnn.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            try:
                y = model(torch.from_numpy(x_np[:args.rows]).cuda())
                emit({"contender": "fp32", "ok": True, "output": save("fp32", y)})
            except Exception as e:  # noqa: BLE001 - recorded, the other contenders still run
                emit({"contender": "fp32", "ok": False, "failure": failure(e)})
            finally:
                torch.backends.cuda.matmul.allow_tf32 = matmul_tf32
                torch.backends.cudnn.allow_tf32 = cudnn_tf32
        model = model.half()
        x = torch.from_numpy(x_np).cuda()
        if floating:
            x = x.half()
        for c in contenders:
            if c == "fp32":
                continue
            rec = {"contender": c}
            fn = None
            try:
                if c == "eager":
                    fn = model
                elif c in COMPILE_MODES:
                    torch._dynamo.reset()
                    fn = torch.compile(model, mode=c, dynamic=False)
                    t = time.perf_counter()
                    fn(x)
                    torch.cuda.synchronize()
                    rec["compile_s"] = time.perf_counter() - t
                    print(f"torch.compile mode={c}: first call (compilation) "
                          f"{rec['compile_s']:.1f} s", flush=True)
                else:
                    raise ValueError(f"unknown contender '{c}'")
                times, y = timed(fn, x, args.iterations, args.warmup_iters, args.warmup_s)
                rec.update(ok=True, times_ms=times, output=save(c, y))
            except Exception as e:  # noqa: BLE001 - recorded, the other contenders still run
                rec.update(ok=False, failure=failure(e))
            emit(rec)
            del fn
            torch._dynamo.reset()
            gc.collect()
            torch.cuda.empty_cache()


def failure(e):
    """One line for the table: the exception and where it came from (the log has it all)."""
    traceback.print_exception(e, file=sys.stderr)
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg[:300]}{where}"


if __name__ == "__main__":
    main()
