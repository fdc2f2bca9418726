#!/usr/bin/env python3
"""Writes tests/onnx/data/exported/: small models with the subgraphs PyTorch's ONNX exporter
emits for values an op needs when the network is built, in the ONNX backend-test layout
(NAME/model.onnx, NAME/test_data_set_K/{input,output}_I.pb). Data sets 0, 1 and 2 are the min,
opt and max shapes of each model's profile; outputs are computed here by onnxruntime.

Run: python3 tests/onnx/data/gen_exported_models.py  (needs onnx, onnxruntime, numpy)
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exported")
INT64_MAX = 9223372036854775807
rng = np.random.default_rng(17)


def const(name, value):
    """A Constant node, as the exporter writes them (/Constant_output_0 style names)."""
    return helper.make_node("Constant", [], [name], name=name.replace("_output_0", ""),
                            value=numpy_helper.from_array(np.asarray(value), name))


def i64(*v):
    return np.array(v, dtype=np.int64)


def save(name, nodes, inputs, outputs, initializers, feeds, opset=17):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="pytorch-pattern")
    model.ir_version = 8
    onnx.checker.check_model(model)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "model.onnx"))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for k, feed in enumerate(feeds):
        sd = os.path.join(d, f"test_data_set_{k}")
        os.makedirs(sd)
        for i, vi in enumerate(inputs):
            t = numpy_helper.from_array(feed[vi.name], vi.name)
            open(os.path.join(sd, f"input_{i}.pb"), "wb").write(t.SerializeToString())
        results = sess.run(None, feed)
        for i, (vi, r) in enumerate(zip(outputs, results)):
            t = numpy_helper.from_array(r, vi.name)
            open(os.path.join(sd, f"output_{i}.pb"), "wb").write(t.SerializeToString())


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def flatten_reshape():
    """x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Cast -> Reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["/Shape_output_0"], name="/Shape"),
        const("/Constant_output_0", np.array(0, dtype=np.int64)),
        helper.make_node("Gather", ["/Shape_output_0", "/Constant_output_0"],
                         ["/Gather_output_0"], name="/Gather", axis=0),
        const("/Constant_1_output_0", i64(0)),
        helper.make_node("Unsqueeze", ["/Gather_output_0", "/Constant_1_output_0"],
                         ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        const("/Constant_2_output_0", i64(-1)),
        helper.make_node("Concat", ["/Unsqueeze_output_0", "/Constant_2_output_0"],
                         ["/Concat_output_0"], name="/Concat", axis=0),
        helper.make_node("Cast", ["/Concat_output_0"], ["/Cast_output_0"], name="/Cast",
                         to=TensorProto.INT64),
        helper.make_node("Reshape", ["x", "/Cast_output_0"], ["y"], name="/Reshape"),
    ]
    save("flatten_reshape", nodes,
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 4])],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 12])], [],
         [{"x": f32(b, 3, 4)} for b in (1, 2, 5)])


