// The recurrent building blocks: torch's and ONNX's RNN, GRU and LSTM unrolled over time from
// matmul, elementwise, activation, slice, cat and shuffle blocks (Note [Unrolled recurrence]).
#include "layerkit/impl/rnn.h"

#include <array>
#include <string>

#include "layerkit/impl/activation.h"
#include "layerkit/impl/cat.h"
#include "layerkit/impl/elementwise.h"
#include "layerkit/impl/linear.h"
#include "layerkit/impl/permutation.h"
#include "layerkit/impl/shuffle.h"
#include "layerkit/impl/slice.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::rnn {

namespace {

namespace ew = elementwise;

// A static size that must equal `want` unless either is dynamic.
bool fits(int64_t have, int64_t want) {
  return have == -1 || want == -1 || have == want;
}

std::string_view kind_name(CellKind k) {
  switch (k) {
    case CellKind::kRNN:
      return "RNN";
    case CellKind::kGRU:
      return "GRU";
    case CellKind::kLSTM:
      return "LSTM";
  }
  return "?";
}

int64_t gate_count(CellKind k) {
  switch (k) {
    case CellKind::kRNN:
      return 1;
    case CellKind::kGRU:
      return 3;
    case CellKind::kLSTM:
      return 4;
  }
  return 0;
}

// The math of one cell, independent of the weight convention.
struct Cell {
  CellKind kind = CellKind::kRNN;
  // Gate positions in W's rows: LSTM i, f, g, o; GRU r, z, n (n must be last: GRU's R is split
  // into its r/z rows and its n rows when linear_before_reset is off).
  std::array<int64_t, 4> gate{0, 1, 2, 3};
  // f, g, h in ONNX's naming: f for the gates (RNN: its only activation), g for the candidate,
  // h for the LSTM output.
  std::array<CellActivation, 3> act{CellActivation::kTANH, CellActivation::kTANH,
                                    CellActivation::kTANH};
  std::optional<double> clip;
  bool linear_before_reset = true;
};

// One direction's weights, already tensors of the compute type.
struct DirWeights {
  Tensor* w = nullptr;   // [G*H, in]
  Tensor* r = nullptr;   // [G*H, H]
  Tensor* bw = nullptr;  // [G*H] or null
  Tensor* br = nullptr;  // [G*H] or null
  Tensor* p = nullptr;   // [3H] (i, o, f) or null
};

struct DirResult {
  std::vector<Tensor*> steps;  // h_t [batch, H] in time order
  Tensor* h = nullptr;
  Tensor* c = nullptr;
};

// Adds the blocks of one recurrent layer; every name is sub_name(name, tag + suffix).
class Unroller {
 public:
  Unroller(ConversionContext& ctx, const Target& target, std::optional<SourceIR> ir,
           std::string_view name)
      : ctx_(ctx), target_(target), ir_(ir), name_(name) {}

  std::string n(std::string_view suffix) const { return sub_name(name_, suffix); }

