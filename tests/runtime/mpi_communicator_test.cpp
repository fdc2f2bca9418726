// The MPI communicator on its own (run under mpirun with 2 and 4 processes).
#include "layerkit/runtime/mpi_communicator.h"

#include <mpi.h>

#include "test_util.h"

namespace lktest {
namespace {

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

TEST(MpiCommunicator, RankAndSizeMatchMpi) {
  auto comm = make_mpi_communicator();
  EXPECT_TRUE(mpi_available());
  EXPECT_EQ(comm->rank(), world_rank());
  EXPECT_EQ(comm->world_size(), world_size());
}

TEST(MpiCommunicator, AllReduceWidensNarrowTypes) {
  auto comm = make_mpi_communicator();
  int w = world_size(), r = world_rank();
  // int8 sums beyond int8 range wrap on store, as the network's integer arithmetic does.
  std::vector<int8_t> in(4, static_cast<int8_t>(100)), out(4);
  comm->all_reduce(in.data(), out.data(), 4, DataType::kINT8, ReduceOperation::kSUM);
  EXPECT_EQ(out[0], static_cast<int8_t>(100 * w));
  // fp16 max over ranks.
  std::vector<uint16_t> h = {float_to_half_bits(static_cast<float>(r) + 0.5f)}, hout(1);
  comm->all_reduce(h.data(), hout.data(), 1, DataType::kHALF, ReduceOperation::kMAX);
  EXPECT_EQ(half_bits_to_float(hout[0]), static_cast<float>(w - 1) + 0.5f);
  // fp32 average.
  float f = static_cast<float>(r), favg = 0;
  comm->all_reduce(&f, &favg, 1, DataType::kFLOAT, ReduceOperation::kAVG);
  EXPECT_FLOAT_EQ(favg, static_cast<float>(w - 1) / 2.0f);
}

TEST(MpiCommunicator, AllGatherAndReduceScatter) {
  auto comm = make_mpi_communicator();
  int w = world_size(), r = world_rank();
  std::vector<int64_t> mine = {r, 10 * r}, all(static_cast<size_t>(2 * w));
  comm->all_gather(mine.data(), all.data(), 2, DataType::kINT64);
  for (int k = 0; k < w; ++k) {
    EXPECT_EQ(all[static_cast<size_t>(2 * k)], k);
    EXPECT_EQ(all[static_cast<size_t>(2 * k + 1)], 10 * k);
  }
  // Each rank contributes [0, 1, ..., w-1] + r; rank k receives sum over ranks of (k + r).
  std::vector<int32_t> in(static_cast<size_t>(w)), out(1);
  for (int k = 0; k < w; ++k) in[static_cast<size_t>(k)] = k + r;
  comm->reduce_scatter(in.data(), out.data(), 1, DataType::kINT32, ReduceOperation::kSUM);
  EXPECT_EQ(out[0], r * w + w * (w - 1) / 2);
}

TEST(MpiCommunicator, AllOkIsAConsensus) {
  auto comm = make_mpi_communicator();
  EXPECT_TRUE(comm->all_ok(true));
  EXPECT_FALSE(comm->all_ok(world_rank() != 1));
}

}  // namespace
}  // namespace lktest
