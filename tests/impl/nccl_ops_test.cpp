// Collective building blocks across MPI ranks (run under mpirun with 2 and 4 processes): each
// collective against the single-process result, a tensor-parallel MLP, and a rank whose input
// shape disagrees failing on every rank.
#include "layerkit/impl/nccl_ops.h"

#include <mpi.h>

#include "impl/impl_test_util.h"
#include "layerkit/runtime/mpi_communicator.h"

namespace lktest {
namespace {

namespace nccl = layerkit::impl::nccl_ops;

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Builds one network on this rank around `block`, runs it through the MPI communicator.
at::Tensor run_collective(const at::Tensor& input,
                          const std::function<Tensor*(ConversionContext&, Tensor*)>& block) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", from_aten(input.scalar_type()), dims_of(input));
  net.mark_output(block(ctx, x));
  BuilderConfig config;
  config.communicator = make_mpi_communicator();
  return run1(net, {input}, config);
}

// Every rank's input, regenerated identically on every rank from the rank's seed.
std::vector<at::Tensor> all_inputs(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  std::vector<at::Tensor> v;
  for (int r = 0; r < world_size(); ++r) v.push_back(random(t, shape, seed + 100 * r, -4, 4));
  return v;
}

// The single-process reduction of the ranks' inputs, computed as a reduction in fp32 for the
// 16-bit types (rounded once), as the communicator does.
at::Tensor reduce_all(const std::vector<at::Tensor>& xs, ReduceOperation op) {
  at::Tensor s = at::stack(xs);
  bool low = s.scalar_type() == at::kHalf || s.scalar_type() == at::kBFloat16;
  at::Tensor w = low ? s.to(at::kFloat) : s;
  at::Tensor r;
  switch (op) {
    case ReduceOperation::kSUM:
      r = w.sum(0);
      break;
    case ReduceOperation::kPROD:
      r = w.prod(0);
      break;
    case ReduceOperation::kMAX:
      r = std::get<0>(w.max(0));
      break;
    case ReduceOperation::kMIN:
      r = std::get<0>(w.min(0));
      break;
    case ReduceOperation::kAVG:
      r = at::isFloatingType(w.scalar_type())
              ? w.sum(0) / static_cast<double>(xs.size())
              : at::div(w.sum(0), static_cast<int64_t>(xs.size()), "trunc");
      break;
  }
  return r.to(xs[0].scalar_type());
}

const std::vector<DataType> kTypes = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                      DataType::kINT32, DataType::kINT64};

TEST(NcclOps, AllGatherMatchesConcatenation) {
  nccl::Group g{world_rank(), world_size()};
  uint64_t seed = 1;
  for (DataType t : kTypes) {
    for (int64_t dim : {0, 1, -1}) {
      auto xs = all_inputs(t, {2, 3, 2}, seed++);
      at::Tensor got =
          run_collective(xs[static_cast<size_t>(g.rank)], [&](ConversionContext& ctx, Tensor* x) {
            return nccl::all_gather(ctx, "all_gather", SourceIR::kATEN, "gather", x, g, dim);
          });
      expect_close(got, at::cat(xs, dim), 1.0,
                   std::string(data_type_name(t)) + " dim " + std::to_string(dim));
    }
  }
}

TEST(NcclOps, AllReduceMatchesSingleProcessReduction) {
  nccl::Group g{world_rank(), world_size()};
  uint64_t seed = 50;
  for (DataType t : kTypes) {
    for (ReduceOperation op : {ReduceOperation::kSUM, ReduceOperation::kPROD, ReduceOperation::kMAX,
                               ReduceOperation::kMIN, ReduceOperation::kAVG}) {
      auto xs = all_inputs(t, {3, 4}, seed++);
      at::Tensor got =
          run_collective(xs[static_cast<size_t>(g.rank)], [&](ConversionContext& ctx, Tensor* x) {
            return nccl::all_reduce(ctx, "all_reduce", SourceIR::kATEN, "reduce", x, g, op);
          });
      expect_close(got, reduce_all(xs, op), 1.0,
                   std::string(data_type_name(t)) + " " + std::string(enum_name(op)));
    }
  }
}

TEST(NcclOps, ReduceScatterGivesEachRankItsChunk) {
  nccl::Group g{world_rank(), world_size()};
  int64_t w = world_size();
  uint64_t seed = 90;
  for (DataType t : kTypes) {
    for (int64_t dim : {0, 1}) {
      std::vector<int64_t> shape = {2, 3};
      shape[static_cast<size_t>(dim)] *= w;
      auto xs = all_inputs(t, shape, seed++);
      at::Tensor got =
          run_collective(xs[static_cast<size_t>(g.rank)], [&](ConversionContext& ctx, Tensor* x) {
            return nccl::reduce_scatter(ctx, "reduce_scatter", SourceIR::kATEN, "rs", x, g, dim);
          });
      at::Tensor expected = reduce_all(xs, ReduceOperation::kSUM).chunk(w, dim)[g.rank];
      expect_close(got, expected.contiguous(), 1.0,
                   std::string(data_type_name(t)) + " dim " + std::to_string(dim));
    }
  }
}

