// Embedding building blocks against ATen: embedding and embedding_bag (output 0).
#include "layerkit/impl/embedding.h"

#include <tuple>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace emb = layerkit::impl::embedding;
using emb::BagMode;

const Target kTarget("test.op");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};
const std::vector<DataType> kIndexTypes = {DataType::kINT32, DataType::kINT64};

at::Tensor weights(DataType t, int64_t n, int64_t d, uint64_t seed) {
  return is_integer(t) ? random(t, {n, d}, seed, -50, 50) : random(t, {n, d}, seed, -3, 3);
}

TEST(ImplEmbedding, EmbeddingEveryTypeAndIndexRank) {
  uint64_t seed = 1;
  for (DataType t : kAll) {
    for (DataType it : kIndexTypes) {
      for (const std::vector<int64_t>& ishape :
           std::vector<std::vector<int64_t>>{{5}, {2, 3}, {2, 1, 4}, {}}) {
        at::Tensor w = weights(t, 10, 4, seed++);
        at::Tensor idx = random(it, ishape, seed++, 0, 9);
        at::Tensor got =
            run_block({w, idx}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return emb::embedding(ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1]);
            });
        expect_close(got, at::embedding(w, idx.to(at::kLong)), 1.0,
                     "embedding " + std::string(data_type_name(t)) + " " +
                         std::string(data_type_name(it)) + " rank " +
                         std::to_string(ishape.size()));
      }
    }
  }
}

int64_t torch_mode(BagMode m) {
  return m == BagMode::kSUM ? 0 : m == BagMode::kMEAN ? 1 : 2;
}
std::string mode_name(BagMode m) {
  return m == BagMode::kSUM ? "sum" : m == BagMode::kMEAN ? "mean" : "max";
}

// at::embedding_bag output 0; ATen 1.13 lacks some 16-bit CPU kernels, so those compute in fp32
// and round to the type (as ATen's own kernels do internally).
at::Tensor bag_reference(const at::Tensor& w, const at::Tensor& idx, const at::Tensor& off,
                         BagMode mode, const c10::optional<at::Tensor>& psw, bool last) {
  auto call = [&](const at::Tensor& ww, const c10::optional<at::Tensor>& pp) {
    return std::get<0>(at::embedding_bag(ww, idx, off, false, torch_mode(mode), false, pp, last));
  };
  try {
    return call(w, psw);
  } catch (const c10::Error&) {
    c10::optional<at::Tensor> p32;
    if (psw) p32 = psw->to(at::kFloat);
    return call(w.to(at::kFloat), p32).to(w.scalar_type());
  }
}

TEST(ImplEmbedding, EmbeddingBagWithOffsets) {
  uint64_t seed = 100;
  const std::vector<BagMode> modes = {BagMode::kSUM, BagMode::kMEAN, BagMode::kMAX};
  for (DataType t : kFloatTypes) {
    for (DataType it : kIndexTypes) {
      for (BagMode mode : modes) {
        for (bool last : {false, true}) {
          for (bool weighted : {false, true}) {
            if (weighted && mode != BagMode::kSUM) continue;
            at::Tensor w = weights(t, 10, 6, seed++);
            // 9 indices in bags of 2, 0 (empty), 4, 0 (empty) and 3; negative ids are not
            // allowed by torch here.
            at::Tensor idx = random(it, {9}, seed++, 0, 9);
            std::vector<int64_t> ov = {0, 2, 2, 6, 6};
            if (last) ov.push_back(9);
            at::Tensor off = at::tensor(ov, at::kLong).to(to_aten(it));
            c10::optional<at::Tensor> psw;
            if (weighted) psw = random(t, {9}, seed++, -2, 2);
            at::Tensor got =
                run_block(weighted ? std::vector<at::Tensor>{w, idx, off, *psw}
                                   : std::vector<at::Tensor>{w, idx, off},
                          [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                            std::optional<Operand> p;
                            if (weighted) p = Operand(in[3]);
                            return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "bag", in[0],
                                                      in[1], Operand(in[2]), mode, p, last);
                          });
            // Sums accumulate over at most 4 rows per bag (scale sqrt(4)).
            expect_close(got, bag_reference(w, idx, off, mode, psw, last), 2.0,
                         "embedding_bag " + mode_name(mode) + " " + std::string(data_type_name(t)) +
                             " " + std::string(data_type_name(it)) + (last ? " last" : "") +
                             (weighted ? " weighted" : ""));
          }
        }
      }
    }
  }
}

