// rnn building blocks against at::rnn_tanh, at::rnn_relu, at::gru and at::lstm: sizes, layers,
// directions, batch_first, initial states, host-constant weights, ONNX conventions, errors.
#include "layerkit/impl/rnn.h"

#include <cmath>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace rn = layerkit::impl::rnn;

const Target kTarget("test.op");

enum class Kind { kTANH, kRELU, kGRU, kLSTM };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kTANH:
      return "rnn_tanh";
    case Kind::kRELU:
      return "rnn_relu";
    case Kind::kGRU:
      return "gru";
    case Kind::kLSTM:
      return "lstm";
  }
  return "?";
}
int64_t gates(Kind k) {
  return k == Kind::kGRU ? 3 : k == Kind::kLSTM ? 4 : 1;
}

struct Case {
  int64_t seq, batch, input, hidden, layers;
  bool bidirectional, batch_first, has_biases, with_state;
};

struct Sample {
  at::Tensor x, h0, c0;
  std::vector<at::Tensor> params;
};

Sample make_sample(Kind k, const Case& c, uint64_t seed) {
  const int64_t D = c.bidirectional ? 2 : 1, G = gates(k);
  Sample s;
  s.x = random(DataType::kFLOAT,
               c.batch_first ? std::vector<int64_t>{c.batch, c.seq, c.input}
                             : std::vector<int64_t>{c.seq, c.batch, c.input},
               seed++);
  s.h0 = random(DataType::kFLOAT, {c.layers * D, c.batch, c.hidden}, seed++, -1, 1);
  s.c0 = random(DataType::kFLOAT, {c.layers * D, c.batch, c.hidden}, seed++, -1, 1);
  for (int64_t l = 0; l < c.layers; ++l)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t in = l == 0 ? c.input : D * c.hidden;
      s.params.push_back(random(DataType::kFLOAT, {G * c.hidden, in}, seed++, -0.6, 0.6));
      s.params.push_back(random(DataType::kFLOAT, {G * c.hidden, c.hidden}, seed++, -0.6, 0.6));
      if (c.has_biases) {
        s.params.push_back(random(DataType::kFLOAT, {G * c.hidden}, seed++, -0.6, 0.6));
        s.params.push_back(random(DataType::kFLOAT, {G * c.hidden}, seed++, -0.6, 0.6));
      }
    }
  return s;
}

std::vector<at::Tensor> reference(Kind k, const Case& c, const Sample& s) {
  at::Tensor h0 = c.with_state ? s.h0 : at::zeros_like(s.h0);
  at::Tensor c0 = c.with_state ? s.c0 : at::zeros_like(s.c0);
  switch (k) {
    case Kind::kTANH: {
      auto [y, h] = at::rnn_tanh(s.x, h0, s.params, c.has_biases, c.layers, 0.0, false,
                                 c.bidirectional, c.batch_first);
      return {y, h};
    }
    case Kind::kRELU: {
      auto [y, h] = at::rnn_relu(s.x, h0, s.params, c.has_biases, c.layers, 0.0, false,
                                 c.bidirectional, c.batch_first);
      return {y, h};
    }
    case Kind::kGRU: {
      auto [y, h] = at::gru(s.x, h0, s.params, c.has_biases, c.layers, 0.0, false, c.bidirectional,
                            c.batch_first);
      return {y, h};
    }
    case Kind::kLSTM: {
      auto [y, h, cn] = at::lstm(s.x, {h0, c0}, s.params, c.has_biases, c.layers, 0.0, false,
                                 c.bidirectional, c.batch_first);
      return {y, h, cn};
    }
  }
  return {};
}

// Built by append: GCC 12's -Wrestrict misfires on "literal" + std::to_string(i).
std::string param_name(size_t i) {
  std::string n = "p";
  n += std::to_string(i);
  return n;
}

HostConstant host(const at::Tensor& t) {
  return HostConstant::of(dims_of(t), Weights::copy(DataType::kFLOAT, t.data_ptr(), t.numel()));
}

std::vector<Tensor*> call(Kind k, ConversionContext& ctx, const Case& c, Tensor* x, Tensor* h,
                          Tensor* cx, const std::vector<Operand>& params) {
  switch (k) {
    case Kind::kTANH:
      return rn::rnn_tanh(ctx, kTarget, SourceIR::kATEN, "rnn", x, h, params, c.has_biases,
                          c.layers, c.bidirectional, c.batch_first);
    case Kind::kRELU:
      return rn::rnn_relu(ctx, kTarget, SourceIR::kATEN, "rnn", x, h, params, c.has_biases,
                          c.layers, c.bidirectional, c.batch_first);
    case Kind::kGRU:
      return rn::gru(ctx, kTarget, SourceIR::kATEN, "rnn", x, h, params, c.has_biases, c.layers,
                     c.bidirectional, c.batch_first);
    case Kind::kLSTM:
      return rn::lstm(ctx, kTarget, SourceIR::kATEN, "rnn", x, h, cx, params, c.has_biases,
                      c.layers, c.bidirectional, c.batch_first);
  }
  return {};
}

