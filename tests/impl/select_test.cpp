// Indexing building blocks against ATen: gather, index_select, gather_nd, select, index.
#include "layerkit/impl/select.h"

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace sel = layerkit::impl::select;

const Target kTarget("test.op");

const std::vector<DataType> kAll = {DataType::kFLOAT, DataType::kHALF,  DataType::kBF16,
                                    DataType::kINT32, DataType::kINT64, DataType::kBOOL};
const std::vector<DataType> kIndexTypes = {DataType::kINT32, DataType::kINT64};

std::string what(std::string op, DataType t, DataType it) {
  return op + " data " + std::string(data_type_name(t)) + " index " +
         std::string(data_type_name(it));
}

at::Tensor data(DataType t, const std::vector<int64_t>& shape, uint64_t seed) {
  return is_integer(t) ? random(t, shape, seed, -50, 50) : random(t, shape, seed, -3, 3);
}

TEST(ImplSelect, GatherEveryTypeAndDim) {
  uint64_t seed = 1;
  const std::vector<int64_t> shape = {3, 4, 5};
  for (DataType t : kAll) {
    for (DataType it : kIndexTypes) {
      for (int64_t dim : {0, 1, -1, -3}) {
        int64_t pd = dim < 0 ? dim + 3 : dim;
        // The index is smaller than the input off the axis (allowed) and longer on it.
        std::vector<int64_t> ishape = {2, 3, 4};
        ishape[static_cast<size_t>(pd)] = 6;
        at::Tensor x = data(t, shape, seed++);
        at::Tensor idx = random(it, ishape, seed++, 0, static_cast<double>(shape[pd] - 1));
        at::Tensor got =
            run_block({x, idx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], dim, in[1]);
            });
        expect_close(got, at::gather(x, dim, idx.to(at::kLong)), 1.0,
                     what("gather dim " + std::to_string(dim), t, it));
      }
    }
  }
}

TEST(ImplSelect, GatherNegativeIndicesWrap) {
  // torch's gather rejects negative indices; the block wraps them, so the reference reads the
  // wrapped index.
  at::Tensor x = data(DataType::kFLOAT, {4, 5}, 7);
  at::Tensor idx = random(DataType::kINT64, {4, 3}, 8, -5, 4);
  at::Tensor got = run_block({x, idx}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], 1, in[1]);
  });
  expect_close(got, at::gather(x, 1, at::remainder(idx, 5)), 1.0, "gather negative");
}

TEST(ImplSelect, IndexSelectEveryTypeAndDim) {
  uint64_t seed = 100;
  const std::vector<int64_t> shape = {3, 4, 5};
  for (DataType t : kAll) {
    for (DataType it : kIndexTypes) {
      for (int64_t dim : {0, 2, -2}) {
        int64_t pd = dim < 0 ? dim + 3 : dim;
        at::Tensor x = data(t, shape, seed++);
        at::Tensor idx = random(it, {7}, seed++, 0, static_cast<double>(shape[pd] - 1));
        at::Tensor got =
            run_block({x, idx}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              return sel::index_select(ctx, kTarget, SourceIR::kATEN, "s", in[0], dim, in[1]);
            });
        expect_close(got, at::index_select(x, dim, idx.to(at::kLong)), 1.0,
                     what("index_select dim " + std::to_string(dim), t, it));
      }
    }
  }
  // A 0-D index keeps the dim with size 1, as torch does.
  at::Tensor x = data(DataType::kFLOAT, {3, 4}, 9);
  at::Tensor idx = at::scalar_tensor(2, at::kLong);
  at::Tensor got = run_block({x, idx}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sel::index_select(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, in[1]);
  });
  expect_close(got, at::index_select(x, 1, idx), 1.0, "index_select 0-d index");
  // An int scalar operand works as a 0-D index.
  got = run_block({x}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sel::index_select(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0, 1);
  });
  expect_close(got, at::index_select(x, 0, at::scalar_tensor(1, at::kLong)), 1.0,
               "index_select scalar index");
}

// GatherND reference: each index tuple addresses the axes after the batch axes (at::index per
// batch).
at::Tensor gather_nd_reference(const at::Tensor& x, const at::Tensor& idx, int64_t b) {
  auto one = [](const at::Tensor& xs, const at::Tensor& is) {
    int64_t m = is.size(-1);
    c10::List<c10::optional<at::Tensor>> list;
    for (int64_t k = 0; k < m; ++k) list.push_back(is.select(-1, k).to(at::kLong));
    return at::index(xs, list);
  };
  if (b == 0) return one(x, idx);
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); ++i) parts.push_back(one(x[i], idx[i]));
  return at::stack(parts);
}

