// ONNX converters for Cast, Identity and Constant.
#include "layerkit/impl/cast.h"
#include "layerkit/impl/utils.h"
#include "onnx/converter.h"

namespace layerkit::onnx::detail {
namespace {

std::optional<std::string> check_cast(const NodeView& v) {
  const pb::AttributeProto* to = v.attr("to");
  if (!to) return "attribute 'to' is missing";
  if (!to_data_type(static_cast<int32_t>(to->i())))
    return "attribute 'to' is " + onnx_type_name(static_cast<int32_t>(to->i())) +
           ", which layerkit does not support";
  return std::nullopt;
}

std::shared_ptr<HostTensor> constant_value(const NodeView& v) {
  auto h = std::make_shared<HostTensor>();
  const auto& attrs = v.node().attribute();
  if (attrs.size() != 1) v.fail(ErrorCode::kINVALID_ARGUMENT, "needs exactly one attribute");
  const pb::AttributeProto& a = attrs[0];
  if (a.name() == "value") {
    *h = decode_tensor(a.t(), ".", impl::DoublePolicy::kTRUNCATE_WITH_WARNING, nullptr);
  } else if (a.name() == "value_float") {
    float f = a.f();
    *h = {DataType::kFLOAT, Dims{}, Weights::copy(DataType::kFLOAT, &f, 1)};
  } else if (a.name() == "value_int") {
    int64_t i = a.i();
    *h = {DataType::kINT64, Dims{}, Weights::copy(DataType::kINT64, &i, 1)};
  } else if (a.name() == "value_floats") {
    std::vector<float> f(a.floats().begin(), a.floats().end());
    *h = {DataType::kFLOAT, Dims{static_cast<int64_t>(f.size())},
          Weights::from_vector(DataType::kFLOAT, f)};
  } else if (a.name() == "value_ints") {
    std::vector<int64_t> i(a.ints().begin(), a.ints().end());
    *h = {DataType::kINT64, Dims{static_cast<int64_t>(i.size())},
          Weights::from_vector(DataType::kINT64, i)};
  } else {
    v.fail(ErrorCode::kUNSUPPORTED, "attribute '" + a.name() + "' is not supported");
  }
  return h;
}

}  // namespace

void register_cast_ops(Registry& r) {
  r["Cast"] = {[](NodeContext& n) {
                 const DataType to = *to_data_type(static_cast<int32_t>(n.attr_int("to", 0)));
                 n.set_output(
                     0, impl::cast::cast(n.ctx(), n.op_type(), kONNX, n.name(), n.input(0), to));
               },
               check_cast};
  // Tensors are immutable, so Identity aliases its input (graph outputs get an Identity layer
  // where they need a distinct tensor).
  r["Identity"] = {[](NodeContext& n) { n.set_output(0, n.input(0)); }, nullptr};
  // The value is known to later converters (constant_input) and becomes a Constant layer only
  // when a tensor is needed.
  r["Constant"] = {[](NodeContext& n) { n.set_constant_output(0, constant_value(n)); },
                   [](const NodeView& v) -> std::optional<std::string> {
                     constant_value(v);
                     return std::nullopt;
                   }};
}

}  // namespace layerkit::onnx::detail
