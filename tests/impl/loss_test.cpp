// loss building blocks against ATen: nll_loss_nd and cross_entropy_loss over shapes, weights,
// reductions, ignore_index, dynamic shapes and errors.
#include "layerkit/impl/loss.h"

#include <ATen/ATen.h>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace ls = layerkit::impl::loss;

const Target kTarget("test.op");

int64_t aten_reduction(const std::string& r) {
  if (r == "none") return at::Reduction::None;
  if (r == "sum") return at::Reduction::Sum;
  return at::Reduction::Mean;
}

// Class indices in [0, C), with some set to `ignore`.
at::Tensor targets(const std::vector<int64_t>& shape, int64_t classes, int64_t ignore,
                   uint64_t seed) {
  at::Tensor t = random(DataType::kINT64, shape, seed, 0, static_cast<double>(classes - 1));
  at::Tensor mask = random(DataType::kINT64, shape, seed + 100, 0, 3).eq(0);
  return t.masked_fill(mask, ignore);
}

TEST(ImplLoss, NllLossMatchesAten) {
  uint64_t seed = 1;
  for (std::vector<int64_t> shape : {std::vector<int64_t>{5, 4}, {3, 4, 6}, {2, 3, 4, 5}}) {
    std::vector<int64_t> tshape = shape;
    tshape.erase(tshape.begin() + 1);
    for (std::string reduction : {"none", "mean", "sum"}) {
      for (bool with_weight : {false, true}) {
        for (int64_t ignore : {int64_t{-100}, int64_t{1}}) {
          at::Tensor x = random(DataType::kFLOAT, shape, seed++, -3, 0);
          at::Tensor t = targets(tshape, shape[1], ignore, seed++);
          at::Tensor w = random(DataType::kFLOAT, {shape[1]}, seed++, 0.5, 2);
          at::Tensor got = run_block({x, t, w}, [&](ConversionContext& ctx, const auto& in) {
            std::optional<Operand> wo;
            if (with_weight) wo = in[2];
            return ls::nll_loss(ctx, kTarget, SourceIR::kATEN, "nll", in[0], in[1], wo, reduction,
                                ignore);
          });
          at::Tensor want = at::nll_loss_nd(x, t, with_weight ? w : at::Tensor(),
                                            aten_reduction(reduction), ignore);
          // sum/mean accumulate over every element.
          expect_close(got, want, reduction == "none" ? 1.0 : std::sqrt(double(t.numel())),
                       dims_of(x).to_string() + " " + reduction + (with_weight ? " weighted" : "") +
                           " ignore " + std::to_string(ignore));
        }
      }
    }
  }
}

TEST(ImplLoss, CrossEntropyMatchesAtenInEveryFloatType) {
  uint64_t seed = 50;
  for (DataType type : {DataType::kFLOAT, DataType::kHALF, DataType::kBF16}) {
    for (std::string reduction : {"none", "mean", "sum"}) {
      at::Tensor x = random(type, {4, 5, 3}, seed++, -2, 2);
      at::Tensor t = targets({4, 3}, 5, -100, seed++);
      at::Tensor got = run_block({x, t}, [&](ConversionContext& ctx, const auto& in) {
        return ls::cross_entropy(ctx, kTarget, SourceIR::kATEN, "ce", in[0], in[1], std::nullopt,
                                 reduction);
      });
      at::Tensor want =
          at::cross_entropy_loss(x.to(at::kFloat), t, {}, aten_reduction(reduction), -100, 0.0)
              .to(x.scalar_type());
      expect_close(got, want, reduction == "none" ? 1.0 : std::sqrt(12.0),
                   std::string(data_type_name(type)) + " " + reduction);
    }
  }
}

TEST(ImplLoss, DynamicBatchAndSpatial) {
  auto set = [](int64_t n, int64_t d, uint64_t seed) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {n, 3, d}, seed, -2, 2),
                                   targets({n, d}, 3, -100, seed + 1)};
  };
  run_block_dynamic(
      {set(1, 1, 1), set(2, 4, 3), set(4, 7, 5)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return ls::cross_entropy(ctx, kTarget, SourceIR::kATEN, "ce", in[0], in[1], std::nullopt,
                                 "mean");
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& got) {
        at::Tensor want = at::cross_entropy_loss(in[0], in[1], {}, at::Reduction::Mean, -100, 0.0);
        expect_close(got, want, std::sqrt(double(in[1].numel())), "dynamic");
      });
}

TEST(ImplLoss, BadInputsFailAndLeaveNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {4, 5}, 1);
  at::Tensor t = targets({4}, 5, -100, 2);
  expect_block_error({x, t},
                     [](ConversionContext& ctx, const auto& in) {
                       return ls::nll_loss(ctx, kTarget, SourceIR::kATEN, "nll", in[0], in[1],
                                           std::nullopt, "average");
                     },
                     {"loss::nll_loss", "reduction is 'average'"});
  expect_block_error({x, x},
                     [](ConversionContext& ctx, const auto& in) {
                       return ls::nll_loss(ctx, kTarget, SourceIR::kATEN, "nll", in[0], in[1]);
                     },
                     {"target must hold integer class indices"});
  expect_block_error({x, random(DataType::kINT64, {4, 2}, 3, 0, 4)},
                     [](ConversionContext& ctx, const auto& in) {
                       return ls::nll_loss(ctx, kTarget, SourceIR::kATEN, "nll", in[0], in[1]);
                     },
                     {"must have rank 1"});
  expect_block_error({x, t, random(DataType::kFLOAT, {3}, 4)},
                     [](ConversionContext& ctx, const auto& in) {
                       return ls::cross_entropy(ctx, kTarget, SourceIR::kATEN, "ce", in[0], in[1],
                                                in[2]);
                     },
                     {"loss::cross_entropy", "weight must be [C = 5]"});
}

}  // namespace
}  // namespace lktest
