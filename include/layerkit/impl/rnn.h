// Building blocks for recurrent layers (at::rnn_tanh, at::rnn_relu, at::lstm, at::gru and ONNX's
// RNN/GRU/LSTM), unrolled over a static sequence length.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "layerkit/impl/context.h"

namespace layerkit::impl::rnn {

// Note [Unrolled recurrence]
// The network has no loop layer, so a recurrent layer is unrolled: the input projection of all
// time steps is one matmul (x [seq, batch, in] by W^T), then every step adds a matmul of the
// previous hidden state by R^T, slices the gates and applies the cell's elementwise math. The
// sequence length must therefore be static, as must the hidden size; the batch may be dynamic. An
// absent initial state is zero and is folded into the first step (no zero tensor is materialized,
// so a dynamic batch needs no shape arithmetic). The gates are sliced at offsets given by the
// convention (torch LSTM i,f,g,o / GRU r,z,n; ONNX LSTM i,o,f,c / GRU z,r,h), so weights are used
// as given and may be run-time tensors.

// at::rnn_tanh / at::rnn_relu / at::gru: input [seq, batch, in] ([batch, seq, in] when
// batch_first), hx [num_layers * num_dir, batch, hidden] or null for zeros, params per layer and
// direction (reverse after forward) w_ih [G*hidden, in_l], w_hh [G*hidden, hidden] and, when
// has_biases, b_ih and b_hh [G*hidden] (G = 1 for RNN, 3 for GRU). Returns {output [seq, batch,
// num_dir * hidden] (batch first when batch_first), h_n [num_layers * num_dir, batch, hidden]}.
// fp32, fp16 and bf16; 16-bit floats compute in fp32 and round once (Note [Precision policy]).
std::vector<Tensor*> rnn_tanh(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Tensor* input, Tensor* hx, const std::vector<Operand>& params,
                              bool has_biases, int64_t num_layers, bool bidirectional,
                              bool batch_first);
std::vector<Tensor*> rnn_relu(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              Tensor* input, Tensor* hx, const std::vector<Operand>& params,
                              bool has_biases, int64_t num_layers, bool bidirectional,
                              bool batch_first);
std::vector<Tensor*> gru(ConversionContext& ctx, const Target& target,
                         std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                         Tensor* hx, const std::vector<Operand>& params, bool has_biases,
                         int64_t num_layers, bool bidirectional, bool batch_first);
// at::lstm: as above with G = 4 and the cell state; hx and cx may both be null (zeros). Returns
// {output, h_n, c_n}.
std::vector<Tensor*> lstm(ConversionContext& ctx, const Target& target,
                          std::optional<SourceIR> source_ir, std::string_view name, Tensor* input,
                          Tensor* hx, Tensor* cx, const std::vector<Operand>& params,
                          bool has_biases, int64_t num_layers, bool bidirectional,
                          bool batch_first);

enum class CellKind : int32_t { kRNN, kGRU, kLSTM };
enum class CellActivation : int32_t { kSIGMOID, kTANH, kRELU };
enum class Direction : int32_t { kFORWARD, kREVERSE, kBIDIRECTIONAL };

// ONNX's attributes of RNN, GRU and LSTM (opsets 7 and 14).
struct OnnxRnnOptions {
  Direction direction = Direction::kFORWARD;
  // Per direction f (RNN); f, g (GRU); f, g, h (LSTM), forward's then reverse's. Empty: the
  // defaults (RNN Tanh; GRU Sigmoid, Tanh; LSTM Sigmoid, Tanh, Tanh).
  std::vector<CellActivation> activations;
  std::optional<double> clip;        // bounds every activation's input to [-clip, clip]
  bool linear_before_reset = false;  // GRU: false applies R_h to (r * h), true multiplies r after
  int64_t layout = 0;                // 0: X [seq, batch, in]; 1: X [batch, seq, in]
};

// ONNX RNN / GRU / LSTM: x [seq, batch, in] (layout 0), W [num_dir, G*hidden, in], R [num_dir,
// G*hidden, hidden], B [num_dir, 2*G*hidden] (W's biases then R's), initial_h [num_dir, batch,
// hidden], initial_c (LSTM), P [num_dir, 3*hidden] (LSTM peepholes, order i, o, f: i and f see
// c_{t-1}, o sees c_t); absent ones are null / nullopt. Gate orders are ONNX's (LSTM i,o,f,c; GRU
// z,r,h). Returns {Y [seq, num_dir, batch, hidden], Y_h [num_dir, batch, hidden], Y_c (LSTM
// only)}; with layout 1, Y is [batch, seq, num_dir, hidden] and the states [batch, num_dir,
// hidden] (initial states likewise).
std::vector<Tensor*> onnx_rnn(ConversionContext& ctx, const Target& target,
                              std::optional<SourceIR> source_ir, std::string_view name,
                              CellKind kind, Tensor* x, Operand w, Operand r,
                              std::optional<Operand> b, Tensor* initial_h, Tensor* initial_c,
                              std::optional<Operand> p, const OnnxRnnOptions& options);

}  // namespace layerkit::impl::rnn