  Tensor* add(const std::string& s, Tensor* a, Tensor* b) {
    if (!a) return b;
    if (!b) return a;
    return ew::add(ctx_, target_, ir_, n(s), a, b);
  }
  Tensor* mul(const std::string& s, Tensor* a, Tensor* b) {
    return ew::mul(ctx_, target_, ir_, n(s), a, b);
  }
  Tensor* sub(const std::string& s, Tensor* a, Tensor* b) {
    return ew::sub(ctx_, target_, ir_, n(s), a, b);
  }
  Tensor* linear(const std::string& s, Tensor* x, Tensor* w, Tensor* b) {
    std::optional<Operand> bias;
    if (b) bias = b;
    return linear::linear(ctx_, target_, ir_, n(s), x, w, bias);
  }
  // Rows [k*H, (k+1)*H) of the last dim.
  Tensor* part(const std::string& s, Tensor* t, int64_t k, int64_t hidden) {
    if (!t) return nullptr;
    return slice::slice(ctx_, target_, ir_, n(s), t, t->dims().rank() - 1, k * hidden,
                        (k + 1) * hidden);
  }
  Tensor* select(const std::string& s, Tensor* t, int64_t dim, int64_t index) {
    return slice::select(ctx_, target_, ir_, n(s), t, dim, index);
  }
  Tensor* range(const std::string& s, Tensor* t, int64_t dim, int64_t start, int64_t stop) {
    return slice::slice(ctx_, target_, ir_, n(s), t, dim, start, stop);
  }
  Tensor* reshape(const std::string& s, Tensor* t, const std::vector<int64_t>& shape) {
    return shuffle::reshape(ctx_, target_, ir_, n(s), t, shape);
  }
  Tensor* transpose(const std::string& s, Tensor* t, int64_t a, int64_t b) {
    return permutation::transpose(ctx_, target_, ir_, n(s), t, a, b);
  }
  Tensor* cat(const std::string& s, const std::vector<Tensor*>& ts, int64_t dim) {
    if (ts.size() == 1) return ts[0];
    std::vector<Operand> ops(ts.begin(), ts.end());
    return cat::cat(ctx_, target_, ir_, n(s), ops, dim);
  }
  // Clip (when set), then the activation.
  Tensor* activate(const std::string& s, const Cell& cell, CellActivation a, Tensor* x) {
    if (cell.clip) {
      x = ew::min(ctx_, target_, ir_, n(s + "_clip_hi"), x, *cell.clip);
      x = ew::max(ctx_, target_, ir_, n(s + "_clip_lo"), x, -*cell.clip);
    }
    switch (a) {
      case CellActivation::kSIGMOID:
        return activation::sigmoid(ctx_, target_, ir_, n(s), x);
      case CellActivation::kTANH:
        return activation::tanh(ctx_, target_, ir_, n(s), x);
      case CellActivation::kRELU:
        return activation::relu(ctx_, target_, ir_, n(s), x);
    }
    LK_FAIL(kINTERNAL, "unknown cell activation ", static_cast<int>(a));
  }

