#!/usr/bin/env python3
"""Writes the benchmark models (ResNet-50, BERT-base, MLP, GPT-2-style stack) as ONNX, fp32.

Every model has opset 17, a dynamic batch dimension named "batch" and weights drawn from a fixed
seed, so rerunning the script rewrites the same files. Beside them goes models.json: per model its
input (name, dtype, shape with "batch"), output, FLOPs per sample (2 x multiply-adds of every
Conv/MatMul/Gemm) and the activation memory that the graph implies at batch 1 and 8 (see
activation_bytes()).

- resnet50.onnx: torchvision's ResNet-50 (bottlenecks [3, 4, 6, 3], stride on the 3x3 conv) on
  input "input" [batch, 3, 224, 224] -> "logits" [batch, 1000]. BatchNormalization stays a node of
  its own after every Conv (not folded into the weights): folding it is a builder's job, and the
  benchmark should see whether the builder does it.
- bert_base.onnx: input "input_ids" int64 [batch, 128] -> word, position and token-type
  embeddings (Gather; the position ids 0..127 and token-type ids 0 are constants) + LayerNorm,
  12 encoder layers (hidden 768, 12 heads, FFN 3072, erf GELU written as x*0.5*(1+erf(x/sqrt2))),
  no attention mask -> "last_hidden_state" [batch, 128, 768].
- mlp.onnx: "input" [batch, 4096] -> 4 x (Gemm 4096->4096, transB=1, + Relu) -> "output".
- gpt2_stack.onnx: GPT-2-small's decoder blocks without the embeddings: "hidden" [batch, 512,
  768] -> 12 pre-LayerNorm blocks (one fused q/k/v MatMul + Split, 12 heads, causal attention as
  exporters write it: MatMul(Q, K^T) * 1/8 + a constant [512, 512] mask that is -inf above the
  diagonal -> Softmax -> MatMul(V); FFN 3072 with tanh GELU written as
  0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))) -> final LayerNorm -> "output" [batch, 512, 768].
  Its FLOPs count both attention MatMuls in full (the masked half too), as the graph has them.

Usage: bench/gen_models.py [--out DIR] [--models resnet50,bert_base,mlp] [--verify]
  --out     where the models go (default build/bench_models; not under version control)
  --verify  also runs each model with onnxruntime at batch 1 and checks the output is finite
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

OPSET = 17
# IR version 8 is the oldest that carries opset 17 and is read by older onnx/protobuf releases.
IR_VERSION = 8
SEED = 20250101
ALL_MODELS = ("resnet50", "bert_base", "mlp", "gpt2_stack")


class Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self.flops = 0  # per sample

    def init(self, name, array, dtype=np.float32):
        self.initializers.append(numpy_helper.from_array(np.asarray(array).astype(dtype), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = name + "_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def scalar(self, name, value):
        return self.init(name, np.array(value, dtype=np.float32))

    # --- ResNet pieces ---------------------------------------------------------------------------

    def conv(self, x, name, cin, cout, k, stride, out_hw):
        # He initialisation keeps the variance of activations roughly constant through a block.
        w = self.rng.normal(0.0, np.sqrt(2.0 / (cin * k * k)), size=(cout, cin, k, k))
        self.flops += 2 * cout * cin * k * k * out_hw * out_hw
        return self.node("Conv", [x, self.init(name + ".weight", w)], name,
                         kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)

    def bn(self, x, name, c, gamma=(0.5, 1.5)):
        # Non-trivial statistics, so an importer or a fold that misreads one of them shows.
        scale = self.rng.uniform(*gamma, c)
        bias = self.rng.uniform(-0.1, 0.1, c)
        mean = self.rng.uniform(-0.1, 0.1, c)
        var = self.rng.uniform(0.8, 1.2, c)
        names = [self.init(f"{name}.{p}", a)
                 for p, a in (("scale", scale), ("bias", bias), ("mean", mean), ("var", var))]
        return self.node("BatchNormalization", [x] + names, name, epsilon=1e-5)

    def bottleneck(self, x, name, cin, width, stride, out_hw):
        cout = 4 * width
        in_hw = out_hw * stride
        y = self.conv(x, f"{name}/conv1", cin, width, 1, 1, in_hw)
        y = self.node("Relu", [self.bn(y, f"{name}/bn1", width)], f"{name}/relu1")
        y = self.conv(y, f"{name}/conv2", width, width, 3, stride, out_hw)
        y = self.node("Relu", [self.bn(y, f"{name}/bn2", width)], f"{name}/relu2")
        y = self.conv(y, f"{name}/conv3", width, cout, 1, 1, out_hw)
        # A small last gamma (torchvision's zero-init-residual, softened) keeps the residual
        # stream from growing block after block with random weights.
        y = self.bn(y, f"{name}/bn3", cout, gamma=(0.1, 0.3))
        skip = x
        if stride != 1 or cin != cout:
            skip = self.bn(self.conv(x, f"{name}/downsample", cin, cout, 1, stride, out_hw),
                           f"{name}/downsample_bn", cout)
        return self.node("Relu", [self.node("Add", [y, skip], f"{name}/add")], f"{name}/relu3")

    # --- BERT pieces -----------------------------------------------------------------------------

    def linear(self, x, name, din, dout, tokens):
        # Stored [in, out] as exported transformers do (x @ W + b).
        w = self.rng.normal(0.0, 0.02, size=(din, dout))
        b = self.rng.uniform(-0.02, 0.02, dout)
        self.flops += 2 * tokens * din * dout
        y = self.node("MatMul", [x, self.init(name + ".weight", w)], name + "/matmul")
        return self.node("Add", [y, self.init(name + ".bias", b)], name + "/bias")

    def layer_norm(self, x, name, c, epsilon=1e-12):
        gamma = self.rng.uniform(0.8, 1.2, c)
        beta = self.rng.uniform(-0.1, 0.1, c)
        return self.node("LayerNormalization",
                         [x, self.init(name + ".weight", gamma), self.init(name + ".bias", beta)],
                         name, axis=-1, epsilon=epsilon)


def resnet50():
    g = Graph(SEED)
    x = g.conv("input", "conv1", 3, 64, 7, 2, 112)
    x = g.node("Relu", [g.bn(x, "bn1", 64)], "relu")
    x = g.node("MaxPool", [x], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin, hw = 64, 56
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512)), start=1):
        for i in range(blocks):
            stride = 2 if i == 0 and stage > 1 else 1
            hw = hw // stride
            x = g.bottleneck(x, f"layer{stage}.{i}", cin, width, stride, hw)
            cin = 4 * width
    x = g.node("GlobalAveragePool", [x], "avgpool")
    x = g.node("Flatten", [x], "flatten", axis=1)
    w = g.rng.normal(0.0, 0.01, size=(1000, 2048))
    b = g.rng.uniform(-0.01, 0.01, 1000)
    g.flops += 2 * 1000 * 2048
    g.nodes.append(helper.make_node(
        "Gemm", [x, g.init("fc.weight", w), g.init("fc.bias", b)], ["logits"], name="fc",
        transB=1))
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 224, 224])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])]
    return g, inputs, outputs


BERT_VOCAB, BERT_SEQ, BERT_HIDDEN, BERT_HEADS, BERT_FFN, BERT_LAYERS = 30522, 128, 768, 12, 3072, 12


def bert_base():
    g = Graph(SEED + 1)
    s, h, nh, dh = BERT_SEQ, BERT_HIDDEN, BERT_HEADS, BERT_HIDDEN // BERT_HEADS
    word = g.init("embeddings.word", g.rng.normal(0.0, 0.02, size=(BERT_VOCAB, h)))
    pos = g.init("embeddings.position", g.rng.normal(0.0, 0.02, size=(512, h)))
    tok = g.init("embeddings.token_type", g.rng.normal(0.0, 0.02, size=(2, h)))
    pos_ids = g.init("embeddings.position_ids", np.arange(s), np.int64)
    tok_ids = g.init("embeddings.token_type_ids", np.zeros(s), np.int64)
    x = g.node("Gather", [word, "input_ids"], "embeddings/word", axis=0)  # [B, S, H]
    x = g.node("Add", [x, g.node("Gather", [pos, pos_ids], "embeddings/position", axis=0)],
               "embeddings/add_position")
    x = g.node("Add", [x, g.node("Gather", [tok, tok_ids], "embeddings/token_type", axis=0)],
               "embeddings/add_token_type")
    x = g.layer_norm(x, "embeddings/layer_norm", h)

    heads_shape = g.init("shape.heads", [0, 0, nh, dh], np.int64)
    hidden_shape = g.init("shape.hidden", [0, 0, h], np.int64)
    scale = g.scalar("attention.scale", 1.0 / np.sqrt(dh))
    inv_sqrt2 = g.scalar("gelu.inv_sqrt2", 1.0 / np.sqrt(2.0))
    half, one = g.scalar("gelu.half", 0.5), g.scalar("gelu.one", 1.0)
    for i in range(BERT_LAYERS):
        p = f"encoder.{i}"

        def heads(t, name, perm):
            t = g.node("Reshape", [t, heads_shape], f"{p}/{name}/split_heads")
            return g.node("Transpose", [t], f"{p}/{name}/transpose", perm=perm)

        q = heads(g.linear(x, f"{p}/query", h, h, s), "query", [0, 2, 1, 3])  # [B, nh, S, dh]
        k = heads(g.linear(x, f"{p}/key", h, h, s), "key", [0, 2, 3, 1])  # [B, nh, dh, S]
        v = heads(g.linear(x, f"{p}/value", h, h, s), "value", [0, 2, 1, 3])
        scores = g.node("MatMul", [q, k], f"{p}/scores")
        g.flops += 2 * nh * s * s * dh
        scores = g.node("Mul", [scores, scale], f"{p}/scale")
        probs = g.node("Softmax", [scores], f"{p}/softmax", axis=-1)
        ctx = g.node("MatMul", [probs, v], f"{p}/context")
        g.flops += 2 * nh * s * s * dh
        ctx = g.node("Transpose", [ctx], f"{p}/context/transpose", perm=[0, 2, 1, 3])
        ctx = g.node("Reshape", [ctx, hidden_shape], f"{p}/context/merge_heads")
        y = g.linear(ctx, f"{p}/attention_output", h, h, s)
        x = g.layer_norm(g.node("Add", [y, x], f"{p}/attention_residual"),
                         f"{p}/attention_layer_norm", h)
        y = g.linear(x, f"{p}/intermediate", h, BERT_FFN, s)
        erf = g.node("Erf", [g.node("Mul", [y, inv_sqrt2], f"{p}/gelu/scale")], f"{p}/gelu/erf")
        gate = g.node("Mul", [g.node("Add", [erf, one], f"{p}/gelu/add_one"), half],
                      f"{p}/gelu/half")
        y = g.node("Mul", [y, gate], f"{p}/gelu/mul")
        y = g.linear(y, f"{p}/output", BERT_FFN, h, s)
        x = g.layer_norm(g.node("Add", [y, x], f"{p}/output_residual"),
                         f"{p}/output_layer_norm", h)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", s])]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                             ["batch", s, h])]
    return g, inputs, outputs


MLP_HIDDEN, MLP_LAYERS = 4096, 4


def mlp():
    g = Graph(SEED + 2)
    x = "input"
    for i in range(MLP_LAYERS):
        w = g.rng.normal(0.0, np.sqrt(2.0 / MLP_HIDDEN), size=(MLP_HIDDEN, MLP_HIDDEN))
        b = g.rng.uniform(-0.01, 0.01, MLP_HIDDEN)
        g.flops += 2 * MLP_HIDDEN * MLP_HIDDEN
        x = g.node("Gemm", [x, g.init(f"fc{i}.weight", w), g.init(f"fc{i}.bias", b)], f"fc{i}",
                   transB=1)
        if i + 1 < MLP_LAYERS:
            x = g.node("Relu", [x], f"relu{i}")
        else:
            g.nodes.append(helper.make_node("Relu", [x], ["output"], name=f"relu{i}"))
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", MLP_HIDDEN])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", MLP_HIDDEN])]
    return g, inputs, outputs


GPT2_SEQ, GPT2_HIDDEN, GPT2_HEADS, GPT2_FFN, GPT2_LAYERS = 512, 768, 12, 3072, 12


def gpt2_stack():
    g = Graph(SEED + 3)
    s, h, nh, dh = GPT2_SEQ, GPT2_HIDDEN, GPT2_HEADS, GPT2_HIDDEN // GPT2_HEADS
    heads_shape = g.init("shape.heads", [0, 0, nh, dh], np.int64)
    hidden_shape = g.init("shape.hidden", [0, 0, h], np.int64)
    qkv_split = g.init("shape.qkv_split", [h, h, h], np.int64)
    scale = g.scalar("attention.scale", 1.0 / np.sqrt(dh))
    # What torch.onnx writes for causal attention: 0 on and below the diagonal, -inf above,
    # added to the scaled scores (broadcast over batch and heads).
    mask = g.init("attention.causal_mask", np.triu(np.full((s, s), -np.inf, np.float32), k=1))
    three = g.scalar("gelu.three", 3.0)
    cubic = g.scalar("gelu.cubic", 0.044715)
    sqrt_2_over_pi = g.scalar("gelu.sqrt_2_over_pi", np.sqrt(2.0 / np.pi))
    half, one = g.scalar("gelu.half", 0.5), g.scalar("gelu.one", 1.0)
    x = "hidden"
    for i in range(GPT2_LAYERS):
        p = f"h.{i}"
        y = g.layer_norm(x, f"{p}/ln_1", h, epsilon=1e-5)
        qkv = g.linear(y, f"{p}/attn/c_attn", h, 3 * h, s)  # [B, S, 3H]
        parts = [f"{p}/attn/split_{n}" for n in "qkv"]
        g.nodes.append(helper.make_node("Split", [qkv, qkv_split], parts, name=f"{p}/attn/split",
                                        axis=-1))

        def heads(t, name, perm):
            t = g.node("Reshape", [t, heads_shape], f"{p}/attn/{name}/split_heads")
            return g.node("Transpose", [t], f"{p}/attn/{name}/transpose", perm=perm)

        q = heads(parts[0], "query", [0, 2, 1, 3])  # [B, nh, S, dh]
        k = heads(parts[1], "key", [0, 2, 3, 1])  # [B, nh, dh, S]
        v = heads(parts[2], "value", [0, 2, 1, 3])
        scores = g.node("MatMul", [q, k], f"{p}/attn/scores")
        g.flops += 2 * nh * s * s * dh
        scores = g.node("Mul", [scores, scale], f"{p}/attn/scale")
        scores = g.node("Add", [scores, mask], f"{p}/attn/causal_mask")
        probs = g.node("Softmax", [scores], f"{p}/attn/softmax", axis=-1)
        ctx = g.node("MatMul", [probs, v], f"{p}/attn/context")
        g.flops += 2 * nh * s * s * dh
        ctx = g.node("Transpose", [ctx], f"{p}/attn/context/transpose", perm=[0, 2, 1, 3])
        ctx = g.node("Reshape", [ctx, hidden_shape], f"{p}/attn/context/merge_heads")
        y = g.linear(ctx, f"{p}/attn/c_proj", h, h, s)
        x = g.node("Add", [x, y], f"{p}/attn_residual")
        y = g.layer_norm(x, f"{p}/ln_2", h, epsilon=1e-5)
        y = g.linear(y, f"{p}/mlp/c_fc", h, GPT2_FFN, s)
        cube = g.node("Pow", [y, three], f"{p}/mlp/gelu/pow")
        inner = g.node("Add", [y, g.node("Mul", [cube, cubic], f"{p}/mlp/gelu/mul_cubic")],
                       f"{p}/mlp/gelu/add")
        inner = g.node("Mul", [inner, sqrt_2_over_pi], f"{p}/mlp/gelu/mul_scale")
        gate = g.node("Add", [g.node("Tanh", [inner], f"{p}/mlp/gelu/tanh"), one],
                      f"{p}/mlp/gelu/add_one")
        y = g.node("Mul", [g.node("Mul", [y, half], f"{p}/mlp/gelu/half"), gate],
                   f"{p}/mlp/gelu/mul")
        y = g.linear(y, f"{p}/mlp/c_proj", GPT2_FFN, h, s)
        x = g.node("Add", [x, y], f"{p}/mlp_residual")
    x = g.layer_norm(x, "ln_f", h, epsilon=1e-5)
    g.nodes.append(helper.make_node("Identity", [x], ["output"], name="output"))
    inputs = [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", s, h])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", s, h])]
    return g, inputs, outputs


BUILDERS = {"resnet50": resnet50, "bert_base": bert_base, "mlp": mlp, "gpt2_stack": gpt2_stack}
ELEM_BYTES = {TensorProto.FLOAT: 4, TensorProto.INT64: 8, TensorProto.INT32: 4,
              TensorProto.BOOL: 1}


def activation_bytes(model, batch):
    """Bytes of the tensors the nodes produce at `batch`, from ONNX shape inference.

    Returns (all, live_peak): `all` is every node output summed, what an engine that gives each
    tensor its own buffer holds at once; `live_peak` is the largest sum of tensors alive at one
    node (a tensor lives from its producer to its last consumer; graph outputs to the end), the
    floor for a planner that reuses buffers without running nodes in place. Graph inputs and
    initializers are not counted.
    """
    inferred = shape_inference.infer_shapes(model)
    sizes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        t = vi.type.tensor_type
        n = ELEM_BYTES[t.elem_type]
        for d in t.shape.dim:
            n *= batch if d.dim_param == "batch" else d.dim_value
        sizes[vi.name] = n
    nodes = model.graph.node
    last_use = {}
    for i, nd in enumerate(nodes):
        for name in nd.input:
            last_use[name] = i
    for o in model.graph.output:
        last_use[o.name] = len(nodes)
    live, peak = 0, 0
    for i, nd in enumerate(nodes):
        live += sum(sizes[o] for o in nd.output)
        peak = max(peak, live)
        for name in set(nd.input) | set(nd.output):
            if name in sizes and last_use.get(name, i) <= i:
                live -= sizes[name]
    return sum(sizes[o] for nd in nodes for o in nd.output), peak


def build(name):
    g, inputs, outputs = BUILDERS[name]()
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="layerkit/bench/gen_models.py",
                              ir_version=IR_VERSION)
    model.doc_string = f"{name} with random weights (seed {SEED}) for layerkit's benchmark."
    onnx.checker.check_model(model)
    return model, g.flops


def describe(model, flops):
    def io(vi):
        t = vi.type.tensor_type
        return {"name": vi.name, "dtype": helper.tensor_dtype_to_np_dtype(t.elem_type).name,
                "shape": [d.dim_param or d.dim_value for d in t.shape.dim]}

    memory = {}
    for batch in (1, 8):
        total, peak = activation_bytes(model, batch)
        memory[str(batch)] = {"all_bytes": total, "live_peak_bytes": peak}
    return {"inputs": [io(vi) for vi in model.graph.input],
            "outputs": [io(vi) for vi in model.graph.output],
            "flops_per_sample": flops, "activation_memory": memory}


def verify(path, desc):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in desc["inputs"]:
        shape = [1 if d == "batch" else d for d in i["shape"]]
        if i["dtype"] == "int64":
            feeds[i["name"]] = rng.integers(0, BERT_VOCAB, shape, dtype=np.int64)
        else:
            feeds[i["name"]] = rng.uniform(-1, 1, shape).astype(np.float32)
    (y,) = sess.run(None, feeds)
    if not np.isfinite(y).all():
        sys.exit(f"verify: {path}: output is not finite")
    print(f"verify: {os.path.basename(path)} at batch 1: shape {list(y.shape)}, "
          f"mean {y.mean():.4g}, std {y.std():.4g}, max |y| {np.abs(y).max():.4g}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(root, "build", "bench_models"))
    ap.add_argument("--models", default=",".join(ALL_MODELS))
    ap.add_argument("--verify", action="store_true", help="run each model with onnxruntime")
    args = ap.parse_args()
    names = [m for m in args.models.split(",") if m]
    for m in names:
        if m not in BUILDERS:
            sys.exit(f"unknown model '{m}' (choose from {', '.join(ALL_MODELS)})")
    os.makedirs(args.out, exist_ok=True)
    sidecar = os.path.join(args.out, "models.json")
    info = {}
    if os.path.exists(sidecar):
        with open(sidecar) as f:
            info = json.load(f)
    for m in names:
        model, flops = build(m)
        path = os.path.join(args.out, m + ".onnx")
        data = model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        info[m] = describe(model, flops)
        info[m]["file"] = m + ".onnx"
        print(f"wrote {path}: {len(data) / 1e6:.1f} MB, {len(model.graph.node)} nodes, "
              f"{flops / 1e9:.3f} GFLOP per sample")
        if args.verify:
            verify(path, info[m])
    with open(sidecar, "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
    print(f"wrote {sidecar}")


if __name__ == "__main__":
    main()
