// einsum: parse the equation into per-dim labels, sum labels used by one operand only, then
// contract operands pairwise with MatrixMultiply ([batch, free, contracted] x [batch, contracted,
// free]) and permute the result to the output's labels.
#include "layerkit/impl/einsum.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "impl/expand_util.h"
#include "impl/shape_math.h"
#include "layerkit/impl/utils.h"

namespace layerkit::impl::einsum {

namespace {

// Letters are their ASCII codes; the k-th "..." dim (of the widest ellipsis) is kEllipsis + k.
constexpr int kEllipsis = 256;

using Labels = std::vector<int>;

struct Operation {
  std::vector<Labels> inputs;
  Labels output;
};

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string label_name(int l) {
  return l >= kEllipsis ? detail::cat("...#", l - kEllipsis) : std::string(1, static_cast<char>(l));
}

// One term: its letters, and the position of "..." among them (-1 when absent).
struct Term {
  std::vector<char> letters;
  int ellipsis_at = -1;
};

Term parse_term(std::string_view t, std::string_view equation) {
  Term term;
  for (size_t i = 0; i < t.size();) {
    if (t.substr(i, 3) == "...") {
      LK_CHECK(term.ellipsis_at < 0, "equation \"", equation, "\": term \"", t,
               "\" has more than one \"...\"");
      term.ellipsis_at = static_cast<int>(term.letters.size());
      i += 3;
      continue;
    }
    LK_CHECK(is_letter(t[i]), "equation \"", equation, "\": '", std::string(1, t[i]),
             "' is not a letter (labels are a-z, A-Z) or part of \"...\"");
    term.letters.push_back(t[i]);
    ++i;
  }
  return term;
}

Operation parse(std::string_view eq_in, const std::vector<Tensor*>& operands) {
  std::string eq;
  for (char c : eq_in)
    if (c != ' ') eq.push_back(c);
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string_view> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(std::string_view(lhs).substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  LK_CHECK(terms.size() == operands.size(), "equation \"", eq_in, "\" has ", terms.size(),
           " input terms but ", operands.size(), " operands were given");
  std::vector<Term> parsed;
  int widest = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    Term t = parse_term(terms[i], eq_in);
    int rank = operands[i]->dims().rank();
    int n = static_cast<int>(t.letters.size());
    if (t.ellipsis_at < 0)
      LK_CHECK(rank == n, "equation \"", eq_in, "\": term \"", terms[i], "\" has ", n,
               " labels but operand ", i, " ", operands[i]->dims().to_string(), " has rank ", rank);
    else
      LK_CHECK(rank >= n, "equation \"", eq_in, "\": term \"", terms[i], "\" has ", n,
               " labels besides \"...\" but operand ", i, " ", operands[i]->dims().to_string(),
               " has rank ", rank);
    if (t.ellipsis_at >= 0) widest = std::max(widest, rank - n);
    parsed.push_back(t);
  }
  Operation op;
  std::map<int, int> count;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const Term& t = parsed[i];
    int rank = operands[i]->dims().rank();
    int e = t.ellipsis_at < 0 ? 0 : rank - static_cast<int>(t.letters.size());
    Labels l;
    for (int k = 0; k <= static_cast<int>(t.letters.size()); ++k) {
      if (k == t.ellipsis_at)
        for (int j = 0; j < e; ++j) l.push_back(kEllipsis + widest - e + j);
      if (k < static_cast<int>(t.letters.size())) l.push_back(t.letters[static_cast<size_t>(k)]);
    }
    std::set<int> seen;
    for (int x : l) {
      LK_CHECK(seen.insert(x).second, "equation \"", eq_in, "\": label '", label_name(x),
               "' repeats within term \"", terms[i],
               "\"; diagonals (repeated labels in one operand) are not supported");
      ++count[x];
    }
    op.inputs.push_back(l);
  }
  if (arrow != std::string::npos) {
    Term out = parse_term(std::string_view(eq).substr(arrow + 2), eq_in);
    LK_CHECK(widest == 0 || out.ellipsis_at >= 0, "equation \"", eq_in,
             "\": the operands' \"...\" covers ", widest,
             " dims but the output has no \"...\"; add it to the output");
    std::set<int> seen;
    for (int k = 0; k <= static_cast<int>(out.letters.size()); ++k) {
      if (k == out.ellipsis_at)
        for (int j = 0; j < widest; ++j) op.output.push_back(kEllipsis + j);
      if (k < static_cast<int>(out.letters.size())) {
        int x = out.letters[static_cast<size_t>(k)];
        LK_CHECK(count.count(x), "equation \"", eq_in, "\": output label '", label_name(x),
                 "' appears in no input");
        LK_CHECK(seen.insert(x).second, "equation \"", eq_in, "\": output label '", label_name(x),
                 "' repeats");
        op.output.push_back(x);
      }
    }
  } else {
    for (int j = 0; j < widest; ++j) op.output.push_back(kEllipsis + j);
    for (auto [x, c] : count)  // std::map: ASCII order
      if (x < kEllipsis && c == 1) op.output.push_back(x);
  }
  return op;
}

bool contains(const Labels& l, int x) {
  return std::find(l.begin(), l.end(), x) != l.end();
}

int position(const Labels& l, int x) {
  return static_cast<int>(std::find(l.begin(), l.end(), x) - l.begin());
}

struct Builder {
  ConversionContext& ctx;
  const Target& target;
  std::optional<SourceIR> source_ir;
  std::string_view name;
  int counter = 0;