  // Runs one direction over x [seq, batch, in]; h0 / c0 [batch, H] or null for zeros.
  DirResult run(const std::string& tag, const Cell& cell, Tensor* x, int64_t hidden,
                const DirWeights& w, Tensor* h0, Tensor* c0, bool reverse) {
    const int64_t seq = x->dims()[0];
    const int64_t H = hidden;
    // R's bias joins the input projection wherever it is purely additive (not GRU, whose n gate
    // sees b_hn inside r * (...)).
    Tensor* bx = w.bw;
    Tensor* bh = w.br;
    if (cell.kind != CellKind::kGRU) {
      bx = add(tag + "_bias", w.bw, w.br);
      bh = nullptr;
    }
    Tensor* xw = linear(tag + "_input_proj", x, w.w, bx);
    // GRU with the reset gate applied before R_n: R splits into its r/z rows and its n rows.
    Tensor *r_rz = nullptr, *r_n = nullptr, *br_rz = nullptr, *br_n = nullptr;
    if (cell.kind == CellKind::kGRU && !cell.linear_before_reset) {
      r_rz = range(tag + "_r_rz", w.r, 0, 0, 2 * H);
      r_n = range(tag + "_r_n", w.r, 0, 2 * H, 3 * H);
      if (bh) {
        br_rz = range(tag + "_br_rz", bh, 0, 0, 2 * H);
        br_n = range(tag + "_br_n", bh, 0, 2 * H, 3 * H);
      }
    }
    Tensor *p_i = nullptr, *p_o = nullptr, *p_f = nullptr;
    if (w.p) {
      p_i = part(tag + "_p_i", w.p, 0, H);
      p_o = part(tag + "_p_o", w.p, 1, H);
      p_f = part(tag + "_p_f", w.p, 2, H);
    }
    DirResult res;
    res.steps.resize(static_cast<size_t>(seq));
    Tensor* h = h0;
    Tensor* c = c0;
    for (int64_t s = 0; s < seq; ++s) {
      const int64_t t = reverse ? seq - 1 - s : s;
      const std::string st = tag + "_t" + std::to_string(t);
      Tensor* gx = select(st + "_x", xw, 0, t);
      switch (cell.kind) {
        case CellKind::kRNN: {
          Tensor* a = h ? add(st + "_pre", gx, linear(st + "_h_proj", h, w.r, nullptr)) : gx;
          h = activate(st + "_h", cell, cell.act[0], a);
          break;
        }
        case CellKind::kLSTM: {
          Tensor* g4 = h ? add(st + "_gates", gx, linear(st + "_h_proj", h, w.r, nullptr)) : gx;
          Tensor* ip = part(st + "_i_pre", g4, cell.gate[0], H);
          if (p_i && c) ip = add(st + "_i_peep", ip, mul(st + "_i_pc", p_i, c));
          Tensor* i = activate(st + "_i", cell, cell.act[0], ip);
          Tensor* g =
              activate(st + "_g", cell, cell.act[1], part(st + "_g_pre", g4, cell.gate[2], H));
          Tensor* c_new = mul(st + "_ig", i, g);
          if (c) {
            Tensor* fp = part(st + "_f_pre", g4, cell.gate[1], H);
            if (p_f) fp = add(st + "_f_peep", fp, mul(st + "_f_pc", p_f, c));
            Tensor* f = activate(st + "_f", cell, cell.act[0], fp);
            c_new = add(st + "_c", mul(st + "_fc", f, c), c_new);
          }
          c = c_new;
          Tensor* op = part(st + "_o_pre", g4, cell.gate[3], H);
          if (p_o) op = add(st + "_o_peep", op, mul(st + "_o_pc", p_o, c));
          Tensor* o = activate(st + "_o", cell, cell.act[0], op);
          h = mul(st + "_h", o, activate(st + "_c_act", cell, cell.act[2], c));
          break;
        }
        case CellKind::kGRU: {
          // With a zero h0 the hidden projection is just R's bias.
          Tensor* gh = nullptr;
          if (cell.linear_before_reset)
            gh = h ? linear(st + "_h_proj", h, w.r, bh) : bh;
          else
            gh = h ? linear(st + "_h_proj", h, r_rz, br_rz) : br_rz;
          Tensor* r = activate(st + "_r", cell, cell.act[0],
                               add(st + "_r_pre", part(st + "_xr", gx, cell.gate[0], H),
                                   part(st + "_hr", gh, cell.gate[0], H)));
          Tensor* z = activate(st + "_z", cell, cell.act[0],
                               add(st + "_z_pre", part(st + "_xz", gx, cell.gate[1], H),
                                   part(st + "_hz", gh, cell.gate[1], H)));
          Tensor* hn = nullptr;
          if (cell.linear_before_reset) {
            Tensor* ghn = part(st + "_hn", gh, cell.gate[2], H);
            hn = ghn ? mul(st + "_rhn", r, ghn) : nullptr;
          } else {
            hn = h ? linear(st + "_hn", mul(st + "_rh", r, h), r_n, br_n) : br_n;
          }
          Tensor* nn = activate(st + "_n", cell, cell.act[1],
                                add(st + "_n_pre", part(st + "_xn", gx, cell.gate[2], H), hn));
          // torch's form: h' = n + z * (h - n); with h = 0 it is n - z * n.
          h = h ? add(st + "_h", nn, mul(st + "_zd", z, sub(st + "_d", h, nn)))
                : sub(st + "_h", nn, mul(st + "_zn", z, nn));
          break;
        }
      }
      res.steps[static_cast<size_t>(t)] = h;
    }
    res.h = h;
    res.c = c;
    return res;
  }

  // Stacks [batch, H] tensors along a new dim 0 after `extra` unit dims: [n, 1.., batch, H].
  Tensor* stack(const std::string& s, const std::vector<Tensor*>& ts, int extra, int64_t H) {
    std::vector<Tensor*> parts;
    for (size_t k = 0; k < ts.size(); ++k) {
      std::vector<int64_t> shape(static_cast<size_t>(1 + extra), 1);
      shape.push_back(-1);
      shape.push_back(H);
      parts.push_back(reshape(s + "_u" + std::to_string(k), ts[k], shape));
    }
    return cat(s, parts, 0);
  }

  Tensor* cast(const std::string& s, Tensor* t, DataType type) {
    return cast_to(ctx_, t, type, target_, ir_, n(s));
  }
  Tensor* weight(const std::string& s, const Operand& op, DataType type, int rank) {
    return to_tensor(ctx_, op, type, rank, target_, ir_, n(s));
  }

