"""Writes tests/models/, the exported-model corpus that `layerkit conformance` runs in CI.

Tiny random-weight PyTorch models, each exported by both ONNX exporters, in the ONNX backend-test
layout (NAME_ts/ and NAME_dynamo/: model.onnx, test_data_set_0/ and test_data_set_1/ with
input_I.pb / output_I.pb), with PyTorch's own outputs as the references.

Needs PyTorch, which CI never installs; in a virtual environment outside the repository:
  python3 -m venv VENV && VENV/bin/pip install torch torchvision transformers onnx onnxscript numpy
Run:  VENV/bin/python tests/models/export.py [NAME ...]   (all models without NAMEs)
The checked-in corpus was written with torch 2.15.0, torchvision 0.29.2, transformers 5.25.0,
onnx 1.23.2 and onnxscript 0.7.2; other versions export other graphs.

Every model is built from its configuration (nothing is downloaded), seeded, in eval mode, and
exported twice: the TorchScript exporter (dynamo=False, opset 17, dynamic_axes) and the
torch.export-based one (dynamo=True, opset 18, dynamic_shapes). Batch, and sequence length
where a model has one, are dynamic; data sets 0 and 1 are at two different shapes. Weights
are stored inside model.onnx. A model one exporter cannot export is written by the other only;
the run prints each such failure and ends with their count.
"""
import os
import shutil
import sys
import tempfile
import traceback
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

OUT = os.path.dirname(os.path.abspath(__file__))
TS_OPSET = 17
DYNAMO_OPSET = 18
SEED = 0

warnings.filterwarnings("ignore")


class Spec:
    """One model: `build()` gives the module; `inputs(k)` the inputs of data set k (0, 1) and of
    the export example (2); `dyn` per input which axes are dynamic and their names."""

    def __init__(self, name, build, inputs, input_names, output_names, dyn):
        self.name = name
        self.build = build
        self.inputs = inputs
        self.input_names = input_names
        self.output_names = output_names
        self.dyn = dyn


SPECS = []


def model(name, input_names, output_names, dyn):
    def register(fn):
        build, inputs = fn()
        SPECS.append(Spec(name, build, inputs, input_names, output_names, dyn))
        return fn

    return register


def gen(k):
    """The generator of data set k: inputs differ between sets and do not depend on the order
    in which models are built."""
    g = torch.Generator()
    g.manual_seed(1000 + k)
    return g


# (batch, sequence) of data sets 0 and 1 and of the example the exporters trace with. The
# example avoids 1, which torch.export would specialize.
BATCH = [1, 3, 2]
SEQ = [8, 13, 10]


def images(k, channels=3, size=32):
    return (torch.randn(BATCH[k], channels, size, size, generator=gen(k)),)


def tokens(k, vocab=100, mask=True):
    g = gen(k)
    ids = torch.randint(3, vocab, (BATCH[k], SEQ[k]), generator=g)
    if not mask:
        return (ids,)
    am = torch.ones(BATCH[k], SEQ[k], dtype=torch.int64)
    # Right padding on every row but the first, as a padded batch has it.
    for b in range(1, BATCH[k]):
        am[b, SEQ[k] - 2 * b:] = 0
    return ids, am


BS = {0: "batch"}
BS_SEQ = {0: "batch", 1: "seq"}


class Out(nn.Module):
    """Wraps a Hugging Face model so that it returns plain tensors."""

    def __init__(self, m, field):
        super().__init__()
        self.m = m
        self.field = field

    def forward(self, x):
        return getattr(self.m(x), self.field)


class MaskedOut(nn.Module):
    """input_ids + attention_mask by keyword (models whose second positional arg is another)."""

    def __init__(self, m, field):
        super().__init__()
        self.m = m
        self.field = field

    def forward(self, input_ids, attention_mask):
        return getattr(self.m(input_ids=input_ids, attention_mask=attention_mask), self.field)


# ---------------------------------------------------------------- CNNs

