// ONNX converters for the recurrent ops RNN, GRU and LSTM (opsets 7 and 14) on rnn::onnx_rnn.
#include <optional>
#include <string>

#include "layerkit/impl/rnn.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

namespace rnn = impl::rnn;

std::optional<rnn::CellActivation> parse_activation(const std::string& s) {
  if (s == "Sigmoid") return rnn::CellActivation::kSIGMOID;
  if (s == "Tanh") return rnn::CellActivation::kTANH;
  if (s == "Relu") return rnn::CellActivation::kRELU;
  return std::nullopt;
}

std::optional<rnn::Direction> parse_direction(const std::string& s) {
  if (s == "forward") return rnn::Direction::kFORWARD;
  if (s == "reverse") return rnn::Direction::kREVERSE;
  if (s == "bidirectional") return rnn::Direction::kBIDIRECTIONAL;
  return std::nullopt;
}

// The reason a node cannot be converted, before anything is built.
std::optional<std::string> check_rnn(const NodeView& n) {
  if (n.attr_int("input_forget", 0) != 0) return "input_forget = 1 is not supported";
  if (!parse_direction(n.attr_string("direction", "forward")))
    return "direction '" + n.attr_string("direction", "forward") + "' is not supported";
  if (const auto* a = n.attr("activations"))
    for (const std::string& s : a->strings())
      if (!parse_activation(s))
        return "activation '" + s + "' is not supported (Sigmoid, Tanh and Relu are)";
  return std::nullopt;
}

void rnn_op(NodeContext& n, rnn::CellKind kind) {
  if (auto reason = check_rnn(n)) n.fail(ErrorCode::kUNSUPPORTED, *reason);
  rnn::OnnxRnnOptions o;
  o.direction = *parse_direction(n.attr_string("direction", "forward"));
  if (const auto* a = n.attr("activations"))
    for (const std::string& s : a->strings()) o.activations.push_back(*parse_activation(s));
  if (n.attr("clip")) o.clip = n.attr_float("clip", 0.f);
  o.linear_before_reset = n.attr_int("linear_before_reset", 0) != 0;
  o.layout = n.attr_int("layout", 0);
  Tensor* x = n.input(0);
  // Per-batch lengths would need masking; lengths equal to the full sequence mean nothing.
  if (n.has_input(4)) {
    const int64_t seq = x->dims().rank() == 3 ? x->dims()[o.layout == 1 ? 1 : 0] : -1;
    for (int64_t len :
         n.ints_input(4, "sequence_lens", "the recurrence is unrolled when the network is built"))
      if (len != seq)
        n.fail(ErrorCode::kUNSUPPORTED, "sequence_lens holds " + std::to_string(len) + " but X " +
                                            describe(*x) + " has sequence length " +
                                            std::to_string(seq) +
                                            "; only full-length sequences are supported");
  }
  if (auto hs = n.attr_int("hidden_size", -1); hs >= 0 && n.constant_input(2)) {
    const Dims& rd = n.constant_input(2)->dims;
    if (rd.rank() == 3 && rd[2] != hs)
      n.fail(ErrorCode::kINVALID_ARGUMENT,
             "hidden_size is " + std::to_string(hs) + " but R is " + rd.to_string());
  }
  std::optional<impl::Operand> b, p;
  if (n.has_input(3)) b = weight_operand(n, 3);
  if (n.has_input(7)) p = weight_operand(n, 7);
  std::vector<Tensor*> out =
      rnn::onnx_rnn(n.ctx(), n.op_type(), kONNX, n.name(), kind, x, weight_operand(n, 1),
                    weight_operand(n, 2), b, n.optional_input(5), n.optional_input(6), p, o);
  for (int i = 0; i < n.node().output_size() && i < static_cast<int>(out.size()); ++i)
    n.set_output(i, out[static_cast<size_t>(i)]);
}

}  // namespace

void register_rnn_ops(Registry& r) {
  // sequence_lens (input 4) is read at build time.
  r["RNN"] = {[](NodeContext& n) { rnn_op(n, rnn::CellKind::kRNN); }, check_rnn, {4}};
  r["GRU"] = {[](NodeContext& n) { rnn_op(n, rnn::CellKind::kGRU); }, check_rnn, {4}};
  r["LSTM"] = {[](NodeContext& n) { rnn_op(n, rnn::CellKind::kLSTM); }, check_rnn, {4}};
}

}  // namespace layerkit::onnx::detail
