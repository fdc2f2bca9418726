#!/usr/bin/env python3
"""Times one ONNX model with onnxruntime's CPU provider; bench/run_bench.py runs it as a child.

The session uses intra_op_num_threads=THREADS, inter_op_num_threads=1, sequential execution and
onnxruntime's default graph optimizations (ORT_ENABLE_ALL). Inputs come from raw little-endian
files (the ones `layerkit run --loadInputs` reads). Prints one JSON line with every timed run's
latency; --output saves the first output as raw float32.

Usage: bench/ort_bench.py --onnx FILE --threads T --iterations N --warmUp MS
                          --input NAME:DTYPE:SHAPE:FILE [--output FILE]
  SHAPE is dims joined by 'x' (1x3x224x224); DTYPE a numpy name (float32, int64).
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--warmUp", type=float, default=200, help="warm-up time in ms (>= 1 run)")
    ap.add_argument("--input", action="append", default=[], help="NAME:DTYPE:SHAPE:FILE")
    ap.add_argument("--output")
    args = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    feeds = {}
    for spec in args.input:
        name, dtype, shape, path = spec.split(":", 3)
        dims = [int(d) for d in shape.split("x")]
        feeds[name] = np.fromfile(path, dtype=dtype).reshape(dims)

    start = time.perf_counter()
    while True:
        outputs = sess.run(None, feeds)
        if (time.perf_counter() - start) * 1e3 >= args.warmUp:
            break
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        outputs = sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    if args.output:
        np.ascontiguousarray(outputs[0], dtype=np.float32).tofile(args.output)
    print(json.dumps({"engine": "onnxruntime", "version": ort.__version__,
                      "threads": args.threads, "iterations": args.iterations,
                      "times_ms": times}))


if __name__ == "__main__":
    main()