TEST(ImplSelect, GatherNdWithBatchDims) {
  uint64_t seed = 200;
  for (DataType t : kAll) {
    for (DataType it : kIndexTypes) {
      at::Tensor x = data(t, {3, 4, 5}, seed++);
      // batch_dims 0, tuples of 2 over [3, 4]; indices include negatives (ONNX allows them).
      at::Tensor i0 =
          at::stack({random(it, {2, 3}, seed++, -3, 2), random(it, {2, 3}, seed++, -4, 3)}, -1);
      at::Tensor got =
          run_block({x, i0}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
            return sel::gather_nd(ctx, kTarget, SourceIR::kONNX, "nd", in[0], in[1], 0);
          });
      expect_close(got, gather_nd_reference(x, i0, 0), 1.0, what("gather_nd b=0", t, it));
      // batch_dims 1, tuples of 1 over axis 1 of each batch.
      at::Tensor i1 = random(it, {3, 2, 1}, seed++, 0, 3);
      got = run_block({x, i1}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sel::gather_nd(ctx, kTarget, SourceIR::kONNX, "nd", in[0], in[1], 1);
      });
      expect_close(got, gather_nd_reference(x, i1, 1), 1.0, what("gather_nd b=1", t, it));
    }
  }
}

TEST(ImplSelect, SelectEveryTypeDimAndNegativeIndex) {
  uint64_t seed = 300;
  for (DataType t : kAll) {
    at::Tensor x = data(t, {3, 4, 5}, seed++);
    for (auto [dim, idx] :
         std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {1, -1}, {-1, 0}, {-1, -5}, {2, 4}}) {
      at::Tensor got = run_block({x}, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        return sel::select(ctx, kTarget, SourceIR::kATEN, "s", in[0], dim, idx);
      });
      expect_close(got, at::select(x, dim, idx), 1.0,
                   "select " + std::string(data_type_name(t)) + " dim " + std::to_string(dim) +
                       " index " + std::to_string(idx));
    }
  }
  // A 1-D input gives a 0-D result.
  at::Tensor v = data(DataType::kFLOAT, {6}, 9);
  at::Tensor got = run_block({v}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sel::select(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0, -2);
  });
  expect_close(got, at::select(v, 0, -2), 1.0, "select 1-d");
}

// An advanced-indexing case: which entries are None, and the index tensors (ints or masks).
struct IndexCase {
  std::string name;
  std::vector<int64_t> shape;
  // nullopt: None; otherwise the index tensor (its type decides int vs mask).
  std::function<std::vector<std::optional<at::Tensor>>(DataType, uint64_t)> make;
};

std::vector<IndexCase> index_cases() {
  auto ints = [](DataType it, std::vector<int64_t> s, uint64_t seed, int64_t n) {
    // Negative indices wrap in at::index as in the block.
    return std::optional<at::Tensor>(
        random(it, s, seed, static_cast<double>(-n), static_cast<double>(n - 1)));
  };
  auto none = std::optional<at::Tensor>();
  return {
      {"one tensor on dim 0",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{ints(it, {2, 3}, s, 4)};
       }},
      {"None then one tensor",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{none, ints(it, {6}, s, 3)};
       }},
      {"two broadcast tensors in front",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{ints(it, {2, 1}, s, 4), ints(it, {3}, s + 1, 3)};
       }},
      {"two adjacent tensors after None",
       {4, 3, 5, 2},
       [=](DataType it, uint64_t s) {
         return std::vector{none, ints(it, {2, 3}, s, 3), ints(it, {1, 3}, s + 1, 5)};
       }},
      {"tensors separated by None go first",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{ints(it, {2, 2}, s, 4), none, ints(it, {2}, s + 1, 5)};
       }},
      {"three tensors",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{ints(it, {3}, s, 4), ints(it, {3}, s + 1, 3), ints(it, {1}, s + 2, 5)};
       }},
      {"0-d index tensors",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         return std::vector{none, ints(it, {}, s, 3), ints(it, {}, s + 1, 5)};
       }},
      {"2-d bool mask",
       {4, 3, 5},
       [=](DataType, uint64_t s) {
         return std::vector{std::optional<at::Tensor>(random(DataType::kBOOL, {4, 3}, s))};
       }},
      {"None then 1-d mask",
       {4, 3, 5},
       [=](DataType, uint64_t s) {
         return std::vector{none, std::optional<at::Tensor>(random(DataType::kBOOL, {3}, s))};
       }},
      {"mask and int tensor",
       {4, 3, 5},
       [=](DataType it, uint64_t s) {
         at::Tensor m = random(DataType::kBOOL, {4}, s);
         m[1] = true;  // so the count is not 0 and not 4 for every seed
         m[2] = false;
         return std::vector{std::optional<at::Tensor>(m), none, ints(it, {1}, s + 1, 5)};
       }},
  };
}