TEST(ImplEmbedding, EmbeddingBagFixedSizeBags) {
  uint64_t seed = 300;
  for (DataType t : kFloatTypes) {
    for (DataType it : kIndexTypes) {
      for (BagMode mode : {BagMode::kSUM, BagMode::kMEAN, BagMode::kMAX}) {
        for (bool weighted : {false, true}) {
          if (weighted && mode != BagMode::kSUM) continue;
          at::Tensor w = weights(t, 10, 5, seed++);
          at::Tensor idx = random(it, {4, 3}, seed++, 0, 9);
          c10::optional<at::Tensor> psw;
          if (weighted) psw = random(t, {4, 3}, seed++, -2, 2);
          at::Tensor got = run_block(
              weighted ? std::vector<at::Tensor>{w, idx, *psw} : std::vector<at::Tensor>{w, idx},
              [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
                std::optional<Operand> p;
                if (weighted) p = Operand(in[2]);
                return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "bag", in[0], in[1],
                                          std::nullopt, mode, p);
              });
          // torch.nn.functional.embedding_bag flattens 2-D indices with offsets every L.
          at::Tensor off = at::arange(0, 12, 3, at::kLong).to(to_aten(it));
          c10::optional<at::Tensor> pflat;
          if (psw) pflat = psw->reshape(-1);
          // Sums accumulate over 3 rows per bag (scale sqrt(3)).
          expect_close(
              got, bag_reference(w, idx.reshape(-1), off, mode, pflat, false), std::sqrt(3.0),
              "embedding_bag 2-d " + mode_name(mode) + " " + std::string(data_type_name(t)) + " " +
                  std::string(data_type_name(it)) + (weighted ? " weighted" : ""));
        }
      }
    }
  }
}

TEST(ImplEmbedding, DynamicShapesAtMinOptMax) {
  // Weight, indices and offsets all dynamic: the number of indices and of bags vary.
  auto set = [](int64_t n, std::vector<int64_t> offs, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kFLOAT, {7, 3}, s),
                                   random(DataType::kINT64, {n}, s + 1, 0, 6),
                                   at::tensor(offs, at::kLong)};
  };
  for (BagMode mode : {BagMode::kSUM, BagMode::kMEAN, BagMode::kMAX}) {
    run_block_dynamic(
        {set(1, {0}, 1), set(5, {0, 2, 2}, 2), set(8, {0, 1, 4, 4, 7}, 3)},
        [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
          return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "bag", in[0], in[1], in[2],
                                    mode);
        },
        [&](const std::vector<at::Tensor>& in, const at::Tensor& out) {
          // Bags of at most 3 rows (scale sqrt(3)).
          expect_close(out, bag_reference(in[0], in[1], in[2], mode, c10::nullopt, false),
                       std::sqrt(3.0), "dynamic embedding_bag " + mode_name(mode));
        });
  }
  auto eset = [](int64_t a, int64_t b, uint64_t s) {
    return std::vector<at::Tensor>{random(DataType::kBF16, {6, 4}, s),
                                   random(DataType::kINT32, {a, b}, s + 1, 0, 5)};
  };
  run_block_dynamic(
      {eset(1, 1, 10), eset(2, 3, 20), eset(4, 5, 30)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return emb::embedding(ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1]);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::embedding(in[0], in[1].to(at::kLong)), 1.0, "dynamic embedding");
      });
}

