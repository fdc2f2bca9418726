// Helpers for building-block tests: build a network around one block, run it, compare with ATen.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "layerkit/impl/context.h"
#include "layerkit/impl/utils.h"
#include "test_util.h"

namespace lktest {

using namespace layerkit::impl;

// The block under test gets the context and one network input per ATen tensor.
using BlockFn = std::function<Tensor*(ConversionContext&, const std::vector<Tensor*>&)>;

// Builds a network whose inputs have the tensors' types and shapes, applies `block`, marks its
// result as output, runs it and returns the output.
at::Tensor run_block(const std::vector<at::Tensor>& inputs, const BlockFn& block);

// Dynamic shapes: every input is declared with all dims -1, the profile spans the three shape
// sets (min, opt, max), and the network is built once and run on each set in turn; `check`
// receives the inputs and the output of each run.
void run_block_dynamic(
    const std::vector<std::vector<at::Tensor>>& min_opt_max, const BlockFn& block,
    const std::function<void(const std::vector<at::Tensor>&, const at::Tensor&)>& check);

// Expects `block` to throw an Error whose message contains `fragments` and to leave the network
// exactly as it was (text form and layer count).
void expect_block_error(const std::vector<at::Tensor>& inputs, const BlockFn& block,
                        const std::vector<std::string>& fragments);

// Builds `positional` and `options` (each given fresh inputs of `inputs`' types and dims) into
// two networks and expects the same text form: Note [Option structs] says the struct form
// forwards.
void expect_same_network(
    const std::vector<std::pair<DataType, Dims>>& inputs,
    const std::function<Tensor*(ConversionContext&, std::vector<Tensor*>&)>& positional,
    const std::function<Tensor*(ConversionContext&, std::vector<Tensor*>&)>& options);

}  // namespace lktest