at::Tensor index_reference(const at::Tensor& x, const std::vector<std::optional<at::Tensor>>& ix) {
  c10::List<c10::optional<at::Tensor>> list;
  for (const auto& t : ix) {
    if (!t) {
      list.push_back(c10::nullopt);
    } else {
      list.push_back(t->scalar_type() == at::kBool ? *t : t->to(at::kLong));
    }
  }
  return at::index(x, list);
}

TEST(ImplSelect, IndexAdvancedIndexingCases) {
  uint64_t seed = 400;
  for (const IndexCase& c : index_cases()) {
    for (DataType t : kAll) {
      for (DataType it : kIndexTypes) {
        at::Tensor x = data(t, c.shape, seed++);
        std::vector<std::optional<at::Tensor>> ix = c.make(it, seed);
        seed += 3;
        std::vector<at::Tensor> inputs{x};
        for (const auto& e : ix)
          if (e) inputs.push_back(*e);
        at::Tensor got =
            run_block(inputs, [&](ConversionContext& ctx, const std::vector<Tensor*>& in) {
              std::vector<std::optional<Operand>> ops;
              size_t k = 1;
              for (const auto& e : ix) {
                if (e) {
                  ops.emplace_back(in[k++]);
                } else {
                  ops.emplace_back(std::nullopt);
                }
              }
              return sel::index(ctx, kTarget, SourceIR::kATEN, "ix", in[0], ops);
            });
        expect_close(got, index_reference(x, ix), 1.0, what("index: " + c.name, t, it));
      }
    }
  }
}

TEST(ImplSelect, IndexWithIntScalarEntry) {
  at::Tensor x = data(DataType::kFLOAT, {4, 3, 5}, 11);
  at::Tensor j = random(DataType::kINT64, {2}, 12, 0, 4);
  at::Tensor got = run_block({x, j}, [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
    return sel::index(ctx, kTarget, SourceIR::kATEN, "ix", in[0],
                      {std::nullopt, Operand(int64_t{-1}), Operand(in[1])});
  });
  expect_close(got, index_reference(x, {std::nullopt, at::scalar_tensor(-1, at::kLong), j}), 1.0,
               "index with int scalar");
}