  std::string next(std::string_view what) { return sub_name(name, detail::cat(what, counter++)); }

  // Sums the labels of `t` not in `keep`.
  Tensor* sum_out(Tensor* t, Labels& l, const std::set<int>& keep) {
    AxesMask mask = 0;
    Labels rest;
    for (size_t i = 0; i < l.size(); ++i) {
      if (keep.count(l[i]))
        rest.push_back(l[i]);
      else
        mask |= AxesMask{1} << i;
    }
    if (!mask) return t;
    Tensor* r = named_output(ctx, ctx.net().add_reduce(t, ReduceOperation::kSUM, mask, false),
                             target, source_ir, next("sum"));
    l = rest;
    return r;
  }

  // Permutes `t` (labels `from`) to the label order `to`.
  Tensor* permute(Tensor* t, const Labels& from, const Labels& to, std::string_view n) {
    ShuffleAttrs s;
    bool identity = true;
    for (size_t i = 0; i < to.size(); ++i) {
      int p = position(from, to[i]);
      s.first_transpose.push_back(p);
      identity = identity && p == static_cast<int>(i);
    }
    if (identity) return t;
    return named_output(ctx, ctx.net().add_shuffle(t, s), target, source_ir, n);
  }

  // Contracts a (labels la) with b (labels lb), keeping the labels in `keep`; returns the result
  // with its labels in `lo`: [batch, a free, b free].
  Tensor* contract(Tensor* a, Labels la, Tensor* b, Labels lb, const std::set<int>& keep,
                   Labels& lo) {
    std::set<int> keep_a = keep, keep_b = keep;
    for (int x : lb) keep_a.insert(x);
    for (int x : la) keep_b.insert(x);
    a = sum_out(a, la, keep_a);
    b = sum_out(b, lb, keep_b);
    Labels batch, con, afree, bfree;
    for (int x : la) {
      if (contains(lb, x))
        (keep.count(x) ? batch : con).push_back(x);
      else
        afree.push_back(x);
    }
    for (int x : lb)
      if (!contains(la, x)) bfree.push_back(x);
    for (int x : con) {
      int64_t sa = a->dims()[position(la, x)], sb = b->dims()[position(lb, x)];
      LK_CHECK(sa < 0 || sb < 0 || sa == sb, "label '", label_name(x), "' has size ", sa,
               " in one operand and ", sb, " in another");
    }
    const int nb = static_cast<int>(batch.size());
    auto order = [](std::initializer_list<const Labels*> parts) {
      Labels o;
      for (const Labels* p : parts) o.insert(o.end(), p->begin(), p->end());
      return o;
    };
    Labels pa = order({&batch, &afree, &con}), pb = order({&batch, &con, &bfree});
    Tensor* ap = permute(a, la, pa, next("lhs_permute"));
    Tensor* bp = permute(b, lb, pb, next("rhs_permute"));
    // Note [Reshape by input dims]: [batch..., prod(first group), prod(second group)].
    auto groups = [nb](size_t g1, size_t g2) {
      std::vector<std::vector<int>> g;
      int d = 0;
      for (int i = 0; i < nb; ++i) g.push_back({d++});
      std::vector<int> x, y;
      for (size_t i = 0; i < g1; ++i) x.push_back(d++);
      for (size_t i = 0; i < g2; ++i) y.push_back(d++);
      g.push_back(x);
      g.push_back(y);
      return g;
    };
    Tensor* am = reshape_groups(ctx, ap, groups(afree.size(), con.size()), target, source_ir,
                                next("lhs_matrix"));
    Tensor* bm = reshape_groups(ctx, bp, groups(con.size(), bfree.size()), target, source_ir,
                                next("rhs_matrix"));
    Tensor* c = named_output(
        ctx, ctx.net().add_matrix_multiply(am, MatrixOperation::kNONE, bm, MatrixOperation::kNONE),
        target, source_ir, next("matmul"));
    lo = order({&batch, &afree, &bfree});
    // Back to one dim per label: batch dims from the product (broadcast), free dims from the
    // operands.
    std::vector<expand_util::DimTarget> dims;
    auto dim_of = [&](Tensor* t, int d) -> expand_util::DimTarget {
      int64_t n = t->dims()[d];
      if (n >= 0) return {n, nullptr};
      return {std::nullopt, shape_math::dim_size(ctx, t, d, target, source_ir, next("dim"))};
    };
    for (int i = 0; i < nb; ++i) dims.push_back(dim_of(c, i));
    for (size_t i = 0; i < afree.size(); ++i) dims.push_back(dim_of(ap, nb + static_cast<int>(i)));
    for (size_t i = 0; i < bfree.size(); ++i)
      dims.push_back(dim_of(bp, nb + static_cast<int>(con.size() + i)));
    if (afree.size() == 1 && bfree.size() == 1) return c;  // already one dim per label
    return reshape_to(c, dims);
  }