def embeddings(static):
    """BERT-style embeddings: position_ids[:, :seq] with seq from Shape -> Gather, a Slice whose
    end is the Unsqueeze of it."""
    vocab, max_pos, hidden = 20, 16, 4
    words = numpy_helper.from_array(f32(vocab, hidden), "m.embeddings.word_embeddings.weight")
    pos = numpy_helper.from_array(f32(max_pos, hidden), "m.embeddings.position_embeddings.weight")
    pos_ids = numpy_helper.from_array(np.arange(max_pos, dtype=np.int64)[None, :],
                                      "m.embeddings.position_ids")
    p = "/m/embeddings/"
    nodes = [
        helper.make_node("Shape", ["input_ids"], [p + "Shape_output_0"], name=p + "Shape"),
        const(p + "Constant_output_0", np.array(1, dtype=np.int64)),
        helper.make_node("Gather", [p + "Shape_output_0", p + "Constant_output_0"],
                         [p + "Gather_output_0"], name=p + "Gather", axis=0),
        const(p + "Constant_1_output_0", i64(0)),
        const(p + "Constant_2_output_0", i64(0)),
        helper.make_node("Unsqueeze", [p + "Gather_output_0", p + "Constant_2_output_0"],
                         [p + "Unsqueeze_output_0"], name=p + "Unsqueeze"),
        const(p + "Constant_3_output_0", i64(1)),
        const(p + "Constant_4_output_0", i64(1)),
        helper.make_node("Slice", ["m.embeddings.position_ids", p + "Constant_1_output_0",
                                   p + "Unsqueeze_output_0", p + "Constant_3_output_0",
                                   p + "Constant_4_output_0"],
                         [p + "Slice_output_0"], name=p + "Slice"),
        helper.make_node("Gather", ["m.embeddings.word_embeddings.weight", "input_ids"],
                         [p + "word_embeddings/Gather_output_0"],
                         name=p + "word_embeddings/Gather"),
        helper.make_node("Gather", ["m.embeddings.position_embeddings.weight",
                                    p + "Slice_output_0"],
                         [p + "position_embeddings/Gather_output_0"],
                         name=p + "position_embeddings/Gather"),
        helper.make_node("Add", [p + "word_embeddings/Gather_output_0",
                                 p + "position_embeddings/Gather_output_0"], ["y"],
                         name=p + "Add"),
    ]
    if static:
        dims, seqs = [2, 7], (7, 7, 7)
    else:
        dims, seqs = ["batch", "sequence"], (1, 5, 16)
    feeds = []
    for k, s in enumerate(seqs):
        b = 2 if static else (1, 2, 3)[k]
        feeds.append({"input_ids": rng.integers(0, vocab, (b, s)).astype(np.int64)})
    save("embeddings_static" if static else "embeddings_dynamic", nodes,
         [helper.make_tensor_value_info("input_ids", TensorProto.INT64, dims)],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 3)], [words, pos, pos_ids],
         feeds)


def f_pad(name, pad_nodes, pad_input, x_dims, feeds, mode="constant"):
    """F.pad(x, pad): the exporter's _prepare_onnx_paddings chain, ConstantOfShape -> Concat ->
    Reshape -> Slice -> Transpose -> Reshape -> Cast, over the pad list `pad_input`."""
    nodes = list(pad_nodes) + [
        const("/Constant_10_output_0", i64(4)),
        helper.make_node("ConstantOfShape", ["/Constant_10_output_0"],
                         ["/ConstantOfShape_output_0"], name="/ConstantOfShape",
                         value=numpy_helper.from_array(i64(0))),
        helper.make_node("Concat", [pad_input, "/ConstantOfShape_output_0"],
                         ["/Concat_1_output_0"], name="/Concat_1", axis=0),
        const("/Constant_11_output_0", i64(-1, 2)),
        helper.make_node("Reshape", ["/Concat_1_output_0", "/Constant_11_output_0"],
                         ["/Reshape_output_0"], name="/Reshape"),
        const("/Constant_12_output_0", i64(0)),
        const("/Constant_13_output_0", i64(-1)),
        const("/Constant_14_output_0", i64(-INT64_MAX)),
        const("/Constant_15_output_0", i64(-1)),
        helper.make_node("Slice", ["/Reshape_output_0", "/Constant_13_output_0",
                                   "/Constant_14_output_0", "/Constant_12_output_0",
                                   "/Constant_15_output_0"],
                         ["/Slice_output_0"], name="/Slice"),
        helper.make_node("Transpose", ["/Slice_output_0"], ["/Transpose_output_0"],
                         name="/Transpose", perm=[1, 0]),
        const("/Constant_16_output_0", i64(-1)),
        helper.make_node("Reshape", ["/Transpose_output_0", "/Constant_16_output_0"],
                         ["/Reshape_1_output_0"], name="/Reshape_1"),
        helper.make_node("Cast", ["/Reshape_1_output_0"], ["/Cast_output_0"], name="/Cast",
                         to=TensorProto.INT64),
        const("/Constant_17_output_0", np.array(0.5, dtype=np.float32)),
        helper.make_node("Pad", ["x", "/Cast_output_0", "/Constant_17_output_0"], ["y"],
                         name="/Pad", mode=mode),
    ]
    if mode != "constant":
        nodes[-1].input.pop()
    save(name, nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_dims)],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 4)], [], feeds)


