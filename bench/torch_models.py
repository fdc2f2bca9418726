"""PyTorch modules computing what bench/gen_models.py's ONNX models compute, on their weights.

ResNet-50, BERT-base, the GPT-2-style stack and the MLP are written as a PyTorch user would write
them (nn.Conv2d + nn.BatchNorm2d in eval mode, nn.Linear, nn.LayerNorm,
F.scaled_dot_product_attention as Hugging Face's models call it), and `load_onnx(name, path)`
fills them from the ONNX file's initializers by name. Loading fails on an initializer the module
does not take, a parameter no initializer fills, a shape mismatch, or a constant of the graph
(attention scale, GELU constants, causal mask, reshape targets, position ids) whose value differs
from what the module assumes: then the two sides would not compute the same function, and the
benchmark's comparison would mean nothing.

Needs torch and onnx (for reading the initializers); nothing here touches a GPU by itself.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

BERT_SEQ, BERT_HIDDEN, BERT_HEADS, BERT_FFN, BERT_LAYERS, BERT_VOCAB = 128, 768, 12, 3072, 12, 30522
GPT2_SEQ, GPT2_HIDDEN, GPT2_HEADS, GPT2_FFN, GPT2_LAYERS = 512, 768, 12, 3072, 12


class Bindings:
    """Which ONNX initializer fills which tensor of a module, and the constants a module assumes.

    `bind(name, tensor, transform)`: the initializer `name`, after `transform` (e.g. a transpose
    from ONNX's [in, out] to nn.Linear's [out, in]), is copied into `tensor`.
    `expect(name, value)`: the initializer `name` must equal `value` (exactly for integers, to
    float32 rounding for floats); the module hard-codes it.
    """

    def __init__(self):
        self.targets = {}  # name -> (tensor, transform)
        self.constants = {}  # name -> expected numpy value

    def bind(self, name, tensor, transform=None):
        if name in self.targets or name in self.constants:
            raise ValueError(f"initializer '{name}' bound twice")
        self.targets[name] = (tensor, transform)

    def linear(self, prefix, layer, stored_in_out=True):
        # Exported transformers store x @ W + b with W [in, out]; nn.Linear holds [out, in].
        self.bind(prefix + ".weight", layer.weight, np.transpose if stored_in_out else None)
        self.bind(prefix + ".bias", layer.bias)

    def layer_norm(self, prefix, layer):
        self.bind(prefix + ".weight", layer.weight)
        self.bind(prefix + ".bias", layer.bias)

    def expect(self, name, value):
        if name in self.targets or name in self.constants:
            raise ValueError(f"initializer '{name}' bound twice")
        self.constants[name] = np.asarray(value)


# --- ResNet-50 -----------------------------------------------------------------------------------


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = 4 * width
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-5)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=1e-5)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout, eps=1e-5))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(y + skip)

    def bindings(self, b, name):
        b.bind(f"{name}/conv1.weight", self.conv1.weight)
        bind_bn(b, f"{name}/bn1", self.bn1)
        b.bind(f"{name}/conv2.weight", self.conv2.weight)
        bind_bn(b, f"{name}/bn2", self.bn2)
        b.bind(f"{name}/conv3.weight", self.conv3.weight)
        bind_bn(b, f"{name}/bn3", self.bn3)
        if self.downsample is not None:
            b.bind(f"{name}/downsample.weight", self.downsample[0].weight)
            bind_bn(b, f"{name}/downsample_bn", self.downsample[1])


def bind_bn(b, name, bn):
    b.bind(name + ".scale", bn.weight)
    b.bind(name + ".bias", bn.bias)
    b.bind(name + ".mean", bn.running_mean)
    b.bind(name + ".var", bn.running_var)


class ResNet50(nn.Module):
    """torchvision's ResNet-50 layout: input [N, 3, 224, 224] -> logits [N, 1000]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        stages, cin = [], 64
        for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512)), start=1):
            layers = []
            for i in range(blocks):
                layers.append(Bottleneck(cin, width, 2 if i == 0 and stage > 1 else 1))
                cin = 4 * width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.fc = nn.Linear(2048, 1000)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for s in self.stages:
            x = s(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def bindings(self):
        b = Bindings()
        b.bind("conv1.weight", self.conv1.weight)
        bind_bn(b, "bn1", self.bn1)
        for stage, blocks in enumerate(self.stages, start=1):
            for i, block in enumerate(blocks):
                block.bindings(b, f"layer{stage}.{i}")
        # Gemm with transB=1: the weight is already [out, in].
        b.linear("fc", self.fc, stored_in_out=False)
        return b


# --- BERT-base -----------------------------------------------------------------------------------


def split_heads(t, heads):
    n, s, h = t.shape
    return t.view(n, s, heads, h // heads).transpose(1, 2)  # [N, heads, S, dh]


def merge_heads(t):
    n, heads, s, dh = t.shape
    return t.transpose(1, 2).reshape(n, s, heads * dh)


class BertLayer(nn.Module):
    def __init__(self):
        super().__init__()
        h = BERT_HIDDEN
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attention_output = nn.Linear(h, h)
        self.attention_layer_norm = nn.LayerNorm(h, eps=1e-12)
        self.intermediate = nn.Linear(h, BERT_FFN)
        self.output = nn.Linear(BERT_FFN, h)
        self.output_layer_norm = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x):
        q = split_heads(self.query(x), BERT_HEADS)
        k = split_heads(self.key(x), BERT_HEADS)
        v = split_heads(self.value(x), BERT_HEADS)
        # No mask; the default scale 1/sqrt(dh) is the graph's attention.scale (checked on load).
        ctx = merge_heads(F.scaled_dot_product_attention(q, k, v))
        x = self.attention_layer_norm(self.attention_output(ctx) + x)
        y = self.output(F.gelu(self.intermediate(x)))  # erf GELU
        return self.output_layer_norm(y + x)

    def bindings(self, b, p):
        for n in ("query", "key", "value", "attention_output", "intermediate", "output"):
            b.linear(f"{p}/{n}", getattr(self, n))
        b.layer_norm(f"{p}/attention_layer_norm", self.attention_layer_norm)
        b.layer_norm(f"{p}/output_layer_norm", self.output_layer_norm)


class BertBase(nn.Module):
    """BERT-base encoder: input_ids int64 [N, 128] -> last_hidden_state [N, 128, 768]."""

    def __init__(self):
        super().__init__()
        h = BERT_HIDDEN
        self.word = nn.Embedding(BERT_VOCAB, h)
        self.position = nn.Embedding(512, h)
        self.token_type = nn.Embedding(2, h)
        self.register_buffer("position_ids", torch.arange(BERT_SEQ), persistent=False)
        self.embeddings_layer_norm = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(BertLayer() for _ in range(BERT_LAYERS))

    def forward(self, input_ids):
        # Token type 0 everywhere, as the graph's constant token-type ids say.
        x = self.word(input_ids) + self.position(self.position_ids) + self.token_type.weight[0]
        x = self.embeddings_layer_norm(x)
        for layer in self.layers:
            x = layer(x)
        return x

    def bindings(self):
        b = Bindings()
        b.bind("embeddings.word", self.word.weight)
        b.bind("embeddings.position", self.position.weight)
        b.bind("embeddings.token_type", self.token_type.weight)
        b.expect("embeddings.position_ids", np.arange(BERT_SEQ, dtype=np.int64))
        b.expect("embeddings.token_type_ids", np.zeros(BERT_SEQ, dtype=np.int64))
        b.layer_norm("embeddings/layer_norm", self.embeddings_layer_norm)
        for i, layer in enumerate(self.layers):
            layer.bindings(b, f"encoder.{i}")
        dh = BERT_HIDDEN // BERT_HEADS
        b.expect("shape.heads", np.array([0, 0, BERT_HEADS, dh], np.int64))
        b.expect("shape.hidden", np.array([0, 0, BERT_HIDDEN], np.int64))
        b.expect("attention.scale", np.float32(1.0 / math.sqrt(dh)))
        b.expect("gelu.inv_sqrt2", np.float32(1.0 / math.sqrt(2.0)))
        b.expect("gelu.half", np.float32(0.5))
        b.expect("gelu.one", np.float32(1.0))
        return b


# --- GPT-2-style decoder stack -------------------------------------------------------------------


class Gpt2Block(nn.Module):
    def __init__(self):
        super().__init__()
        h = GPT2_HIDDEN
        self.ln_1 = nn.LayerNorm(h, eps=1e-5)
        self.c_attn = nn.Linear(h, 3 * h)
        self.attn_proj = nn.Linear(h, h)
        self.ln_2 = nn.LayerNorm(h, eps=1e-5)
        self.c_fc = nn.Linear(h, GPT2_FFN)
        self.mlp_proj = nn.Linear(GPT2_FFN, h)

    def forward(self, x):
        q, k, v = self.c_attn(self.ln_1(x)).split(GPT2_HIDDEN, dim=-1)
        ctx = F.scaled_dot_product_attention(split_heads(q, GPT2_HEADS),
                                             split_heads(k, GPT2_HEADS),
                                             split_heads(v, GPT2_HEADS), is_causal=True)
        x = x + self.attn_proj(merge_heads(ctx))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    def bindings(self, b, p):
        b.layer_norm(f"{p}/ln_1", self.ln_1)
        b.linear(f"{p}/attn/c_attn", self.c_attn)
        b.linear(f"{p}/attn/c_proj", self.attn_proj)
        b.layer_norm(f"{p}/ln_2", self.ln_2)
        b.linear(f"{p}/mlp/c_fc", self.c_fc)
        b.linear(f"{p}/mlp/c_proj", self.mlp_proj)


class Gpt2Stack(nn.Module):
    """12 GPT-2-small blocks and the final LayerNorm: hidden [N, 512, 768] -> output."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList(Gpt2Block() for _ in range(GPT2_LAYERS))
        self.ln_f = nn.LayerNorm(GPT2_HIDDEN, eps=1e-5)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)

    def bindings(self):
        b = Bindings()
        for i, block in enumerate(self.blocks):
            block.bindings(b, f"h.{i}")
        b.layer_norm("ln_f", self.ln_f)
        h, dh, s = GPT2_HIDDEN, GPT2_HIDDEN // GPT2_HEADS, GPT2_SEQ
        b.expect("shape.heads", np.array([0, 0, GPT2_HEADS, dh], np.int64))
        b.expect("shape.hidden", np.array([0, 0, h], np.int64))
        b.expect("shape.qkv_split", np.array([h, h, h], np.int64))
        # SDPA's default scale and is_causal=True are these two constants of the graph.
        b.expect("attention.scale", np.float32(1.0 / math.sqrt(dh)))
        b.expect("attention.causal_mask", np.triu(np.full((s, s), -np.inf, np.float32), k=1))
        # F.gelu(approximate="tanh") is 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))).
        b.expect("gelu.three", np.float32(3.0))
        b.expect("gelu.cubic", np.float32(0.044715))
        b.expect("gelu.sqrt_2_over_pi", np.float32(math.sqrt(2.0 / math.pi)))
        b.expect("gelu.half", np.float32(0.5))
        b.expect("gelu.one", np.float32(1.0))
        return b


# --- MLP (a quick smoke model of the benchmark) --------------------------------------------------


class Mlp(nn.Module):
    """4 x (Linear 4096 -> 4096 + ReLU): input [N, 4096] -> output [N, 4096]."""

    def __init__(self, hidden=4096, layers=4):
        super().__init__()
        self.fc = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))

    def forward(self, x):
        for fc in self.fc:
            x = F.relu(fc(x))
        return x

    def bindings(self):
        b = Bindings()
        for i, fc in enumerate(self.fc):
            b.linear(f"fc{i}", fc, stored_in_out=False)  # Gemm with transB=1
        return b


MODULES = {"resnet50": ResNet50, "bert_base": BertBase, "gpt2_stack": Gpt2Stack, "mlp": Mlp}


def read_initializers(path):
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def fill(module, bindings, initializers, label):
    """Copies the initializers into the module; raises ValueError on any mismatch."""
    problems = []
    unused = set(initializers) - set(bindings.targets) - set(bindings.constants)
    if unused:
        problems.append(f"{len(unused)} initializer(s) the module does not take: "
                        + ", ".join(sorted(unused)[:8]))
    missing = [n for n in list(bindings.targets) + list(bindings.constants)
               if n not in initializers]
    if missing:
        problems.append(f"{len(missing)} initializer(s) missing from the file: "
                        + ", ".join(missing[:8]))
    # Every parameter and buffer must be filled (BatchNorm's step counter is not used in eval).
    bound = {id(t) for t, _ in bindings.targets.values()}
    unfilled = [n for n, t in list(module.named_parameters()) + list(module.named_buffers())
                if id(t) not in bound and not n.endswith("num_batches_tracked")
                and not n.endswith("position_ids")]
    if unfilled:
        problems.append(f"{len(unfilled)} module tensor(s) no initializer fills: "
                        + ", ".join(unfilled[:8]))
    for name, expected in bindings.constants.items():
        if name not in initializers:
            continue
        got = initializers[name]
        same = got.shape == expected.shape and (
            np.array_equal(got, expected) if got.dtype.kind in "iub"
            else np.array_equal(got.astype(np.float32), expected.astype(np.float32)))
        if not same:
            problems.append(f"constant '{name}' is {got.dtype}{list(got.shape)} "
                            f"{np.ravel(got)[:4]}..., the module assumes "
                            f"{expected.dtype}{list(expected.shape)} {np.ravel(expected)[:4]}...")
    with torch.no_grad():
        for name, (tensor, transform) in bindings.targets.items():
            if name not in initializers:
                continue
            a = initializers[name]
            if transform is not None:
                a = transform(a)
            if tuple(a.shape) != tuple(tensor.shape):
                problems.append(f"'{name}' is {list(a.shape)} (after layout change), the module's "
                                f"tensor is {list(tensor.shape)}")
                continue
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(a)).to(tensor.dtype))
    if problems:
        raise ValueError(f"{label}: the ONNX file and the PyTorch module differ:\n  "
                         + "\n  ".join(problems))


def load_onnx(name, path):
    """The module for model `name` in eval mode, fp32 on the CPU, weights from the ONNX file."""
    if name not in MODULES:
        raise ValueError(f"no PyTorch module for '{name}' (have {', '.join(MODULES)})")
    module = MODULES[name]()
    fill(module, module.bindings(), read_initializers(path), f"{name} ({path})")
    return module.eval()
