// Collective on the CPU engine: world size 1, and 2 or 4 simulated ranks (threads sharing an
// in-process Communicator) checked against ATen on the per-rank tensors.
#include <barrier>
#include <cstring>
#include <exception>
#include <thread>

#include "layerkit/runtime/communicator.h"
#include "test_util.h"

namespace lktest {
namespace {

// Ranks are threads; each call publishes its input pointer, waits for all, computes its own
// output from every rank's input, and waits again so no input is released early. Reductions run
// in ATen, in float for floating types (rounded once) and int64 for integers.
class Group {
 public:
  explicit Group(int n) : n(n), sync(n), ins(static_cast<size_t>(n)), oks(static_cast<size_t>(n)) {}
  int n;
  std::barrier<> sync;
  std::vector<const void*> ins;
  // One byte per rank: vector<bool> packs ranks into shared words, a data race when ranks write.
  std::vector<char> oks;
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<Group> g, int rank) : g_(std::move(g)), rank_(rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return g_->n; }

  void all_reduce(const void* in, void* out, int64_t count, DataType type,
                  ReduceOperation op) override {
    exchange(in, [&] { copy_out(reduce(count, type, op), out); });
  }
  void all_gather(const void* in, void* out, int64_t count, DataType type) override {
    exchange(in, [&] {
      size_t bytes = static_cast<size_t>(count) * at::elementSize(to_aten(type));
      for (int r = 0; r < g_->n; ++r)
        std::memcpy(static_cast<char*>(out) + static_cast<size_t>(r) * bytes,
                    g_->ins[static_cast<size_t>(r)], bytes);
    });
  }
  void reduce_scatter(const void* in, void* out, int64_t count, DataType type,
                      ReduceOperation op) override {
    exchange(in, [&] {
      copy_out(reduce(count * g_->n, type, op).narrow(0, rank_ * count, count), out);
    });
  }
  bool all_ok(bool ok) override {
    g_->oks[static_cast<size_t>(rank_)] = ok;
    g_->sync.arrive_and_wait();
    bool all = true;
    for (char b : g_->oks) all = all && b;
    g_->sync.arrive_and_wait();
    return all;
  }