def pads():
    # Constant pads (1, 2, 3, 0): folded at import whatever the input's dims.
    f_pad("pad_constant", [const("/Constant_output_0", i64(1, 2, 3, 0))], "/Constant_output_0",
          ["n", 2, "h", "w"], [{"x": f32(*s)} for s in ((1, 2, 1, 1), (2, 2, 3, 5), (3, 2, 6, 7))])
    # Pad the width up to a multiple of 4: (4 - w % 4) % 4 from Shape -> Gather, a run-time value.
    width = [
        helper.make_node("Shape", ["x"], ["/Shape_output_0"], name="/Shape"),
        const("/Constant_1_output_0", np.array(3, dtype=np.int64)),
        helper.make_node("Gather", ["/Shape_output_0", "/Constant_1_output_0"],
                         ["/Gather_output_0"], name="/Gather", axis=0),
        const("/Constant_2_output_0", np.array(4, dtype=np.int64)),
        helper.make_node("Mod", ["/Gather_output_0", "/Constant_2_output_0"], ["/Mod_output_0"],
                         name="/Mod"),
        helper.make_node("Sub", ["/Constant_2_output_0", "/Mod_output_0"], ["/Sub_output_0"],
                         name="/Sub"),
        helper.make_node("Mod", ["/Sub_output_0", "/Constant_2_output_0"], ["/Mod_1_output_0"],
                         name="/Mod_1"),
        const("/Constant_3_output_0", i64(0)),
        helper.make_node("Unsqueeze", ["/Mod_1_output_0", "/Constant_3_output_0"],
                         ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        const("/Constant_4_output_0", i64(0, 1, 0)),
        helper.make_node("Concat", ["/Constant_4_output_0", "/Unsqueeze_output_0"],
                         ["/Concat_output_0"], name="/Concat", axis=0),
    ]
    # (left, right, top, bottom) = (0, pad_w, 1, 0) after the concat: [0, 1, 0, pad_w] is
    # reordered by the chain below into ONNX's begin/end layout.
    shapes = ((1, 2, 2, 1), (2, 2, 3, 6), (2, 2, 5, 9))
    f_pad("pad_to_multiple", width, "/Concat_output_0", ["n", 2, "h", "w"],
          [{"x": f32(*s)} for s in shapes])
    f_pad("pad_to_multiple_reflect", width, "/Concat_output_0", ["n", 2, "h", "w"],
          [{"x": f32(*s)} for s in ((1, 2, 2, 4), (2, 2, 3, 6), (2, 2, 5, 9))], mode="reflect")


def interpolate():
    """F.interpolate(x, size=(6, 8)): sizes = Concat(Shape(x)[0:2], (6, 8)); and
    F.interpolate(x, scale_factor=2) exported with sizes = Shape(x)[2:4] * 2, a run-time value."""
    head = [
        helper.make_node("Shape", ["x"], ["/Shape_output_0"], name="/Shape"),
        const("/Constant_output_0", i64(0)),
        const("/Constant_1_output_0", i64(2)),
        helper.make_node("Slice", ["/Shape_output_0", "/Constant_output_0",
                                   "/Constant_1_output_0", "/Constant_output_0"],
                         ["/Slice_output_0"], name="/Slice"),
    ]
    fixed = head + [
        const("/Constant_2_output_0", i64(6, 8)),
        helper.make_node("Concat", ["/Slice_output_0", "/Constant_2_output_0"],
                         ["/Concat_output_0"], name="/Concat", axis=0),
        helper.make_node("Resize", ["x", "", "", "/Concat_output_0"], ["y"], name="/Resize",
                         mode="linear", coordinate_transformation_mode="pytorch_half_pixel",
                         nearest_mode="floor"),
    ]
    shapes = ((1, 3, 2, 3), (2, 3, 4, 4), (3, 3, 5, 9))
    save("interpolate_size", fixed,
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 4)], [],
         [{"x": f32(*s)} for s in shapes])
    doubled = head + [
        const("/Constant_3_output_0", i64(4)),
        helper.make_node("Slice", ["/Shape_output_0", "/Constant_1_output_0",
                                   "/Constant_3_output_0", "/Constant_output_0"],
                         ["/Slice_1_output_0"], name="/Slice_1"),
        const("/Constant_4_output_0", i64(2)),
        helper.make_node("Mul", ["/Slice_1_output_0", "/Constant_4_output_0"], ["/Mul_output_0"],
                         name="/Mul"),
        helper.make_node("Concat", ["/Slice_output_0", "/Mul_output_0"], ["/Concat_output_0"],
                         name="/Concat", axis=0),
        helper.make_node("Resize", ["x", "", "", "/Concat_output_0"], ["y"], name="/Resize",
                         mode="nearest", coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor"),
    ]
    save("interpolate_double", doubled,
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
         [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * 4)], [],
         [{"x": f32(*s)} for s in shapes])