 private:
  ConversionContext& ctx_;
  const Target& target_;
  std::optional<SourceIR> ir_;
  std::string name_;
};

void check_float_input(Tensor* x, std::string_view what) {
  LK_CHECK(
      x->type() == DataType::kFLOAT || x->type() == DataType::kHALF || x->type() == DataType::kBF16,
      what, " must be fp32, fp16 or bf16, got ", describe(*x));
}

void check_static_seq(Tensor* x, int seq_dim) {
  LK_CHECK(x->dims().rank() == 3, "input must be 3-D, got ", describe(*x));
  LK_CHECK(x->dims()[seq_dim] > 0, "the sequence length (dim ", seq_dim, " of input ", describe(*x),
           ") must be static and > 0: the recurrence is unrolled at build time");
}

// at::rnn_tanh / rnn_relu / gru / lstm.
std::vector<Tensor*> torch_rnn(ConversionContext& ctx, const Target& target,
                               std::optional<SourceIR> source_ir, std::string_view name,
                               std::string_view block, const Cell& cell, Tensor* input, Tensor* hx,
                               Tensor* cx, const std::vector<Operand>& params, bool has_biases,
                               int64_t num_layers, bool bidirectional, bool batch_first) {
  Operand in_op = input;
  return guarded_multi(ctx, block, target, name, {&in_op}, [&]() -> std::vector<Tensor*> {
    LK_CHECK(input, "input is null");
    check_float_input(input, "input");
    check_static_seq(input, batch_first ? 1 : 0);
    LK_CHECK(num_layers >= 1, "num_layers must be >= 1, got ", num_layers);
    const int64_t D = bidirectional ? 2 : 1;
    const int64_t per = has_biases ? 4 : 2;
    LK_CHECK(static_cast<int64_t>(params.size()) == num_layers * D * per, "expected ",
             num_layers * D * per, " params (", num_layers, " layers x ", D, " directions x ", per,
             "), got ", params.size());
    const int64_t G = gate_count(cell.kind);
    const Dims whh = params[1].dims();
    LK_CHECK(whh.rank() == 2 && whh[1] > 0, "w_hh must be 2-D [", G,
             " * hidden, hidden] with a static hidden size, got ", params[1].describe());
    const int64_t H = whh[1];
    const int64_t in0 = input->dims()[2];
    for (int64_t l = 0; l < num_layers; ++l) {
      for (int64_t d = 0; d < D; ++d) {
        const size_t k = static_cast<size_t>((l * D + d) * per);
        const int64_t in = l == 0 ? in0 : D * H;
        const Dims wi = params[k].dims(), wh = params[k + 1].dims();
        LK_CHECK(!params[k].is_scalar() && wi.rank() == 2 && fits(wi[0], G * H) && fits(wi[1], in),
                 "layer ", l, " direction ", d, ": w_ih must be [", G * H, ", ", in, "], got ",
                 params[k].describe());
        LK_CHECK(
            !params[k + 1].is_scalar() && wh.rank() == 2 && fits(wh[0], G * H) && fits(wh[1], H),
            "layer ", l, " direction ", d, ": w_hh must be [", G * H, ", ", H, "], got ",
            params[k + 1].describe());
        for (size_t b = 2; b < static_cast<size_t>(per); ++b) {
          const Dims bd = params[k + b].dims();
          LK_CHECK(!params[k + b].is_scalar() && bd.rank() == 1 && fits(bd[0], G * H), "layer ", l,
                   " direction ", d, ": ", b == 2 ? "b_ih" : "b_hh", " must be [", G * H, "], got ",
                   params[k + b].describe());
        }
      }
    }
    for (Tensor* s : {hx, cx}) {
      if (!s) continue;
      check_float_input(s, "initial state");
      const Dims& sd = s->dims();
      LK_CHECK(sd.rank() == 3 && fits(sd[0], num_layers * D) &&
                   fits(sd[1], input->dims()[batch_first ? 0 : 1]) && fits(sd[2], H),
               "initial state must be [", num_layers * D, ", batch, ", H, "], got ", describe(*s));
    }
    const DataType t = input->type();
    const DataType ct = compute_type(t);
    Unroller u(ctx, target, source_ir, name);
    Tensor* x = u.cast("input_cast", input, ct);
    if (batch_first) x = u.transpose("input_seq_first", x, 0, 1);
    Tensor* h0 = hx ? u.cast("hx_cast", hx, ct) : nullptr;
    Tensor* c0 = cx ? u.cast("cx_cast", cx, ct) : nullptr;
    std::vector<Tensor*> hs, cs;
    for (int64_t l = 0; l < num_layers; ++l) {
      std::vector<Tensor*> ys;
      for (int64_t d = 0; d < D; ++d) {
        const std::string tag = "l" + std::to_string(l) + (d ? "_rev" : "");
        const size_t k = static_cast<size_t>((l * D + d) * per);
        DirWeights w;
        w.w = u.weight(tag + "_w_ih", params[k], ct, 2);
        w.r = u.weight(tag + "_w_hh", params[k + 1], ct, 2);
        if (has_biases) {
          w.bw = u.weight(tag + "_b_ih", params[k + 2], ct, 1);
          w.br = u.weight(tag + "_b_hh", params[k + 3], ct, 1);
        }
        Tensor* h = h0 ? u.select(tag + "_h0", h0, 0, l * D + d) : nullptr;
        Tensor* c = c0 ? u.select(tag + "_c0", c0, 0, l * D + d) : nullptr;
        DirResult r = u.run(tag, cell, x, H, w, h, c, d == 1);
        ys.push_back(u.stack(tag + "_y", r.steps, 0, H));
        hs.push_back(r.h);
        cs.push_back(r.c);
      }
      x = u.cat("l" + std::to_string(l) + "_y", ys, 2);
    }
    Tensor* out = batch_first ? u.transpose("output_batch_first", x, 0, 1) : x;
    std::vector<Tensor*> res{u.cast("output", out, t),
                             u.cast("h_n", u.stack("h_n_stack", hs, 0, H), t)};
    if (cell.kind == CellKind::kLSTM)
      res.push_back(u.cast("c_n", u.stack("c_n_stack", cs, 0, H), t));
    return res;
  });
}

Cell torch_cell(CellKind kind, CellActivation rnn_act) {
  Cell c;
  c.kind = kind;
  c.linear_before_reset = true;
  if (kind == CellKind::kRNN) c.act = {rnn_act, rnn_act, rnn_act};
  if (kind != CellKind::kRNN)
    c.act = {CellActivation::kSIGMOID, CellActivation::kTANH, CellActivation::kTANH};
  return c;
}

}  // namespace