@model("resnet18", ["x"], ["logits"], [BS])
def _():
    from torchvision.models.resnet import ResNet, BasicBlock

    class TinyResNet18(ResNet):
        """torchvision's ResNet-18 (BasicBlock, [2, 2, 2, 2]) with widths 8-64 instead of
        64-512: the same graph, 1/64 of the weights."""

        def __init__(self):
            super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=10)
            norm = self._norm_layer
            self.inplanes = 8
            self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = norm(8)
            self.layer1 = self._make_layer(BasicBlock, 8, 2)
            self.layer2 = self._make_layer(BasicBlock, 16, 2, stride=2)
            self.layer3 = self._make_layer(BasicBlock, 32, 2, stride=2)
            self.layer4 = self._make_layer(BasicBlock, 64, 2, stride=2)
            self.fc = nn.Linear(64, 10)

    return TinyResNet18, lambda k: images(k)


@model("mobilenet_v3_small", ["x"], ["logits"], [BS])
def _():
    from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

    def build():
        setting, last = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25, reduced_tail=True)
        return MobileNetV3(setting, last, num_classes=10)

    return build, lambda k: images(k)


@model("efficientnet_b0", ["x"], ["logits"], [BS])
def _():
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    def build():
        setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
        return EfficientNet(setting, dropout=0.2, last_channel=last, num_classes=10)

    return build, lambda k: images(k)


@model("convnext_tiny", ["x"], ["logits"], [BS])
def _():
    from torchvision.models.convnext import ConvNeXt, CNBlockConfig

    def build():
        # ConvNeXt-T's four stages (3, 3, 9, 3 blocks of 96-768 channels) at 8-64 channels.
        cfg = [CNBlockConfig(8, 16, 1), CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 2),
               CNBlockConfig(64, None, 1)]
        return ConvNeXt(cfg, stochastic_depth_prob=0.0, num_classes=10)

    return build, lambda k: images(k)


@model("regnet_y", ["x"], ["logits"], [BS])
def _():
    from torchvision.models.regnet import RegNet, BlockParams

    def build():
        # RegNetY (squeeze-excitation, grouped convolutions) with 4 blocks of 8-32 channels.
        params = BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8,
                                              se_ratio=0.25)
        return RegNet(params, num_classes=10, stem_width=8)

    return build, lambda k: images(k)


# ---------------------------------------------------------------- transformers

def small(cls, **kw):
    kw.setdefault("attn_implementation", "eager")
    return cls(**kw)


