// Helpers for building-block tests: build a network around one block, run it, compare with ATen.
#include "impl/impl_test_util.h"

namespace lktest {

at::Tensor run_block(const std::vector<at::Tensor>& inputs, const BlockFn& block) {
  Network net;
  ConversionContext ctx(net);
  std::vector<Tensor*> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(net.add_input("in" + std::to_string(i), from_aten(inputs[i].scalar_type()),
                                dims_of(inputs[i])));
  Tensor* out = block(ctx, ins);
  if (out->is_network_input()) out = net.add_identity(out)->output(0);
  net.mark_output(out);
  return run1(net, inputs);
}

void run_block_dynamic(
    const std::vector<std::vector<at::Tensor>>& min_opt_max, const BlockFn& block,
    const std::function<void(const std::vector<at::Tensor>&, const at::Tensor&)>& check) {
  EXPECT_EQ(min_opt_max.size(), 3u);
  const auto& first = min_opt_max.at(0);
  Network net;
  ConversionContext ctx(net);
  std::vector<Tensor*> ins;
  OptimizationProfile profile;
  for (size_t i = 0; i < first.size(); ++i) {
    std::string name = "in" + std::to_string(i);
    int rank = static_cast<int>(first[i].dim());
    ins.push_back(net.add_input(name, from_aten(first[i].scalar_type()), Dims::of_rank(rank, -1)));
    profile.set_dimensions(name, dims_of(min_opt_max[0][i]), dims_of(min_opt_max[1][i]),
                           dims_of(min_opt_max[2][i]));
  }
  Tensor* out = block(ctx, ins);
  if (out->is_network_input()) out = net.add_identity(out)->output(0);
  net.mark_output(out);
  BuilderConfig config;
  config.profiles.push_back(profile);
  Runner runner(net, config);
  for (const auto& set : min_opt_max) check(set, runner.run(set).at(0));
}

void expect_block_error(const std::vector<at::Tensor>& inputs, const BlockFn& block,
                        const std::vector<std::string>& fragments) {
  Network net;
  ConversionContext ctx(net);
  std::vector<Tensor*> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(net.add_input("in" + std::to_string(i), from_aten(inputs[i].scalar_type()),
                                dims_of(inputs[i])));
  expect_error_unchanged(
      net, [&] { block(ctx, ins); }, fragments);
}

void expect_same_network(
    const std::vector<std::pair<DataType, Dims>>& inputs,
    const std::function<Tensor*(ConversionContext&, std::vector<Tensor*>&)>& positional,
    const std::function<Tensor*(ConversionContext&, std::vector<Tensor*>&)>& options) {
  std::string text[2];
  for (int k = 0; k < 2; ++k) {
    Network net;
    ConversionContext ctx(net);
    std::vector<Tensor*> in;
    for (size_t i = 0; i < inputs.size(); ++i)
      in.push_back(net.add_input("in" + std::to_string(i), inputs[i].first, inputs[i].second));
    net.mark_output(k == 0 ? positional(ctx, in) : options(ctx, in));
    text[k] = net.to_string();
  }
  EXPECT_EQ(text[0], text[1]);
}

}  // namespace lktest