// Column-parallel first linear, row-parallel second linear, all_reduce: equals the unsplit MLP.
TEST(NcclOps, TensorParallelMlpEqualsUnsplitMlp) {
  int r = world_rank();
  int64_t w = world_size(), hidden = 8, ffn = 4 * w, per = ffn / w;
  at::Tensor x = random(DataType::kFLOAT, {3, hidden}, 7, -1, 1);
  at::Tensor w1 = random(DataType::kFLOAT, {hidden, ffn}, 8, -1, 1);
  at::Tensor w2 = random(DataType::kFLOAT, {ffn, hidden}, 9, -1, 1);
  at::Tensor w1_r = w1.slice(1, r * per, (r + 1) * per).contiguous();
  at::Tensor w2_r = w2.slice(0, r * per, (r + 1) * per).contiguous();
  at::Tensor got = run_collective(x, [&](ConversionContext& ctx, Tensor* in) {
    Network& net = ctx.net();
    Tensor* h = net.add_matrix_multiply(in, MatrixOperation::kNONE, constant(net, w1_r),
                                        MatrixOperation::kNONE)
                    ->output(0);
    h = net.add_activation(h, ActivationType::kRELU)->output(0);
    Tensor* partial = net.add_matrix_multiply(h, MatrixOperation::kNONE, constant(net, w2_r),
                                              MatrixOperation::kNONE)
                          ->output(0);
    return nccl::all_reduce(ctx, "all_reduce", SourceIR::kATEN, "tp_reduce", partial,
                            {r, static_cast<int>(w)});
  });
  // Accumulates over hidden then ffn elements: tolerance scaled by sqrt(ffn * hidden).
  expect_close(got, at::matmul(at::relu(at::matmul(x, w1)), w2),
               std::sqrt(static_cast<double>(ffn * hidden)), "tensor-parallel MLP");
}

TEST(NcclOps, MismatchedShapeFailsOnEveryRank) {
  nccl::Group g{world_rank(), world_size()};
  // Rank 1 passes a different shape: every rank must get an error, none may hang.
  at::Tensor x = random(DataType::kFLOAT, {g.rank == 1 ? 3 : 2, 5}, 11);
  expect_error(
      [&] {
        run_collective(x, [&](ConversionContext& ctx, Tensor* in) {
          return nccl::all_gather(ctx, "all_gather", SourceIR::kATEN, "gather", in, g, 0);
        });
      },
      {"Collective layer", "ranks pass different input dims"}, ErrorCode::kRUNTIME);
}

TEST(NcclOps, WrongGroupFailsOnEveryRank) {
  // Every rank claims rank 0: the communicator disagrees on all but rank 0, so all fail.
  nccl::Group g{0, world_size()};
  at::Tensor x = random(DataType::kFLOAT, {2, 2}, 12);
  expect_error(
      [&] {
        run_collective(x, [&](ConversionContext& ctx, Tensor* in) {
          return nccl::all_reduce(ctx, "all_reduce", SourceIR::kATEN, "r", in, g);
        });
      },
      {"Collective layer"}, ErrorCode::kRUNTIME);
}

TEST(NcclOps, BlockErrorsLeaveNetworkUnchanged) {
  at::Tensor x = random(DataType::kFLOAT, {3, 5}, 13);
  expect_block_error(
      {x},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return nccl::reduce_scatter(ctx, "rs", SourceIR::kATEN, "rs", in[0], {0, 2}, 0);
      },
      {"nccl_ops::reduce_scatter", "'rs'", "[3,5]"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return nccl::all_gather(ctx, "ag", SourceIR::kATEN, "ag", in[0], {2, 2}, 0);
                     },
                     {"nccl_ops::all_gather", "rank 2 of world size 2"});
  expect_block_error({x},
                     [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                       return nccl::all_gather(ctx, "ag", SourceIR::kATEN, "ag", in[0], {0, 2}, 2);
                     },
                     {"nccl_ops::all_gather", "dim 2 is out of range"});
}

TEST(NcclOps, LayerNames) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2, 2});
  Tensor* y = nccl::all_reduce(ctx, "all_reduce.default", SourceIR::kATEN, "ar", x, {0, 2});
  EXPECT_EQ(y->producer()->name(), "[COLLECTIVE]-[aten_ops.all_reduce.default]-[ar]");
}

}  // namespace
}  // namespace lktest