@model("bert", ["input_ids", "attention_mask"], ["last_hidden_state"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import BertConfig, BertModel

    def build():
        cfg = small(BertConfig, vocab_size=100, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
        return MaskedOut(BertModel(cfg, add_pooling_layer=False), "last_hidden_state")

    return build, tokens


@model("distilbert", ["input_ids", "attention_mask"], ["last_hidden_state"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import DistilBertConfig, DistilBertModel

    def build():
        cfg = small(DistilBertConfig, vocab_size=100, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                    max_position_embeddings=64)
        return MaskedOut(DistilBertModel(cfg), "last_hidden_state")

    return build, tokens


@model("roberta", ["input_ids", "attention_mask"], ["last_hidden_state"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import RobertaConfig, RobertaModel

    def build():
        cfg = small(RobertaConfig, vocab_size=100, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=2, intermediate_size=64, max_position_embeddings=66,
                    pad_token_id=1)
        return MaskedOut(RobertaModel(cfg, add_pooling_layer=False), "last_hidden_state")

    return build, tokens


class CausalLM(nn.Module):
    """A decoder-only LM without the key/value cache: logits of every position."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


@model("gpt2", ["input_ids", "attention_mask"], ["logits"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import GPT2Config, GPT2LMHeadModel

    def build():
        cfg = small(GPT2Config, vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=2)
        return CausalLM(GPT2LMHeadModel(cfg))

    return build, tokens


@model("llama", ["input_ids", "attention_mask"], ["logits"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import LlamaConfig, LlamaForCausalLM

    def build():
        # Rotary embeddings, RMSNorm, SwiGLU, grouped-query attention (4 query, 2 KV heads).
        cfg = small(LlamaConfig, vocab_size=100, hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=64)
        return CausalLM(LlamaForCausalLM(cfg))

    return build, tokens


@model("t5_encoder", ["input_ids", "attention_mask"], ["last_hidden_state"], [BS_SEQ, BS_SEQ])
def _():
    from transformers import T5Config, T5EncoderModel

    def build():
        cfg = small(T5Config, vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                    num_heads=4, relative_attention_num_buckets=8,
                    relative_attention_max_distance=16)
        return MaskedOut(T5EncoderModel(cfg), "last_hidden_state")

    return build, tokens


@model("vit", ["pixel_values"], ["last_hidden_state"], [BS])
def _():
    from transformers import ViTConfig, ViTModel

    def build():
        cfg = small(ViTConfig, image_size=32, patch_size=8, num_channels=3, hidden_size=32,
                    num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
        return Out(ViTModel(cfg, add_pooling_layer=False), "last_hidden_state")

    return build, lambda k: images(k)


@model("swin", ["pixel_values"], ["last_hidden_state"], [BS])
def _():
    from transformers import SwinConfig, SwinModel

    def build():
        # Two stages (shifted windows in the second block of each, patch merging between).
        cfg = small(SwinConfig, image_size=32, patch_size=2, num_channels=3, embed_dim=16,
                    depths=[2, 2], num_heads=[2, 4], window_size=4, mlp_ratio=2.0)
        return Out(SwinModel(cfg, add_pooling_layer=False), "last_hidden_state")

    return build, lambda k: images(k)


@model("detr", ["pixel_values"], ["last_hidden_state"], [BS])
def _():
    from transformers import DetrConfig, DetrModel, ResNetConfig

    class Detr(nn.Module):
        """DetrModel (ResNet backbone of transformers, sine position embeddings, encoder and
        decoder with object queries) on an all-valid pixel mask."""

        def __init__(self):
            super().__init__()
            backbone = ResNetConfig(num_channels=3, embedding_size=8, hidden_sizes=[8, 16, 24, 32],
                                    depths=[1, 1, 1, 1], layer_type="basic",
                                    out_features=["stage4"])
            cfg = small(DetrConfig, use_timm_backbone=False, use_pretrained_backbone=False,
                        backbone_config=backbone, d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2,
                        encoder_ffn_dim=64, decoder_ffn_dim=64, num_queries=10)
            self.m = DetrModel(cfg)

        def forward(self, pixel_values):
            return self.m(pixel_values=pixel_values).last_hidden_state

    return Detr, lambda k: images(k, size=64)


@model("nn_transformer", ["src", "tgt"], ["y"], [{0: "src_len", 1: "batch"}, {0: "tgt_len", 1: "batch"}])
def _():
    class EncDec(nn.Module):
        """torch.nn.Transformer (DETR's encoder-decoder) with a causal target mask."""

        def __init__(self):
            super().__init__()
            self.t = nn.Transformer(d_model=32, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                                    dim_feedforward=64, dropout=0.0)

        def forward(self, src, tgt):
            n = tgt.shape[0]
            mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
            # tgt_is_causal says what the mask is; left to be detected, the check reads the
            # mask's values, which torch.export cannot guard on.
            return self.t(src, tgt, tgt_mask=mask, tgt_is_causal=True)

    def inputs(k):
        g = gen(k)
        return (torch.randn(SEQ[k], BATCH[k], 32, generator=g),
                torch.randn(SEQ[k] - 3, BATCH[k], 32, generator=g))

    return EncDec, inputs


# ---------------------------------------------------------------- audio

@model("whisper_encoder", ["input_features"], ["last_hidden_state"], [BS])
def _():
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    def build():
        # The encoder insists on 2 * max_source_positions frames: the length is fixed.
        cfg = small(WhisperConfig, num_mel_bins=16, d_model=32, encoder_layers=2,
                    encoder_attention_heads=2, encoder_ffn_dim=64, max_source_positions=16)
        return Out(WhisperEncoder(cfg), "last_hidden_state")

    return build, lambda k: (torch.randn(BATCH[k], 16, 32, generator=gen(k)),)


@model("wav2vec2", ["input_values"], ["last_hidden_state"], [{0: "batch", 1: "samples"}])
def _():
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    def build():
        # Convolutional feature encoder (group norm), convolutional position embedding
        # (weight norm), 2 transformer layers.
        cfg = small(Wav2Vec2Config, vocab_size=32, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16, 16),
                    conv_stride=(5, 2, 2), conv_kernel=(10, 3, 3), num_conv_pos_embeddings=16,
                    num_conv_pos_embedding_groups=4, feat_extract_norm="group")
        return Out(Wav2Vec2Model(cfg), "last_hidden_state")

    samples = [400, 720, 560]
    return build, lambda k: (torch.randn(BATCH[k], samples[k], generator=gen(k)),)


# ---------------------------------------------------------------- segmentation

class UNet(nn.Module):
    """A two-level U-Net: conv-BN-ReLU pairs, max-pool down, transposed-convolution up,
    skip connections concatenated."""

    @staticmethod
    def pair(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def __init__(self, cin=3, classes=2, w=8):
        super().__init__()
        self.d1, self.d2, self.mid = self.pair(cin, w), self.pair(w, 2 * w), self.pair(2 * w, 4 * w)
        self.u2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.c2 = self.pair(4 * w, 2 * w)
        self.u1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.c1 = self.pair(2 * w, w)
        self.head = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        s1 = self.d1(x)
        s2 = self.d2(F.max_pool2d(s1, 2))
        m = self.mid(F.max_pool2d(s2, 2))
        y = self.c2(torch.cat([self.u2(m), s2], 1))
        y = self.c1(torch.cat([self.u1(y), s1], 1))
        return self.head(y)


@model("unet", ["x"], ["y"], [BS])
def _():
    return UNet, lambda k: images(k)


@model("deeplabv3", ["x"], ["out"], [BS])
def _():
    from torchvision.models.mobilenetv3 import mobilenet_v3_large
    from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
    from torchvision.models._utils import IntermediateLayerGetter

    class DeepLab(nn.Module):
        """deeplabv3_mobilenet_v3_large's graph from torchvision's parts at small widths: dilated
        MobileNetV3-Large (width 0.25, reduced tail) up to C5 (output stride 16), an ASPP of 16
        channels (rates 12, 24, 36, image pooling), bilinear upsampling to the input size."""

        def __init__(self):
            super().__init__()
            features = mobilenet_v3_large(weights=None, weights_backbone=None, width_mult=0.25,
                                          reduced_tail=True, dilated=True).features
            out_pos = len(features) - 1
            cin = features[out_pos].out_channels
            head = nn.Sequential(ASPP(cin, [12, 24, 36], out_channels=16),
                                 nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                 nn.ReLU(), nn.Conv2d(16, 3, 1))
            self.m = DeepLabV3(IntermediateLayerGetter(features, {str(out_pos): "out"}), head)

        def forward(self, x):
            return self.m(x)["out"]

    return DeepLab, lambda k: images(k, size=64)


# ---------------------------------------------------------------- functional ops

def feature_maps(k, c=3, hw=((6, 7), (9, 5), (8, 6))):
    h, w = hw[k]
    return (torch.randn(BATCH[k], c, h, w, generator=gen(k)),)


BCHW = {0: "batch", 2: "height", 3: "width"}


@model("f_pad", ["x"], ["constant", "reflect", "replicate", "circular"], [BCHW])
def _():
    class Pads(nn.Module):
        def forward(self, x):
            return (F.pad(x, (1, 2, 0, 3), mode="constant", value=0.5),
                    F.pad(x, (2, 1, 1, 2), mode="reflect"),
                    F.pad(x, (1, 3, 2, 0), mode="replicate"),
                    F.pad(x, (2, 2, 1, 1), mode="circular"))

    return Pads, feature_maps


@model("f_interpolate", ["x"], ["size_bilinear", "scale_nearest", "scale_bilinear"], [BCHW])
def _():
    class Interp(nn.Module):
        def forward(self, x):
            return (F.interpolate(x, size=(12, 10), mode="bilinear", align_corners=False),
                    F.interpolate(x, scale_factor=2.0, mode="nearest"),
                    F.interpolate(x, scale_factor=(1.5, 2.0), mode="bilinear", align_corners=True))

    return Interp, feature_maps


@model("f_embedding_bag", ["indices"], ["y"], [BS_SEQ])
def _():
    class Bag(nn.Module):
        """F.embedding_bag in mean mode over each row of a 2-D index tensor."""

        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(50, 16))

        def forward(self, indices):
            return F.embedding_bag(indices, self.weight, mode="mean")

    return Bag, lambda k: (torch.randint(0, 50, (BATCH[k], SEQ[k]), generator=gen(k)),)


@model("f_roll", ["x"], ["y"], [BCHW])
def _():
    class Roll(nn.Module):
        def forward(self, x):
            return torch.roll(x, shifts=(1, -2), dims=(2, 3))

    return Roll, feature_maps


@model("f_flip", ["x"], ["y"], [BCHW])
def _():
    class Flip(nn.Module):
        def forward(self, x):
            return torch.flip(x, dims=[2, 3])

    return Flip, feature_maps


@model("f_indexing", ["x", "pos"], ["columns", "picked"], [{0: "batch", 1: "seq"}, {0: "batch"}])
def _():
    class Index(nn.Module):
        """x[:, idx] with a constant index list and x[arange(B), pos] with a run-time one."""

        def __init__(self):
            super().__init__()
            self.register_buffer("idx", torch.tensor([0, 2, 1, 4]))

        def forward(self, x, pos):
            return x[:, self.idx], x[torch.arange(x.shape[0]), pos]

    def inputs(k):
        g = gen(k)
        return (torch.randn(BATCH[k], SEQ[k], 4, generator=g),
                torch.randint(0, SEQ[k], (BATCH[k],), generator=g))

    return Index, inputs


@model("f_masked_fill", ["x", "mask"], ["y"], [BS_SEQ, BS_SEQ])
def _():
    class MaskedFill(nn.Module):
        """Attention-style masking: masked_fill by a boolean input, then softmax."""

        def forward(self, x, mask):
            return torch.softmax(x.masked_fill(mask, -1e4).masked_fill(x > 2.0, 0.0), dim=-1)

    def inputs(k):
        g = gen(k)
        return (torch.randn(BATCH[k], SEQ[k], generator=g),
                torch.rand(BATCH[k], SEQ[k], generator=g) > 0.7)

    return MaskedFill, inputs


@model("f_where", ["x", "y"], ["z"], [BS_SEQ, BS_SEQ])
def _():
    class Where(nn.Module):
        def forward(self, x, y):
            return torch.where(x > 0, x * y, torch.where(y > x, y, -x))

    def inputs(k):
        g = gen(k)
        return (torch.randn(BATCH[k], SEQ[k], generator=g),
                torch.randn(BATCH[k], SEQ[k], generator=g))

    return Where, inputs


@model("f_cumsum", ["x"], ["along_seq", "along_last"], [BS_SEQ])
def _():
    class CumSum(nn.Module):
        def forward(self, x):
            return torch.cumsum(x, dim=1), torch.cumsum(x, dim=-1)

    return CumSum, lambda k: (torch.randn(BATCH[k], SEQ[k], 5, generator=gen(k)),)


@model("f_topk", ["x"], ["values", "indices", "half_values"], [BS_SEQ])
def _():
    class TopK(nn.Module):
        """A fixed k, and a k of half the (dynamic) last dim."""

        def forward(self, x):
            v, i = torch.topk(x, k=3, dim=-1)
            h, _ = torch.topk(x, k=x.shape[-1] // 2, dim=-1, largest=False)
            return v, i, h

    return TopK, lambda k: (torch.randn(BATCH[k], SEQ[k], generator=gen(k)),)


# ---------------------------------------------------------------- export

def as_tuple(y):
    return tuple(y) if isinstance(y, (tuple, list)) else (y,)


def export_ts(m, spec, example, path):
    axes = {n: dict(d) for n, d in zip(spec.input_names, spec.dyn)}
    # Every output is dynamic where it follows a dynamic input; the axis names are only labels.
    with torch.no_grad():
        outs = as_tuple(m(*example))
    for n, o in zip(spec.output_names, outs):
        axes[n] = {a: f"{n}_{a}" for a in range(o.dim())}
    torch.onnx.export(m, example, path, dynamo=False, opset_version=TS_OPSET,
                      input_names=spec.input_names, output_names=spec.output_names,
                      dynamic_axes=axes, do_constant_folding=True)


def export_dynamo(m, spec, example, path):
    dims = {}

    def dim(name):
        if name not in dims:
            dims[name] = torch.export.Dim(name, min=1, max=64 if name != "samples" else 4096)
        return dims[name]

    shapes = tuple({a: dim(n) for a, n in d.items()} for d in spec.dyn)
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "model.onnx")
        torch.onnx.export(m, example, f, dynamo=True, opset_version=DYNAMO_OPSET,
                          input_names=spec.input_names, output_names=spec.output_names,
                          dynamic_shapes=shapes, external_data=False)
        # Loaded and saved again so that any external data ends up inside the file, without the
        # exporter's per-node stack traces (they name this machine's file paths).
        proto = onnx.load(f)
        strip_stack_traces(proto.graph)
        onnx.save(proto, path, save_as_external_data=False)


def strip_stack_traces(graph):
    for node in graph.node:
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
        for a in node.attribute:
            if a.HasField("g"):
                strip_stack_traces(a.g)
            for g in a.graphs:
                strip_stack_traces(g)


def write_case(spec, kind, m, sets):
    d = os.path.join(OUT, f"{spec.name}_{kind}")
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    path = os.path.join(tmp, "model.onnx")
    example = spec.inputs(2)
    (export_ts if kind == "ts" else export_dynamo)(m, spec, example, path)
    proto = onnx.load(path)
    raw = proto.SerializeToString()
    for local in {OUT, sys.prefix, os.path.dirname(torch.__file__)}:
        if local.encode() in raw:
            raise RuntimeError(f"the exported model names the local path {local}")
    inits = {i.name for i in proto.graph.initializer}
    graph_inputs = [i.name for i in proto.graph.input if i.name not in inits]
    if len(graph_inputs) != len(spec.input_names):
        raise RuntimeError(f"the exported graph has inputs {graph_inputs}, expected {spec.input_names}")
    if len(proto.graph.output) != len(spec.output_names):
        raise RuntimeError(f"the exported graph has {len(proto.graph.output)} outputs, "
                           f"expected {len(spec.output_names)}")
    for k, (inputs, outputs) in enumerate(sets):
        sd = os.path.join(tmp, f"test_data_set_{k}")
        os.makedirs(sd)
        for i, (name, t) in enumerate(zip(graph_inputs, inputs)):
            with open(os.path.join(sd, f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(t.numpy(), name).SerializeToString())
        for i, (o, t) in enumerate(zip(proto.graph.output, outputs)):
            with open(os.path.join(sd, f"output_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(t.numpy(), o.name).SerializeToString())
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    return len(proto.graph.node), os.path.getsize(os.path.join(d, "model.onnx"))


def reason(e):
    """The exporters wrap the error that says what went wrong: the innermost one's first line."""
    root = e
    while root.__cause__ is not None:
        root = root.__cause__
    first = (str(root).strip().split("\n") or [""])[0]
    return " ".join(f"{type(root).__name__}: {first}".split())[:300]


def export(spec, failures):
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    try:
        m = spec.build().eval()
        sets = []
        with torch.no_grad():
            for k in range(2):
                inputs = spec.inputs(k)
                sets.append((inputs, [o.detach().contiguous() for o in as_tuple(m(*inputs))]))
    except Exception as e:  # noqa: BLE001 - a model that cannot be built is recorded, not fatal
        print(f"{spec.name}: BUILD FAILED: {reason(e)}", flush=True)
        traceback.print_exc(file=sys.stderr)
        failures.append(f"{spec.name}: {reason(e)}")
        return
    params = sum(p.numel() for p in m.parameters())
    for kind in ("ts", "dynamo"):
        try:
            nodes, size = write_case(spec, kind, m, sets)
            print(f"{spec.name}_{kind}: {nodes} nodes, {size / 1024:.0f} KiB, {params} parameters",
                  flush=True)
        except Exception as e:  # noqa: BLE001 - any exporter failure is recorded, not fatal
            shutil.rmtree(os.path.join(OUT, f"{spec.name}_{kind}.tmp"), ignore_errors=True)
            shutil.rmtree(os.path.join(OUT, f"{spec.name}_{kind}"), ignore_errors=True)
            print(f"{spec.name}_{kind}: EXPORT FAILED: {reason(e)}", flush=True)
            traceback.print_exc(file=sys.stderr)
            failures.append(f"{spec.name}_{kind}: {reason(e)}")


def main():
    torch.set_num_threads(1)
    names = set(sys.argv[1:])
    unknown = names - {s.name for s in SPECS}
    if unknown:
        sys.exit(f"unknown models: {sorted(unknown)}")
    failures = []
    for spec in SPECS:
        if not names or spec.name in names:
            export(spec, failures)
    for f in failures:
        print(f"export failure: {f}")
    print(f"{len(failures)} export failures")


if __name__ == "__main__":
    main()