// Runs the block with x, the states (when used) and the params as network inputs, or the params
// as host constants.
std::vector<at::Tensor> run_rnn(Kind k, const Case& c, const Sample& s, bool host_params) {
  Network net;
  ConversionContext ctx(net);
  std::vector<at::Tensor> feeds{s.x};
  Tensor* x = net.add_input("x", DataType::kFLOAT, dims_of(s.x));
  Tensor *h = nullptr, *cx = nullptr;
  if (c.with_state) {
    h = net.add_input("h0", DataType::kFLOAT, dims_of(s.h0));
    feeds.push_back(s.h0);
    if (k == Kind::kLSTM) {
      cx = net.add_input("c0", DataType::kFLOAT, dims_of(s.c0));
      feeds.push_back(s.c0);
    }
  }
  std::vector<Operand> params;
  for (size_t i = 0; i < s.params.size(); ++i) {
    if (host_params) {
      params.push_back(host(s.params[i]));
    } else {
      params.push_back(net.add_input(param_name(i), DataType::kFLOAT, dims_of(s.params[i])));
      feeds.push_back(s.params[i]);
    }
  }
  for (Tensor* out : call(k, ctx, c, x, h, cx, params)) net.mark_output(out);
  return run(net, feeds);
}

// Each step accumulates over in + hidden products; the tolerance scales by sqrt of that.
double scale(const Case& c) {
  const int64_t in = std::max(c.input, (c.bidirectional ? 2 : 1) * c.hidden);
  return std::sqrt(static_cast<double>(in + c.hidden));
}

std::string describe_case(Kind k, const Case& c) {
  return std::string(kind_name(k)) + " seq " + std::to_string(c.seq) + " batch " +
         std::to_string(c.batch) + " in " + std::to_string(c.input) + " hidden " +
         std::to_string(c.hidden) + " layers " + std::to_string(c.layers) +
         (c.bidirectional ? " bidirectional" : "") + (c.batch_first ? " batch_first" : "") +
         (c.has_biases ? "" : " no bias") + (c.with_state ? "" : " zero state");
}

const std::vector<Case> kCases = {
    // seq batch in hidden layers bidir batch_first biases state
    {1, 1, 3, 4, 1, false, false, true, true}, {5, 3, 7, 6, 1, false, false, true, true},
    {4, 2, 5, 3, 2, false, false, true, true}, {3, 2, 4, 5, 1, true, false, true, true},
    {6, 3, 2, 4, 2, true, true, true, true},   {4, 2, 3, 3, 1, false, true, false, true},
    {3, 4, 5, 2, 2, true, false, true, false}, {2, 1, 8, 16, 1, false, false, false, false},
};

TEST(ImplRnn, MatchesAtenForEveryKindAndShape) {
  uint64_t seed = 1;
  for (Kind k : {Kind::kTANH, Kind::kRELU, Kind::kGRU, Kind::kLSTM}) {
    for (const Case& c : kCases) {
      Sample s = make_sample(k, c, seed);
      seed += 100;
      std::vector<at::Tensor> want = reference(k, c, s);
      for (bool host_params : {false, true}) {
        std::vector<at::Tensor> got = run_rnn(k, c, s, host_params);
        ASSERT_EQ(got.size(), want.size()) << describe_case(k, c);
        const std::string what =
            describe_case(k, c) + (host_params ? " host-constant params" : " tensor params");
        expect_close(got[0], want[0], scale(c), what + " output");
        expect_close(got[1], want[1], scale(c), what + " h_n");
        if (k == Kind::kLSTM) expect_close(got[2], want[2], scale(c), what + " c_n");
      }
    }
  }
}