TEST(ImplSelect, DynamicShapesAtMinOptMax) {
  // gather and select with every dim dynamic (select's negative index wraps at run time).
  auto gset = [](int64_t a, int64_t b, uint64_t s) {
    return std::vector<at::Tensor>{data(DataType::kFLOAT, {a, b}, s),
                                   random(DataType::kINT32, {a, 2}, s + 1, 0, 0)};
  };
  run_block_dynamic(
      {gset(1, 1, 1), gset(3, 4, 2), gset(6, 7, 3)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* g = sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], 1, in[1]);
        return sel::select(ctx, kTarget, SourceIR::kATEN, "s", g, 1, -1);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        expect_close(out, at::select(at::gather(in[0], 1, in[1].to(at::kLong)), 1, -1), 1.0,
                     "dynamic gather+select");
      });
  // index with two separated index tensors and a mask, all dynamic.
  auto iset = [](int64_t a, int64_t b, int64_t c, int64_t n, uint64_t s) {
    return std::vector<at::Tensor>{
        data(DataType::kHALF, {a, b, c}, s), random(DataType::kINT64, {n, 1}, s + 1, -a, a - 1),
        random(DataType::kINT32, {n}, s + 2, 0, c - 1), random(DataType::kBOOL, {b}, s + 3)};
  };
  run_block_dynamic(
      {iset(1, 1, 1, 1, 10), iset(3, 4, 5, 2, 20), iset(5, 6, 7, 4, 30)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        Tensor* a = sel::index(ctx, kTarget, SourceIR::kATEN, "a", in[0],
                               {Operand(in[1]), std::nullopt, Operand(in[2])});
        Tensor* b =
            sel::index(ctx, kTarget, SourceIR::kATEN, "b", in[0], {std::nullopt, Operand(in[3])});
        // Both results flattened and joined so one output checks both.
        ShuffleAttrs flat;
        flat.reshape_dims = Dims{-1};
        Tensor* fa = ctx.net().add_shuffle(a, flat)->output(0);
        Tensor* fb = ctx.net().add_shuffle(b, flat)->output(0);
        std::vector<Tensor*> parts{fa, fb};
        return ctx.net().add_concatenation(parts, 0)->output(0);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        at::Tensor a = index_reference(in[0], {in[1], std::nullopt, in[2]});
        at::Tensor b = index_reference(in[0], {std::nullopt, in[3]});
        expect_close(out, at::cat({a.reshape(-1), b.reshape(-1)}), 1.0, "dynamic index");
      });
  // index_select and gather_nd with dynamic dims.
  auto nset = [](int64_t a, int64_t b, int64_t n, uint64_t s) {
    return std::vector<at::Tensor>{data(DataType::kINT64, {a, b}, s),
                                   at::stack({random(DataType::kINT64, {n}, s + 1, 0, a - 1),
                                              random(DataType::kINT64, {n}, s + 2, 0, b - 1)},
                                             -1),
                                   random(DataType::kINT32, {n}, s + 3, 0, b - 1)};
  };
  run_block_dynamic(
      {nset(1, 1, 1, 40), nset(2, 3, 4, 50), nset(4, 5, 6, 60)},
      [](ConversionContext& ctx, const std::vector<Tensor*>& in) {
        // GatherND needs a static tuple length; the converter knows it (ONNX shape inference).
        ShuffleAttrs pairs;
        pairs.reshape_dims = Dims{-1, 2};
        Tensor* tuples = ctx.net().add_shuffle(in[1], pairs)->output(0);
        Tensor* g = sel::gather_nd(ctx, kTarget, SourceIR::kONNX, "nd", in[0], tuples);
        Tensor* s = sel::index_select(ctx, kTarget, SourceIR::kATEN, "is", in[0], 1, in[2]);
        ShuffleAttrs flat;
        flat.reshape_dims = Dims{-1};
        Tensor* fs = ctx.net().add_shuffle(s, flat)->output(0);
        std::vector<Tensor*> parts{g, fs};
        return ctx.net().add_concatenation(parts, 0)->output(0);
      },
      [](const std::vector<at::Tensor>& in, const at::Tensor& out) {
        at::Tensor g = gather_nd_reference(in[0], in[1], 0);
        at::Tensor s = at::index_select(in[0], 1, in[2].to(at::kLong));
        expect_close(out, at::cat({g, s.reshape(-1)}), 1.0, "dynamic gather_nd+index_select");
      });
}

