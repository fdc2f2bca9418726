#!/usr/bin/env python3
"""Writes models/default_cnn.onnx, the small ResNet-style CNN that `layerkit run` embeds.

The network: input "input" float32 [batch, 3, 32, 32] -> stem Conv3x3(16) + BatchNormalization
+ Relu -> MaxPool 2x2 -> three basic residual blocks (16, 32/2, 64/2; a 1x1 conv + BN projects
the skip where the shape changes) -> GlobalAveragePool -> Flatten -> Gemm(10, transB=1) ->
Softmax(axis=1) -> output "probabilities" [batch, 10]. Opset 13, weights from a fixed seed, so
rerunning the script reproduces the checked-in file byte for byte.

Usage: scripts/gen_default_model.py [--output PATH] [--verify]
  --verify  also runs the model with onnxruntime at batch 1 and 3 (needs the onnxruntime package)
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
# IR version 8 goes with opset 13 and is read by older onnx/protobuf releases too.
IR_VERSION = 8
SEED = 20240601
NUM_CLASSES = 10


class Graph:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []

    def init(self, name, array):
        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = name + "_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, name, cin, cout, k, stride):
        # He initialisation keeps activations in a useful range through the blocks.
        w = self.rng.normal(0.0, np.sqrt(2.0 / (cin * k * k)), size=(cout, cin, k, k))
        return self.node("Conv", [x, self.init(name + ".weight", w)], name,
                         kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4)

    def bn(self, x, name, c):
        # Non-trivial statistics, so an importer that drops or misreads one of them shows.
        scale = self.rng.uniform(0.5, 1.5, c)
        bias = self.rng.uniform(-0.2, 0.2, c)
        mean = self.rng.uniform(-0.2, 0.2, c)
        var = self.rng.uniform(0.5, 1.5, c)
        names = [self.init(f"{name}.{p}", a)
                 for p, a in (("scale", scale), ("bias", bias), ("mean", mean), ("var", var))]
        return self.node("BatchNormalization", [x] + names, name, epsilon=1e-5)

    def block(self, x, name, cin, cout, stride):
        y = self.conv(x, f"{name}/conv1", cin, cout, 3, stride)
        y = self.node("Relu", [self.bn(y, f"{name}/bn1", cout)], f"{name}/relu1")
        y = self.bn(self.conv(y, f"{name}/conv2", cout, cout, 3, 1), f"{name}/bn2", cout)
        skip = x
        if stride != 1 or cin != cout:
            skip = self.bn(self.conv(x, f"{name}/proj", cin, cout, 1, stride),
                           f"{name}/proj_bn", cout)
        return self.node("Relu", [self.node("Add", [y, skip], f"{name}/add")], f"{name}/relu2")


def build_model():
    g = Graph(SEED)
    x = g.conv("input", "stem/conv", 3, 16, 3, 1)
    x = g.node("Relu", [g.bn(x, "stem/bn", 16)], "stem/relu")
    x = g.node("MaxPool", [x], "stem/pool", kernel_shape=[2, 2], strides=[2, 2])
    x = g.block(x, "block1", 16, 16, 1)
    x = g.block(x, "block2", 16, 32, 2)
    x = g.block(x, "block3", 32, 64, 2)
    x = g.node("GlobalAveragePool", [x], "head/gap")
    x = g.node("Flatten", [x], "head/flatten", axis=1)
    # Small head weights keep the logits within a few units, so the softmax does not saturate.
    w = g.rng.normal(0.0, 0.02, size=(NUM_CLASSES, 64))
    b = g.rng.uniform(-0.1, 0.1, NUM_CLASSES)
    x = g.node("Gemm", [x, g.init("head/fc.weight", w), g.init("head/fc.bias", b)], "head/fc",
               transB=1)
    g.nodes.append(helper.make_node("Softmax", [x], ["probabilities"], name="head/softmax",
                                    axis=1))
    graph = helper.make_graph(
        g.nodes, "default_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT,
                                       ["batch", NUM_CLASSES])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="layerkit/scripts/gen_default_model.py",
                              ir_version=IR_VERSION)
    model.doc_string = "Small ResNet-style CNN (random weights) for layerkit run's default model."
    onnx.checker.check_model(model, full_check=True)
    return model


def verify(path):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch in (1, 3):
        x = rng.uniform(-1, 1, (batch, 3, 32, 32)).astype(np.float32)
        (y,) = sess.run(["probabilities"], {"input": x})
        if y.shape != (batch, NUM_CLASSES):
            sys.exit(f"verify: batch {batch}: output shape {y.shape}")
        if not np.allclose(y.sum(axis=1), 1.0, atol=1e-5) or (y < 0).any():
            sys.exit(f"verify: batch {batch}: rows are not probabilities: {y}")
        # Distinct inputs must give distinct outputs, or the network collapsed to a constant.
        if batch > 1 and np.allclose(y[0], y[1], atol=1e-6):
            sys.exit(f"verify: batch {batch}: different inputs give the same output")
    print(f"verify: onnxruntime {ort.__version__} runs {path} at batch 1 and 3")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=os.path.join(root, "models", "default_cnn.onnx"))
    ap.add_argument("--verify", action="store_true", help="run the model with onnxruntime")
    args = ap.parse_args()
    model = build_model()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    data = model.SerializeToString()
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"wrote {args.output}: {len(data)} bytes, {len(model.graph.node)} nodes")
    if args.verify:
        verify(args.output)


if __name__ == "__main__":
    main()