// 16-bit floats compute in fp32 and round once (Note [Precision policy]); ATen 1.13 has no CPU
// half recurrences, so the reference runs on the upcast values and rounds once too.
TEST(ImplRnn, SixteenBitFloatsRoundOnce) {
  const Case c{4, 2, 5, 6, 2, true, false, true, true};
  for (DataType t : {DataType::kHALF, DataType::kBF16}) {
    for (Kind k : {Kind::kGRU, Kind::kLSTM}) {
      Sample s = make_sample(k, c, 5);
      const at::ScalarType st = to_aten(t);
      Sample low{s.x.to(st), s.h0.to(st), s.c0.to(st), {}};
      for (const at::Tensor& p : s.params) low.params.push_back(p.to(st));
      Sample up{low.x.to(at::kFloat), low.h0.to(at::kFloat), low.c0.to(at::kFloat), {}};
      for (const at::Tensor& p : low.params) up.params.push_back(p.to(at::kFloat));
      std::vector<at::Tensor> want = reference(k, c, up);
      Network net;
      ConversionContext ctx(net);
      std::vector<at::Tensor> feeds{low.x, low.h0};
      Tensor* x = net.add_input("x", t, dims_of(low.x));
      Tensor* h = net.add_input("h0", t, dims_of(low.h0));
      Tensor* cx = nullptr;
      if (k == Kind::kLSTM) {
        cx = net.add_input("c0", t, dims_of(low.c0));
        feeds.push_back(low.c0);
      }
      std::vector<Operand> params;
      for (size_t i = 0; i < low.params.size(); ++i) {
        params.push_back(net.add_input(param_name(i), t, dims_of(low.params[i])));
        feeds.push_back(low.params[i]);
      }
      for (Tensor* out : call(k, ctx, c, x, h, cx, params)) net.mark_output(out);
      std::vector<at::Tensor> got = run(net, feeds);
      const std::string what = describe_case(k, c) + " " + std::string(data_type_name(t));
      for (size_t i = 0; i < got.size(); ++i)
        expect_close(got[i], want[i].to(st), scale(c), what + " output " + std::to_string(i));
    }
  }
}

// ONNX's conventions, checked against at::lstm / at::gru with the weights reordered: LSTM gates
// i,o,f,c; GRU z,r,h with linear_before_reset = 1 (torch's form); B = [Wb, Rb]; Y [seq, dir,
// batch, hidden].
TEST(ImplRnn, OnnxConventionsMatchTorch) {
  const int64_t seq = 4, batch = 2, in = 3, H = 5;
  for (rn::CellKind kind : {rn::CellKind::kLSTM, rn::CellKind::kGRU}) {
    for (bool bidir : {false, true}) {
      const Kind k = kind == rn::CellKind::kLSTM ? Kind::kLSTM : Kind::kGRU;
      Case c{seq, batch, in, H, 1, bidir, false, true, true};
      Sample s = make_sample(k, c, bidir ? 7 : 3);
      std::vector<at::Tensor> want = reference(k, c, s);
      const int64_t D = bidir ? 2 : 1;
      // torch row blocks -> ONNX row blocks.
      std::vector<int64_t> order = kind == rn::CellKind::kLSTM ? std::vector<int64_t>{0, 3, 1, 2}
                                                               : std::vector<int64_t>{1, 0, 2};
      auto reorder = [&](const at::Tensor& t) {
        std::vector<at::Tensor> blocks = t.chunk(static_cast<int64_t>(order.size()), 0);
        std::vector<at::Tensor> out;
        for (int64_t o : order) out.push_back(blocks[static_cast<size_t>(o)]);
        return at::cat(out, 0);
      };
      std::vector<at::Tensor> ws, rs, bs;
      for (int64_t d = 0; d < D; ++d) {
        ws.push_back(reorder(s.params[static_cast<size_t>(4 * d)]));
        rs.push_back(reorder(s.params[static_cast<size_t>(4 * d + 1)]));
        bs.push_back(at::cat({reorder(s.params[static_cast<size_t>(4 * d + 2)]),
                              reorder(s.params[static_cast<size_t>(4 * d + 3)])}));
      }
      at::Tensor w = at::stack(ws), r = at::stack(rs), b = at::stack(bs);
      Network net;
      ConversionContext ctx(net);
      Tensor* x = net.add_input("x", DataType::kFLOAT, dims_of(s.x));
      Tensor* h0 = net.add_input("h0", DataType::kFLOAT, dims_of(s.h0));
      Tensor* c0 = nullptr;
      std::vector<at::Tensor> feeds{s.x, s.h0};
      if (k == Kind::kLSTM) {
        c0 = net.add_input("c0", DataType::kFLOAT, dims_of(s.c0));
        feeds.push_back(s.c0);
      }
      rn::OnnxRnnOptions o;
      o.direction = bidir ? rn::Direction::kBIDIRECTIONAL : rn::Direction::kFORWARD;
      o.linear_before_reset = true;
      for (Tensor* out : rn::onnx_rnn(ctx, "LSTM", SourceIR::kONNX, "node", kind, x, host(w),
                                      host(r), host(b), h0, c0, std::nullopt, o))
        net.mark_output(out);
      std::vector<at::Tensor> got = run(net, feeds);
      // torch's output [seq, batch, D*H] is ONNX's Y [seq, D, batch, H] with dirs interleaved.
      at::Tensor y = want[0].view({seq, batch, D, H}).permute({0, 2, 1, 3}).contiguous();
      const std::string what = std::string(kind_name(k)) + (bidir ? " bidirectional" : "");
      expect_close(got[0], y, scale(c), what + " Y");
      expect_close(got[1], want[1], scale(c), what + " Y_h");
      if (k == Kind::kLSTM) expect_close(got[2], want[2], scale(c), what + " Y_c");
    }
  }
}