std::vector<Tensor*> rnn_tanh(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Tensor* input, Tensor* hx, const std::vector<Operand>& params,
                              bool has_biases, int64_t num_layers, bool bidirectional,
                              bool batch_first) {
  return torch_rnn(ctx, target, source_ir, name, "rnn::rnn_tanh",
                   torch_cell(CellKind::kRNN, CellActivation::kTANH), input, hx, nullptr, params,
                   has_biases, num_layers, bidirectional, batch_first);
}

std::vector<Tensor*> rnn_relu(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Tensor* input, Tensor* hx, const std::vector<Operand>& params,
                              bool has_biases, int64_t num_layers, bool bidirectional,
                              bool batch_first) {
  return torch_rnn(ctx, target, source_ir, name, "rnn::rnn_relu",
                   torch_cell(CellKind::kRNN, CellActivation::kRELU), input, hx, nullptr, params,
                   has_biases, num_layers, bidirectional, batch_first);
}

std::vector<Tensor*> gru(ConversionContext& ctx, const Target& target,
                         std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                         Tensor* hx, const std::vector<Operand>& params, bool has_biases,
                         int64_t num_layers, bool bidirectional, bool batch_first) {
  return torch_rnn(ctx, target, source_ir, name, "rnn::gru",
                   torch_cell(CellKind::kGRU, CellActivation::kTANH), input, hx, nullptr, params,
                   has_biases, num_layers, bidirectional, batch_first);
}