def bitwise():
    """x & y, x | y, x ^ y, ~x on int32 and uint8 (opset 18)."""
    nodes = [
        helper.make_node("BitwiseAnd", ["a", "b"], ["and"]),
        helper.make_node("BitwiseOr", ["a", "b"], ["or"]),
        helper.make_node("BitwiseXor", ["a", "b"], ["xor"]),
        helper.make_node("BitwiseNot", ["a"], ["not"]),
        helper.make_node("BitwiseNot", ["u"], ["unot"]),
        helper.make_node("BitwiseAnd", ["u", "u"], ["uand"]),
    ]
    ins = [helper.make_tensor_value_info("a", TensorProto.INT32, ["n", 4]),
           helper.make_tensor_value_info("b", TensorProto.INT32, [1, 4]),
           helper.make_tensor_value_info("u", TensorProto.UINT8, ["n", 4])]
    outs = [helper.make_tensor_value_info(o, t, [None] * 2) for o, t in
            (("and", TensorProto.INT32), ("or", TensorProto.INT32), ("xor", TensorProto.INT32),
             ("not", TensorProto.INT32), ("unot", TensorProto.UINT8), ("uand", TensorProto.UINT8))]
    feeds = [{"a": rng.integers(-2**31, 2**31 - 1, (n, 4)).astype(np.int32),
              "b": rng.integers(-2**31, 2**31 - 1, (1, 4)).astype(np.int32),
              "u": rng.integers(0, 256, (n, 4)).astype(np.uint8)} for n in (1, 3, 6)]
    save("bitwise", nodes, ins, outs, [], feeds, opset=18)


def topk_half():
    """x.topk(x.size(-1) // 2): K from Shape -> Gather -> Div -> Unsqueeze, a run-time value."""
    nodes = [
        helper.make_node("Shape", ["x"], ["/Shape_output_0"], name="/Shape"),
        const("/Constant_output_0", np.array(1, dtype=np.int64)),
        helper.make_node("Gather", ["/Shape_output_0", "/Constant_output_0"],
                         ["/Gather_output_0"], name="/Gather", axis=0),
        const("/Constant_1_output_0", np.array(2, dtype=np.int64)),
        helper.make_node("Div", ["/Gather_output_0", "/Constant_1_output_0"], ["/Div_output_0"],
                         name="/Div"),
        const("/Constant_2_output_0", i64(0)),
        helper.make_node("Unsqueeze", ["/Div_output_0", "/Constant_2_output_0"],
                         ["/Unsqueeze_output_0"], name="/Unsqueeze"),
        helper.make_node("TopK", ["x", "/Unsqueeze_output_0"], ["values", "indices"],
                         name="/TopK", axis=-1, largest=1, sorted=1),
    ]
    # Distinct values, so the indices are unique.
    feeds = [{"x": rng.permutation(n * w).reshape(n, w).astype(np.float32)}
             for n, w in ((1, 2), (2, 6), (3, 11))]
    save("topk_half", nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "w"])],
         [helper.make_tensor_value_info("values", TensorProto.FLOAT, [None] * 2),
          helper.make_tensor_value_info("indices", TensorProto.INT64, [None] * 2)], [], feeds)


if __name__ == "__main__":
    topk_half()
    flatten_reshape()
    embeddings(static=True)
    embeddings(static=False)
    pads()
    interpolate()
    bitwise()