// ONNX-only attributes: reverse direction, a Relu activation and clip, against the recurrence
// written out with ATen ops: h_t = relu(clamp(x_t W^T + Wb + h_{t+1} R^T + Rb, -clip, clip)).
TEST(ImplRnn, OnnxReverseReluClip) {
  const int64_t seq = 5, batch = 3, in = 4, H = 6;
  const double clip = 0.7;
  at::Tensor x = random(DataType::kFLOAT, {seq, batch, in}, 1);
  at::Tensor w = random(DataType::kFLOAT, {1, H, in}, 2, -0.6, 0.6);
  at::Tensor r = random(DataType::kFLOAT, {1, H, H}, 3, -0.6, 0.6);
  at::Tensor b = random(DataType::kFLOAT, {1, 2 * H}, 4, -0.6, 0.6);
  at::Tensor h0 = random(DataType::kFLOAT, {1, batch, H}, 5, -1, 1);
  std::vector<at::Tensor> ys(static_cast<size_t>(seq));
  at::Tensor h = h0[0];
  for (int64_t t = seq - 1; t >= 0; --t) {
    at::Tensor a = at::matmul(x[t], w[0].t()) + b[0].slice(0, 0, H) + at::matmul(h, r[0].t()) +
                   b[0].slice(0, H, 2 * H);
    h = at::relu(at::clamp(a, -clip, clip));
    ys[static_cast<size_t>(t)] = h;
  }
  at::Tensor want_y = at::stack(ys).unsqueeze(1), want_h = h.unsqueeze(0);
  Network net;
  ConversionContext ctx(net);
  std::vector<Tensor*> in_t;
  std::vector<at::Tensor> feeds{x, w, r, b, h0};
  for (size_t i = 0; i < feeds.size(); ++i)
    in_t.push_back(net.add_input(param_name(i), DataType::kFLOAT, dims_of(feeds[i])));
  rn::OnnxRnnOptions o;
  o.direction = rn::Direction::kREVERSE;
  o.activations = {rn::CellActivation::kRELU};
  o.clip = clip;
  for (Tensor* out : rn::onnx_rnn(ctx, "RNN", SourceIR::kONNX, "rnn", rn::CellKind::kRNN, in_t[0],
                                  in_t[1], in_t[2], in_t[3], in_t[4], nullptr, std::nullopt, o))
    net.mark_output(out);
  std::vector<at::Tensor> got = run(net, feeds);
  const double sc = std::sqrt(static_cast<double>(in + H));
  expect_close(got[0], want_y, sc, "reverse relu clip Y");
  expect_close(got[1], want_h, sc, "reverse relu clip Y_h");
}

