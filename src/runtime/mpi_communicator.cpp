// The MPI communicator: collective calls on MPI_COMM_WORLD over the host element representation.
#include "layerkit/runtime/mpi_communicator.h"

#include "layerkit/core/error.h"

#ifdef LAYERKIT_WITH_MPI
#include <mpi.h>

#include <vector>

#include "core/element.h"
#endif

namespace layerkit {

#ifndef LAYERKIT_WITH_MPI

bool mpi_available() {
  return false;
}

std::shared_ptr<Communicator> make_mpi_communicator() {
  LK_FAIL(kUNSUPPORTED,
          "this build of layerkit has no MPI support; install libopenmpi-dev and "
          "reconfigure");
}

#else

namespace {

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  LK_FAIL(kRUNTIME, "MPI ", what, " failed: ", std::string(msg, static_cast<size_t>(len)));
}

MPI_Op mpi_op(ReduceOperation op) {
  switch (op) {
    case ReduceOperation::kSUM:
    case ReduceOperation::kAVG:
      return MPI_SUM;
    case ReduceOperation::kPROD:
      return MPI_PROD;
    case ReduceOperation::kMAX:
      return MPI_MAX;
    case ReduceOperation::kMIN:
      return MPI_MIN;
  }
  return MPI_SUM;
}

// Reductions run on a native MPI type: fp32, int32, int64 as they are; the other types through
// a widened copy (floats as fp32, integers as int64), rounded once when stored back.
MPI_Datatype native(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return MPI_FLOAT;
    case DataType::kINT32:
      return MPI_INT32_T;
    case DataType::kINT64:
      return MPI_INT64_T;
    default:
      return MPI_DATATYPE_NULL;
  }
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int init = 0;
    MPI_Initialized(&init);
    LK_CHECK(init, "make_mpi_communicator: MPI is not initialised; call MPI_Init first");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  void all_reduce(const void* in, void* out, int64_t count, DataType type,
                  ReduceOperation op) override {
    reduce(in, out, count, type, op, /*scatter=*/false);
  }

  void all_gather(const void* in, void* out, int64_t count, DataType type) override {
    int64_t bytes = count * element_size(type);
    LK_CHECK(bytes <= INT32_MAX, "all_gather: ", bytes, " bytes per rank exceed MPI's int count");
    check_mpi(MPI_Allgather(in, static_cast<int>(bytes), MPI_BYTE, out, static_cast<int>(bytes),
                            MPI_BYTE, MPI_COMM_WORLD),
              "Allgather");
  }

  void reduce_scatter(const void* in, void* out, int64_t count, DataType type,
                      ReduceOperation op) override {
    reduce(in, out, count, type, op, /*scatter=*/true);
  }

  bool all_ok(bool ok) override {
    int mine = ok ? 1 : 0, all = 0;
    check_mpi(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "Allreduce");
    return all != 0;
  }

 private:
  // `count` is the output's element count; with `scatter` the input holds world_size times as many.
  void reduce(const void* in, void* out, int64_t count, DataType type, ReduceOperation op,
              bool scatter) {
    LK_CHECK(count <= INT32_MAX, "collective of ", count, " elements exceeds MPI's int count");
    int64_t in_count = scatter ? count * size_ : count;
    MPI_Datatype mt = native(type);
    const void* src = in;
    void* dst = out;
    std::vector<float> fin, fout;
    std::vector<int64_t> iin, iout;
    if (mt == MPI_DATATYPE_NULL) {
      LK_CHECK(!is_sub_byte(type), "collectives do not take ", data_type_name(type), " tensors");
      if (is_floating(type)) {
        fin.resize(static_cast<size_t>(in_count));
        fout.resize(static_cast<size_t>(count));
        for (int64_t i = 0; i < in_count; ++i) fin[static_cast<size_t>(i)] = load_f(type, in, i);
        src = fin.data();
        dst = fout.data();
        mt = MPI_FLOAT;
      } else {
        iin.resize(static_cast<size_t>(in_count));
        iout.resize(static_cast<size_t>(count));
        for (int64_t i = 0; i < in_count; ++i) iin[static_cast<size_t>(i)] = load_i(type, in, i);
        src = iin.data();
        dst = iout.data();
        mt = MPI_INT64_T;
      }
    }
    if (scatter) {
      check_mpi(MPI_Reduce_scatter_block(src, dst, static_cast<int>(count), mt, mpi_op(op),
                                         MPI_COMM_WORLD),
                "Reduce_scatter_block");
    } else {
      check_mpi(MPI_Allreduce(src, dst, static_cast<int>(count), mt, mpi_op(op), MPI_COMM_WORLD),
                "Allreduce");
    }
    // Widened results are stored back (rounded once); kAVG divides the sum by the world size
    // (integer averages truncate toward zero, as integer division does).
    DataType wide = mt == MPI_FLOAT     ? DataType::kFLOAT
                    : mt == MPI_INT32_T ? DataType::kINT32
                                        : DataType::kINT64;
    for (int64_t i = 0; i < count; ++i) {
      if (wide == DataType::kFLOAT) {
        float v = load_f(wide, dst, i);
        if (op == ReduceOperation::kAVG) v /= static_cast<float>(size_);
        store_f(type, out, i, v);
      } else {
        int64_t v = load_i(wide, dst, i);
        if (op == ReduceOperation::kAVG) v /= size_;
        store_i(type, out, i, v);
      }
    }
  }

  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

bool mpi_available() {
  return true;
}

std::shared_ptr<Communicator> make_mpi_communicator() {
  return std::make_shared<MpiCommunicator>();
}

#endif

}  // namespace layerkit