  Tensor* reshape_to(Tensor* t, const std::vector<expand_util::DimTarget>& dims) {
    bool known = std::all_of(dims.begin(), dims.end(), [](const auto& d) { return d.size; });
    ShuffleAttrs s;
    s.zero_is_placeholder = false;
    if (known) {
      Dims d = Dims::of_rank(static_cast<int>(dims.size()));
      for (size_t i = 0; i < dims.size(); ++i) d[static_cast<int>(i)] = *dims[i].size;
      s.reshape_dims = d;
      return named_output(ctx, ctx.net().add_shuffle(t, s), target, source_ir, next("unflatten"));
    }
    std::vector<Tensor*> pieces;
    for (const auto& d : dims)
      pieces.push_back(d.size
                           ? shape_math::i64_const(ctx, {*d.size}, target, source_ir, next("size"))
                           : d.tensor);
    Tensor* cat =
        named_output(ctx, ctx.net().add_concatenation(pieces, 0), target, source_ir, next("shape"));
    return named_output(ctx, ctx.net().add_shuffle(t, s, cat), target, source_ir,
                        next("unflatten"));
  }
};

}  // namespace

Tensor* einsum(ConversionContext& ctx, const Target& target, std::optional<SourceIR> source_ir,
               std::string_view name, std::string_view equation,
               const std::vector<Tensor*>& operands) {
  std::vector<Operand> ops(operands.begin(), operands.end());
  return guarded_list(ctx, "einsum::einsum", target, name, ops, [&]() -> Tensor* {
    LK_CHECK(!operands.empty(), "einsum needs at least one operand");
    std::vector<const Operand*> ptrs;
    for (size_t i = 0; i < operands.size(); ++i) {
      LK_CHECK(operands[i] != nullptr, "operand ", i, " is a null tensor");
      ptrs.push_back(&ops[i]);
    }
    DataType type = result_type(std::span<const Operand* const>(ptrs));
    LK_CHECK(type == DataType::kFLOAT || type == DataType::kHALF || type == DataType::kBF16,
             "einsum computes in float32, float16 or bfloat16; the operands promote to ",
             data_type_name(type));
    Operation op = parse(equation, operands);
    // Label sizes must agree (only "..." dims, which may be 1, broadcast).
    std::map<int, int64_t> size;
    for (size_t i = 0; i < operands.size(); ++i) {
      for (size_t k = 0; k < op.inputs[i].size(); ++k) {
        int x = op.inputs[i][k];
        int64_t n = operands[i]->dims()[static_cast<int>(k)];
        auto it = size.find(x);
        if (it == size.end() || it->second < 0 || (x >= kEllipsis && it->second == 1)) {
          if (it == size.end() || n >= 0) size[x] = n;
          continue;
        }
        bool ok = n < 0 || n == it->second || (x >= kEllipsis && n == 1);
        LK_CHECK(ok, "equation \"", equation, "\": label '", label_name(x), "' has size ",
                 it->second, " in an earlier operand but ", n, " in operand ", i, " ",
                 operands[i]->dims().to_string());
      }
    }
    Builder b{ctx, target, source_ir, name};
    DataType ct = compute_type(type);
    // Later operands' labels and the output's must survive each step.
    std::vector<std::set<int>> needed_after(operands.size());
    std::set<int> acc(op.output.begin(), op.output.end());
    for (size_t i = operands.size(); i-- > 0;) {
      needed_after[i] = acc;
      acc.insert(op.inputs[i].begin(), op.inputs[i].end());
    }
    Tensor* cur = cast_to(ctx, operands[0], ct, target, source_ir, sub_name(name, "cast0"));
    Labels lc = op.inputs[0];
    if (operands.size() == 1) cur = b.sum_out(cur, lc, needed_after[0]);
    for (size_t i = 1; i < operands.size(); ++i) {
      Tensor* next =
          cast_to(ctx, operands[i], ct, target, source_ir, sub_name(name, detail::cat("cast", i)));
      Labels lo;
      cur = b.contract(cur, lc, next, op.inputs[i], needed_after[i], lo);
      lc = lo;
    }
    cur = b.permute(cur, lc, op.output, ct == type ? std::string(name) : b.next("permute"));
    Tensor* out = cast_to(ctx, cur, type, target, source_ir, name);
    // Note [Layer naming]: the block's last layer carries `name`, whichever step it is (an
    // operand returned unchanged, as for "ij->ij", keeps its own).
    if (std::find(operands.begin(), operands.end(), out) == operands.end())
      set_layer_name(ctx, out->producer(), target, source_ir, name);
    return out;
  });
}

}  // namespace layerkit::impl::einsum