TEST(ImplRnn, ErrorsLeaveTheNetworkUnchanged) {
  using In = const std::vector<Tensor*>&;
  at::Tensor x = random(DataType::kFLOAT, {3, 2, 4}, 1);
  at::Tensor w_ih = random(DataType::kFLOAT, {20, 4}, 2),
             w_hh = random(DataType::kFLOAT, {20, 5}, 3);
  at::Tensor b = random(DataType::kFLOAT, {20}, 4);
  // w_ih with the wrong input size.
  expect_block_error({x, random(DataType::kFLOAT, {20, 3}, 5), w_hh},
                     [](ConversionContext& ctx, In in) {
                       return rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", in[0], nullptr,
                                       nullptr, {in[1], in[2]}, false, 1, false, false)[0];
                     },
                     {"rnn::lstm", "'lstm'", "w_ih must be [20, 4]", "[20,3]"});
  // w_hh with a gate count that is not LSTM's.
  expect_block_error({x, w_ih, random(DataType::kFLOAT, {15, 5}, 5)},
                     [](ConversionContext& ctx, In in) {
                       return rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", in[0], nullptr,
                                       nullptr, {in[1], in[2]}, false, 1, false, false)[0];
                     },
                     {"w_hh must be [20, 5]", "[15,5]"});
  // A bias of the wrong size.
  expect_block_error({x, w_ih, w_hh, b, random(DataType::kFLOAT, {15}, 6)},
                     [](ConversionContext& ctx, In in) {
                       return rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", in[0], nullptr,
                                       nullptr, {in[1], in[2], in[3], in[4]}, true, 1, false,
                                       false)[0];
                     },
                     {"b_hh must be [20]", "[15]"});
  // Too few params for two layers.
  expect_block_error({x, w_ih, w_hh},
                     [](ConversionContext& ctx, In in) {
                       return rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", in[0], nullptr,
                                       nullptr, {in[1], in[2]}, false, 2, false, false)[0];
                     },
                     {"expected 4 params", "got 2"});
  // An integer input.
  expect_block_error({random(DataType::kINT32, {3, 2, 4}, 1), w_ih, w_hh},
                     [](ConversionContext& ctx, In in) {
                       return rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", in[0], nullptr,
                                       nullptr, {in[1], in[2]}, false, 1, false, false)[0];
                     },
                     {"input must be fp32, fp16 or bf16"});
  // An initial state of the wrong shape.
  expect_block_error({x, random(DataType::kFLOAT, {2, 2, 5}, 7),
                      random(DataType::kFLOAT, {5, 4}, 2), random(DataType::kFLOAT, {5, 5}, 3)},
                     [](ConversionContext& ctx, In in) {
                       return rn::rnn_tanh(ctx, kTarget, SourceIR::kATEN, "rnn", in[0], in[1],
                                           {in[2], in[3]}, false, 1, false, false)[0];
                     },
                     {"initial state must be [1, batch, 5]", "[2,2,5]"});
  // ONNX: B of the wrong width.
  expect_block_error(
      {x, random(DataType::kFLOAT, {1, 15, 4}, 2), random(DataType::kFLOAT, {1, 15, 5}, 3),
       random(DataType::kFLOAT, {1, 15}, 4)},
      [](ConversionContext& ctx, In in) {
        return rn::onnx_rnn(ctx, "GRU", SourceIR::kONNX, "gru", rn::CellKind::kGRU, in[0], in[1],
                            in[2], in[3], nullptr, nullptr, std::nullopt, {})[0];
      },
      {"rnn::onnx_rnn", "B must be [1, 30]"});
  // A dynamic sequence length cannot be unrolled.
  Network net;
  ConversionContext ctx(net);
  Tensor* xd = net.add_input("x", DataType::kFLOAT, {-1, 2, 4});
  Tensor* wi = net.add_input("w_ih", DataType::kFLOAT, {20, 4});
  Tensor* wh = net.add_input("w_hh", DataType::kFLOAT, {20, 5});
  expect_error_unchanged(net,
                         [&] {
                           rn::lstm(ctx, kTarget, SourceIR::kATEN, "lstm", xd, nullptr, nullptr,
                                    {wi, wh}, false, 1, false, false);
                         },
                         {"rnn::lstm", "sequence length", "must be static"});
}

TEST(ImplRnn, DynamicBatch) {
  const Case c{3, 0, 4, 5, 1, true, false, true, false};
  Sample s = make_sample(Kind::kGRU, Case{3, 2, 4, 5, 1, true, false, true, false}, 11);
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {3, -1, 4});
  std::vector<Operand> params;
  for (const at::Tensor& p : s.params) params.push_back(host(p));
  std::vector<Tensor*> outs =
      rn::gru(ctx, kTarget, SourceIR::kATEN, "gru", x, nullptr, params, true, 1, true, false);
  for (Tensor* o : outs) net.mark_output(o);
  OptimizationProfile profile;
  profile.set_dimensions("x", {3, 1, 4}, {3, 4, 4}, {3, 9, 4});
  BuilderConfig config;
  config.profiles.push_back(profile);
  Runner runner(net, config);
  for (int64_t batch : {1, 4, 9}) {
    at::Tensor xi = random(DataType::kFLOAT, {3, batch, 4}, 20 + static_cast<uint64_t>(batch));
    Case ci = c;
    ci.batch = batch;
    Sample si = s;
    si.x = xi;
    si.h0 = at::zeros({2, batch, 5});
    std::vector<at::Tensor> want = reference(Kind::kGRU, ci, si);
    std::vector<at::Tensor> got = runner.run({xi});
    expect_close(got[0], want[0], scale(ci), "gru batch " + std::to_string(batch) + " output");
    expect_close(got[1], want[1], scale(ci), "gru batch " + std::to_string(batch) + " h_n");
  }
}

}  // namespace
}  // namespace lktest