TEST(ImplEmbedding, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor w = random(DataType::kFLOAT, {6, 4}, 1);
  at::Tensor i1 = random(DataType::kINT64, {5}, 2, 0, 5);
  at::Tensor off = at::tensor(std::vector<int64_t>{0, 2}, at::kLong);
  using In = const std::vector<Tensor*>&;
  expect_block_error({i1, i1},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding(ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1]);
                     },
                     {"embedding::embedding", "test.op", "'e'", "2-D", "[5]"});
  expect_block_error({w, random(DataType::kFLOAT, {5}, 3)},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding(ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1]);
                     },
                     {"embedding indices", "int32 or int64", "float32"});
  expect_block_error({w, i1, off, random(DataType::kFLOAT, {5}, 4)},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "b", in[0], in[1],
                                                 Operand(in[2]), BagMode::kMEAN, Operand(in[3]));
                     },
                     {"embedding::embedding_bag", "per_sample_weights", "sum mode"});
  expect_block_error({w, i1},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "b", in[0], in[1],
                                                 std::nullopt, BagMode::kSUM);
                     },
                     {"1-D indices need offsets"});
  expect_block_error({random(DataType::kINT32, {6, 4}, 5, 0, 3), i1, off},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "b", in[0], in[1],
                                                 Operand(in[2]), BagMode::kSUM);
                     },
                     {"weight must be float32, float16 or bfloat16", "int32"});
  expect_block_error({w, random(DataType::kINT64, {2, 3}, 6, 0, 5), off},
                     [](ConversionContext& ctx, In in) {
                       return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "b", in[0], in[1],
                                                 Operand(in[2]), BagMode::kSUM);
                     },
                     {"offsets must be absent", "[2,3]"});
}

TEST(ImplEmbedding, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* w = net.add_input("w", DataType::kHALF, {6, 4});
  Tensor* i = net.add_input("i", DataType::kINT32, {5});
  Tensor* o = net.add_input("o", DataType::kINT32, {2});
  Tensor* e = emb::embedding(ctx, "embedding", SourceIR::kATEN, "emb", w, i);
  EXPECT_EQ(e->producer()->name(), "[GATHER]-[aten_ops.embedding]-[emb]");
  Tensor* b = emb::embedding_bag(ctx, "embedding_bag", SourceIR::kATEN, "bag", w, i, Operand(o),
                                 BagMode::kMEAN);
  // fp16 computes in fp32 (Note [Precision policy]); the cast back carries the block's name.
  EXPECT_EQ(b->producer()->name(), "[CAST]-[aten_ops.embedding_bag]-[bag]");
  EXPECT_EQ(b->dims(), (Dims{2, 4}));
  for (const char* sub : {"[GATHER]-[aten_ops.embedding_bag]-[bag_lookup]",
                          "[FILL]-[aten_ops.embedding_bag]-[bag_positions]",
                          "[ELEMENTWISE]-[aten_ops.embedding_bag]-[bag_member]",
                          "[MATRIX_MULTIPLY]-[aten_ops.embedding_bag]-[bag_sum]",
                          "[ELEMENTWISE]-[aten_ops.embedding_bag]-[bag_mean]"})
    EXPECT_NE(net.find_layer(sub), nullptr) << sub << "\n" << net.to_string();
}

TEST(ImplEmbedding, BagOptionStructWithDesignatedInitializers) {
  expect_same_network(
      {{DataType::kFLOAT, {10, 4}}, {DataType::kINT64, {7}}, {DataType::kINT64, {3}}},
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return emb::embedding_bag(ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1], in[2],
                                  emb::BagMode::kMEAN, std::nullopt, true);
      },
      [](ConversionContext& ctx, std::vector<Tensor*>& in) {
        return emb::embedding_bag(
            ctx, kTarget, SourceIR::kATEN, "e", in[0], in[1],
            {.offsets = in[2], .mode = emb::BagMode::kMEAN, .include_last_offset = true});
      });
}

}  // namespace
}  // namespace lktest