 private:
  template <typename F>
  void exchange(const void* in, F f) {
    g_->ins[static_cast<size_t>(rank_)] = in;
    g_->sync.arrive_and_wait();
    f();
    g_->sync.arrive_and_wait();
  }
  at::Tensor reduce(int64_t count, DataType type, ReduceOperation op) {
    std::vector<at::Tensor> ts;
    for (int r = 0; r < g_->n; ++r)
      ts.push_back(at::from_blob(const_cast<void*>(g_->ins[static_cast<size_t>(r)]), {count},
                                 at::TensorOptions().dtype(to_aten(type))));
    bool fl = is_floating(type);
    at::Tensor s = at::stack(ts).to(fl ? at::kFloat : at::kLong);
    at::Tensor red;
    switch (op) {
      case ReduceOperation::kSUM:
        red = s.sum(0);
        break;
      case ReduceOperation::kPROD:
        red = s.prod(0);
        break;
      case ReduceOperation::kMAX:
        red = s.amax(0);
        break;
      case ReduceOperation::kMIN:
        red = s.amin(0);
        break;
      case ReduceOperation::kAVG:
        red = fl ? s.mean(0) : at::div(s.sum(0), g_->n, "trunc");
        break;
    }
    return red.to(to_aten(type)).contiguous();
  }
  static void copy_out(const at::Tensor& t, void* out) {
    at::Tensor c = t.contiguous();
    std::memcpy(out, c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
  }
  std::shared_ptr<Group> g_;
  int rank_;
};

// Runs f(rank, communicator) on `n` threads; rethrows the first failure after all joined.
template <typename F>
void on_ranks(int n, F f) {
  auto g = std::make_shared<Group>(n);
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        f(r, std::make_shared<ThreadCommunicator>(g, r));
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

at::Tensor reference_reduce(const std::vector<at::Tensor>& xs, ReduceOperation op) {
  bool fl = at::isFloatingType(xs[0].scalar_type());
  at::Tensor s = at::stack(xs).to(fl ? at::kFloat : at::kLong);
  at::Tensor red;
  switch (op) {
    case ReduceOperation::kSUM:
      red = at::sum(s, 0);
      break;
    case ReduceOperation::kPROD:
      red = at::prod(s, 0);
      break;
    case ReduceOperation::kMAX:
      red = std::get<0>(at::max(s, 0));
      break;
    case ReduceOperation::kMIN:
      red = std::get<0>(at::min(s, 0));
      break;
    case ReduceOperation::kAVG:
      red = fl ? at::mean(s, 0) : at::div(at::sum(s, 0), static_cast<int64_t>(xs.size()), "trunc");
      break;
  }
  return red.to(xs[0].scalar_type());
}

const std::vector<DataType> kCollectiveTypes = {DataType::kFLOAT, DataType::kHALF, DataType::kBF16,
                                                DataType::kINT32, DataType::kINT64};

at::Tensor rank_input(DataType t, const std::vector<int64_t>& shape, int rank, uint64_t seed) {
  return random(t, shape, seed * 16 + static_cast<uint64_t>(rank), -4.0, 4.0);
}

// Checks op on `ws` ranks against ATen for one type and axis.
void check_collective(int ws, CollectiveOperation op, ReduceOperation rop, DataType t, int axis,
                      const std::vector<int64_t>& shape) {
  std::vector<at::Tensor> xs, outs(static_cast<size_t>(ws));
  for (int r = 0; r < ws; ++r) xs.push_back(rank_input(t, shape, r, 3));
  on_ranks(ws, [&](int r, std::shared_ptr<Communicator> comm) {
    Network net;
    Tensor* x = net.add_input("x", t, Dims(std::span<const int64_t>(shape)));
    net.mark_output(net.add_collective(x, {op, rop, r, ws, axis})->output(0));
    BuilderConfig cfg;
    cfg.communicator = comm;
    outs[static_cast<size_t>(r)] = run1(net, {xs[static_cast<size_t>(r)]}, cfg);
  });
  for (int r = 0; r < ws; ++r) {
    at::Tensor want;
    if (op == CollectiveOperation::kALL_GATHER) want = at::cat(xs, axis);
    if (op == CollectiveOperation::kALL_REDUCE) want = reference_reduce(xs, rop);
    if (op == CollectiveOperation::kREDUCE_SCATTER)
      want = reference_reduce(xs, rop).chunk(ws, axis)[r].contiguous();
    expect_close(outs[static_cast<size_t>(r)], want, 1.0,
                 std::string(enum_name(op)) + " " + std::string(enum_name(rop)) + " " +
                     std::string(data_type_name(t)) + " ws " + std::to_string(ws) + " axis " +
                     std::to_string(axis) + " rank " + std::to_string(r));
  }
}

TEST(Collective, WorldSizeOneIsIdentity) {
  for (DataType t : kCollectiveTypes) {
    for (auto op : {CollectiveOperation::kALL_GATHER, CollectiveOperation::kREDUCE_SCATTER,
                    CollectiveOperation::kALL_REDUCE}) {
      Network net;
      Tensor* x = net.add_input("x", t, {3, 4});
      net.mark_output(net.add_collective(x, {op, ReduceOperation::kPROD, 0, 1, 1})->output(0));
      at::Tensor xv = random(t, {3, 4}, 1, -4.0, 4.0);
      expect_close(run1(net, {xv}), xv, 1.0, std::string(enum_name(op)));
    }
  }
}

TEST(Collective, AllGatherMatchesATenCat) {
  for (int ws : {2, 4})
    for (DataType t : kCollectiveTypes)
      for (int axis : {0, 1})
        check_collective(ws, CollectiveOperation::kALL_GATHER, ReduceOperation::kSUM, t, axis,
                         {2, 3, 4});
}

TEST(Collective, AllReduceMatchesATenForEveryReduction) {
  for (int ws : {2, 4})
    for (DataType t : kCollectiveTypes)
      for (auto rop : {ReduceOperation::kSUM, ReduceOperation::kPROD, ReduceOperation::kMAX,
                       ReduceOperation::kMIN, ReduceOperation::kAVG})
        check_collective(ws, CollectiveOperation::kALL_REDUCE, rop, t, 0, {3, 5});
}

TEST(Collective, ReduceScatterMatchesATenChunks) {
  for (int ws : {2, 4})
    for (DataType t : kCollectiveTypes)
      for (int axis : {0, 1})
        for (auto rop : {ReduceOperation::kSUM, ReduceOperation::kMAX, ReduceOperation::kAVG})
          check_collective(ws, CollectiveOperation::kREDUCE_SCATTER, rop, t, axis, {8, 4, 3});
}

TEST(Collective, DynamicShapesAtMinOptMax) {
  const int ws = 2;
  for (auto op : {CollectiveOperation::kALL_GATHER, CollectiveOperation::kREDUCE_SCATTER}) {
    std::vector<std::vector<at::Tensor>> outs(3, std::vector<at::Tensor>(ws));
    std::vector<int64_t> ns{1, 3, 5};
    on_ranks(ws, [&](int r, std::shared_ptr<Communicator> comm) {
      Network net;
      Tensor* x = net.add_input("x", DataType::kFLOAT, {-1, 4});
      net.mark_output(net.add_collective(x, {op, ReduceOperation::kSUM, r, ws, 1})->output(0));
      BuilderConfig cfg;
      cfg.communicator = comm;
      cfg.profiles.emplace_back();
      cfg.profiles[0].set_dimensions("x", {1, 4}, {3, 4}, {5, 4});
      Runner runner(net, cfg);
      for (size_t i = 0; i < ns.size(); ++i)
        outs[i][static_cast<size_t>(r)] =
            runner.run({rank_input(DataType::kFLOAT, {ns[i], 4}, r, 7 + i)}).at(0);
    });
    for (size_t i = 0; i < ns.size(); ++i) {
      std::vector<at::Tensor> xs;
      for (int r = 0; r < ws; ++r) xs.push_back(rank_input(DataType::kFLOAT, {ns[i], 4}, r, 7 + i));
      for (int r = 0; r < ws; ++r) {
        at::Tensor want = op == CollectiveOperation::kALL_GATHER
                              ? at::cat(xs, 1)
                              : reference_reduce(xs, ReduceOperation::kSUM).chunk(ws, 1)[r];
        expect_close(outs[i][static_cast<size_t>(r)], want.contiguous(), 1.0,
                     std::string(enum_name(op)) + " n=" + std::to_string(ns[i]));
      }
    }
  }
}

TEST(Collective, FailsWithoutCommunicator) {
  Network net;
  Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
  net.mark_output(
      net.add_collective(x, {CollectiveOperation::kALL_REDUCE, ReduceOperation::kSUM, 0, 2, 0})
          ->output(0));
  expect_error([&] { run1(net, {at::ones({2})}); },
               {"Collective", "world_size is 2", "no communicator"}, ErrorCode::kRUNTIME);
}

TEST(Collective, FailsOnEveryRankWhenRanksDisagreeWithTheCommunicator) {
  std::vector<std::string> messages(2);
  on_ranks(2, [&](int r, std::shared_ptr<Communicator> comm) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, {2});
    // Rank 0's layer claims rank 1; rank 1's layer is right.
    net.mark_output(
        net.add_collective(x, {CollectiveOperation::kALL_REDUCE, ReduceOperation::kSUM, 1, 2, 0})
            ->output(0));
    BuilderConfig cfg;
    cfg.communicator = comm;
    try {
      run1(net, {at::ones({2})}, cfg);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kRUNTIME);
      messages[static_cast<size_t>(r)] = e.what();
    }
  });
  EXPECT_NE(messages[0].find("communicator has rank 0 of world size 2 but the layer says rank 1"),
            std::string::npos)
      << messages[0];
  EXPECT_NE(messages[1].find("another rank"), std::string::npos) << messages[1];
}

TEST(Collective, FailsWhenRanksPassDifferentShapes) {
  std::vector<std::string> messages(2);
  on_ranks(2, [&](int r, std::shared_ptr<Communicator> comm) {
    Network net;
    Tensor* x = net.add_input("x", DataType::kFLOAT, {-1});
    net.mark_output(
        net.add_collective(x, {CollectiveOperation::kALL_GATHER, ReduceOperation::kSUM, r, 2, 0})
            ->output(0));
    BuilderConfig cfg;
    cfg.communicator = comm;
    cfg.profiles.emplace_back();
    cfg.profiles[0].set_dimensions("x", {1}, {2}, {4});
    try {
      run1(net, {at::ones({r + 1})}, cfg);
    } catch (const Error& e) {
      messages[static_cast<size_t>(r)] = e.what();
    }
  });
  for (const auto& m : messages) EXPECT_NE(m.find("different input dims"), std::string::npos) << m;
}

}  // namespace
}  // namespace lktest