std::vector<Tensor*> lstm(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          Tensor* hx, Tensor* cx, const std::vector<Operand>& params,
                          bool has_biases, int64_t num_layers, bool bidirectional,
                          bool batch_first) {
  return torch_rnn(ctx, target, source_ir, name, "rnn::lstm",
                   torch_cell(CellKind::kLSTM, CellActivation::kTANH), input, hx, cx, params,
                   has_biases, num_layers, bidirectional, batch_first);
}

std::vector<Tensor*> onnx_rnn(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              CellKind kind, Tensor* x, Operand w, Operand r,
                              std::optional<Operand> b, Tensor* initial_h, Tensor* initial_c,
                              std::optional<Operand> p, const OnnxRnnOptions& options) {
  Operand x_op = x;
  return guarded_multi(
      ctx, "rnn::onnx_rnn", target, name, {&x_op, &w, &r}, [&]() -> std::vector<Tensor*> {
        LK_CHECK(x, "X is null");
        LK_CHECK(options.layout == 0 || options.layout == 1, "layout must be 0 or 1, got ",
                 options.layout);
        const bool batch_major = options.layout == 1;
        check_float_input(x, "X");
        check_static_seq(x, batch_major ? 1 : 0);
        const int64_t D = options.direction == Direction::kBIDIRECTIONAL ? 2 : 1;
        const int64_t G = gate_count(kind);
        const Dims rd = r.dims(), wd = w.dims();
        LK_CHECK(!r.is_scalar() && rd.rank() == 3 && rd[2] > 0, "R must be 3-D [", D, ", ", G,
                 " * hidden, hidden] with a static hidden size, got ", r.describe());
        const int64_t H = rd[2];
        LK_CHECK(fits(rd[0], D) && fits(rd[1], G * H), "R must be [", D, ", ", G * H, ", ", H,
                 "], got ", r.describe());
        LK_CHECK(!w.is_scalar() && wd.rank() == 3 && fits(wd[0], D) && fits(wd[1], G * H) &&
                     fits(wd[2], x->dims()[2]),
                 "W must be [", D, ", ", G * H, ", ", x->dims()[2], "], got ", w.describe());
        if (b) {
          const Dims bd = b->dims();
          LK_CHECK(!b->is_scalar() && bd.rank() == 2 && fits(bd[0], D) && fits(bd[1], 2 * G * H),
                   "B must be [", D, ", ", 2 * G * H, "], got ", b->describe());
        }
        if (p) {
          const Dims pd = p->dims();
          LK_CHECK(kind == CellKind::kLSTM, "P (peepholes) is an LSTM input; ", kind_name(kind),
                   " has none");
          LK_CHECK(!p->is_scalar() && pd.rank() == 2 && fits(pd[0], D) && fits(pd[1], 3 * H),
                   "P must be [", D, ", ", 3 * H, "], got ", p->describe());
        }
        LK_CHECK(!initial_c || kind == CellKind::kLSTM, "initial_c is an LSTM input; ",
                 kind_name(kind), " has none");
        const int64_t batch = x->dims()[batch_major ? 0 : 1];
        for (Tensor* s : {initial_h, initial_c}) {
          if (!s) continue;
          check_float_input(s, "initial state");
          const Dims& sd = s->dims();
          LK_CHECK(sd.rank() == 3 && fits(sd[batch_major ? 1 : 0], D) &&
                       fits(sd[batch_major ? 0 : 1], batch) && fits(sd[2], H),
                   "initial state must be ", batch_major ? "[batch, " : "[", D,
                   batch_major ? ", " : ", batch, ", H, "], got ", describe(*s));
        }
        // ONNX's activation slots per direction and their defaults.
        const size_t slots = kind == CellKind::kRNN ? 1 : kind == CellKind::kGRU ? 2 : 3;
        std::vector<CellActivation> acts = options.activations;
        if (acts.empty()) {
          for (int64_t d = 0; d < D; ++d) {
            if (kind == CellKind::kRNN)
              acts.push_back(CellActivation::kTANH);
            else
              acts.insert(acts.end(),
                          {CellActivation::kSIGMOID, CellActivation::kTANH, CellActivation::kTANH});
            if (kind == CellKind::kGRU) acts.pop_back();
          }
        }
        LK_CHECK(acts.size() == slots * static_cast<size_t>(D), kind_name(kind), " with ", D,
                 " direction(s) takes ", slots * static_cast<size_t>(D), " activations, got ",
                 acts.size());
        LK_CHECK(!options.clip || *options.clip > 0, "clip must be > 0, got ",
                 options.clip.value_or(0));

        const DataType t = x->type();
        const DataType ct = compute_type(t);
        Unroller u(ctx, target, source_ir, name);
        Tensor* xs = u.cast("x_cast", x, ct);
        if (batch_major) xs = u.transpose("x_seq_first", xs, 0, 1);
        auto state = [&](Tensor* s, const char* what) -> Tensor* {
          if (!s) return nullptr;
          s = u.cast(std::string(what) + "_cast", s, ct);
          return batch_major ? u.transpose(std::string(what) + "_dir_first", s, 0, 1) : s;
        };
        Tensor* h0 = state(initial_h, "initial_h");
        Tensor* c0 = state(initial_c, "initial_c");
        Tensor* wt = u.weight("W", w, ct, 3);
        Tensor* rt = u.weight("R", r, ct, 3);
        Tensor* bt = b ? u.weight("B", *b, ct, 2) : nullptr;
        Tensor* pt = p ? u.weight("P", *p, ct, 2) : nullptr;

        Cell cell;
        cell.kind = kind;
        cell.clip = options.clip;
        cell.linear_before_reset = options.linear_before_reset;
        if (kind == CellKind::kLSTM) cell.gate = {0, 2, 3, 1};  // i, f, g(c), o in i, o, f, c
        if (kind == CellKind::kGRU) cell.gate = {1, 0, 2, 0};   // r, z, n(h) in z, r, h
        std::vector<Tensor*> ys, hs, cs;
        for (int64_t d = 0; d < D; ++d) {
          const std::string tag = D == 2 ? (d ? "rev" : "fwd") : "";
          auto tg = [&](const char* s) { return tag.empty() ? std::string(s) : tag + "_" + s; };
          for (size_t k = 0; k < slots; ++k) cell.act[k] = acts[static_cast<size_t>(d) * slots + k];
          if (kind == CellKind::kGRU) cell.act[2] = cell.act[1];
          DirWeights dw;
          dw.w = u.select(tg("W"), wt, 0, d);
          dw.r = u.select(tg("R"), rt, 0, d);
          if (bt) {
            Tensor* bd = u.select(tg("B"), bt, 0, d);
            dw.bw = u.range(tg("Wb"), bd, 0, 0, G * H);
            dw.br = u.range(tg("Rb"), bd, 0, G * H, 2 * G * H);
          }
          if (pt) dw.p = u.select(tg("P"), pt, 0, d);
          Tensor* h = h0 ? u.select(tg("h0"), h0, 0, d) : nullptr;
          Tensor* c = c0 ? u.select(tg("c0"), c0, 0, d) : nullptr;
          const bool reverse = options.direction == Direction::kREVERSE || d == 1;
          DirResult res = u.run(tag.empty() ? "cell" : tag, cell, xs, H, dw, h, c, reverse);
          ys.push_back(u.stack(tg("Y"), res.steps, 1, H));  // [seq, 1, batch, H]
          hs.push_back(res.h);
          cs.push_back(res.c);
        }
        Tensor* y = u.cat("Y", ys, 1);
        Tensor* yh = u.stack("Y_h", hs, 0, H);
        if (batch_major) {
          y = permutation::permute(ctx, target, source_ir, u.n("Y_batch_first"), y, {2, 0, 1, 3});
          yh = u.transpose("Y_h_batch_first", yh, 0, 1);
        }
        std::vector<Tensor*> res{u.cast("Y_out", y, t), u.cast("Y_h_out", yh, t)};
        if (kind == CellKind::kLSTM) {
          Tensor* yc = u.stack("Y_c", cs, 0, H);
          if (batch_major) yc = u.transpose("Y_c_batch_first", yc, 0, 1);
          res.push_back(u.cast("Y_c_out", yc, t));
        }
        return res;
      });
}

}  // namespace layerkit::impl::rnn