TEST(ImplSelect, ErrorsLeaveTheNetworkUnchanged) {
  at::Tensor x = data(DataType::kFLOAT, {3, 4}, 1);
  at::Tensor i2 = random(DataType::kINT64, {3, 2}, 2, 0, 2);
  at::Tensor i1 = random(DataType::kINT64, {3}, 3, 0, 2);
  at::Tensor f2 = data(DataType::kFLOAT, {3, 2}, 4);
  using In = const std::vector<Tensor*>&;
  expect_block_error({x, i2},
                     [](ConversionContext& ctx, In in) {
                       return sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], 2, in[1]);
                     },
                     {"select::gather", "test.op", "'g'", "dim 2", "rank-2", "-2..1"});
  expect_block_error({x, f2},
                     [](ConversionContext& ctx, In in) {
                       return sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], 1, in[1]);
                     },
                     {"gather index", "int32 or int64", "float32"});
  expect_block_error({x, i1},
                     [](ConversionContext& ctx, In in) {
                       return sel::gather(ctx, kTarget, SourceIR::kATEN, "g", in[0], 0, in[1]);
                     },
                     {"input's rank", "[3,4]", "[3]"});
  expect_block_error({x},
                     [](ConversionContext& ctx, In in) {
                       return sel::select(ctx, kTarget, SourceIR::kATEN, "s", in[0], 1, 4);
                     },
                     {"select::select", "index 4", "out of range", "size 4"});
  expect_block_error({x},
                     [](ConversionContext& ctx, In in) {
                       return sel::select(ctx, kTarget, SourceIR::kATEN, "s", in[0], -3, 0);
                     },
                     {"dim -3", "-2..1"});
  expect_block_error({x, i2},
                     [](ConversionContext& ctx, In in) {
                       return sel::index_select(ctx, kTarget, SourceIR::kATEN, "s", in[0], 0,
                                                in[1]);
                     },
                     {"index_select", "0-D or 1-D", "[3,2]"});
  expect_block_error({x, f2},
                     [](ConversionContext& ctx, In in) {
                       return sel::index(ctx, kTarget, SourceIR::kATEN, "ix", in[0],
                                         {Operand(in[1])});
                     },
                     {"select::index", "index 0", "float32"});
  expect_block_error({x, i1},
                     [](ConversionContext& ctx, In in) {
                       return sel::index(ctx, kTarget, SourceIR::kATEN, "ix", in[0],
                                         {Operand(in[1]), Operand(in[1]), Operand(in[1])});
                     },
                     {"too many indices", "rank 2"});
  expect_block_error({x, random(DataType::kBOOL, {4}, 5)},
                     [](ConversionContext& ctx, In in) {
                       return sel::index(ctx, kTarget, SourceIR::kATEN, "ix", in[0],
                                         {Operand(in[1])});
                     },
                     {"mask 0", "[4]", "does not match", "4 vs 3"});
  expect_block_error({x, i2},
                     [](ConversionContext& ctx, In in) {
                       return sel::gather_nd(ctx, kTarget, SourceIR::kONNX, "nd", in[0], in[1], 2);
                     },
                     {"batch_dims 2", "0..1"});
}

TEST(ImplSelect, LayerNamesFollowTheConvention) {
  Network net;
  ConversionContext ctx(net);
  Tensor* x = net.add_input("x", DataType::kFLOAT, {4, 3, 5});
  Tensor* i = net.add_input("i", DataType::kINT32, {2});
  Tensor* j = net.add_input("j", DataType::kINT64, {2});
  Tensor* s = sel::select(ctx, "select.int", SourceIR::kATEN, "sel", x, 1, -1);
  EXPECT_EQ(s->producer()->name(), "[GATHER]-[aten_ops.select.int]-[sel]");
  EXPECT_NE(net.find_layer("[CONSTANT]-[aten_ops.select.int]-[sel_index]"), nullptr);
  Tensor* g = sel::index_select(ctx, "index_select", std::nullopt, "is", x, 0, i);
  EXPECT_EQ(g->producer()->name(), "[GATHER]-[unknown_ops.index_select]-[is]");
  // Adjacent index tensors after a None: GatherND then a transpose named after the block.
  Tensor* a = sel::index(ctx, "index.Tensor", SourceIR::kATEN, "adv", x,
                         {std::nullopt, Operand(i), Operand(j)});
  EXPECT_EQ(a->producer()->name(), "[SHUFFLE]-[aten_ops.index.Tensor]-[adv]");
  EXPECT_EQ(a->dims(), (Dims{4, 2}));
  for (const char* sub : {"[CAST]-[aten_ops.index.Tensor]-[adv_index1_int64]",
                          "[SHUFFLE]-[aten_ops.index.Tensor]-[adv_column0]",
                          "[SHUFFLE]-[aten_ops.index.Tensor]-[adv_column1]",
                          "[CONCATENATION]-[aten_ops.index.Tensor]-[adv_tuples]",
                          "[SHUFFLE]-[aten_ops.index.Tensor]-[adv_front]",
                          "[GATHER]-[aten_ops.index.Tensor]-[adv_gather]"})
    EXPECT_NE(net.find_layer(sub), nullptr) << sub << "\n" << net.to_string();
  Tensor* a2 = sel::index(ctx, "index.Tensor", SourceIR::kATEN, "adv", x, {Operand(i)});
  // One index tensor is a single Gather; its name differs from the first call's Shuffle by kind.
  EXPECT_EQ(a2->producer()->name(), "[GATHER]-[aten_ops.index.Tensor]-[adv]");
  Tensor* a3 = sel::index(ctx, "index.Tensor", SourceIR::kATEN, "adv", x, {Operand(j)});
  EXPECT_EQ(a3->producer()->name(), "[GATHER]-[aten_ops.index.Tensor]-[adv]_1");
}

}  // namespace
}  // namespace lktest
