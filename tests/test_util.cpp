// Test helpers: ATen interop, running networks on the CPU engine, per-dtype comparison.
#include "test_util.h"

#include <cstdlib>
#include <cstring>
#include <random>

namespace lktest {

at::ScalarType to_aten(DataType t) {
  switch (t) {
    case DataType::kFLOAT:
      return at::kFloat;
    case DataType::kHALF:
      return at::kHalf;
    case DataType::kBF16:
      return at::kBFloat16;
    case DataType::kINT8:
      return at::kChar;
    case DataType::kUINT8:
      return at::kByte;
    case DataType::kINT32:
      return at::kInt;
    case DataType::kINT64:
      return at::kLong;
    case DataType::kBOOL:
      return at::kBool;
    case DataType::kFP8:
    case DataType::kINT4:
    case DataType::kFP4:
    case DataType::kE8M0:
      break;
  }
  ADD_FAILURE() << "ATen 1.13 has no type for " << data_type_name(t);
  throw std::runtime_error("no ATen type");
}

DataType from_aten(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return DataType::kFLOAT;
    case at::kHalf:
      return DataType::kHALF;
    case at::kBFloat16:
      return DataType::kBF16;
    case at::kChar:
      return DataType::kINT8;
    case at::kByte:
      return DataType::kUINT8;
    case at::kInt:
      return DataType::kINT32;
    case at::kLong:
      return DataType::kINT64;
    case at::kBool:
      return DataType::kBOOL;
    default:
      break;
  }
  ADD_FAILURE() << "no layerkit type for ATen type " << t;
  throw std::runtime_error("no layerkit type");
}

Dims dims_of(const at::Tensor& t) {
  std::vector<int64_t> s(t.sizes().begin(), t.sizes().end());
  return Dims(std::span<const int64_t>(s));
}

at::Tensor random(DataType t, const std::vector<int64_t>& shape, uint64_t seed, double lo,
                  double hi) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  if (t == DataType::kBOOL) return at::randint(0, 2, shape, gen, at::kLong).to(at::kBool);
  if (is_integer(t))
    return at::randint(static_cast<int64_t>(lo), static_cast<int64_t>(hi) + 1, shape, gen,
                       at::kLong)
        .to(to_aten(t));
  at::Tensor f = at::rand(shape, gen, at::kFloat) * (hi - lo) + lo;
  return f.to(to_aten(t));
}

Tensor* constant(Network& net, const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  Weights w = Weights::copy(from_aten(c.scalar_type()), c.data_ptr(), c.numel());
  return net.add_constant(dims_of(c), w)->output(0);
}

Runner::Runner(const Network& net, BuilderConfig config, std::optional<int> level) {
  if (level) {
    config.optimization_level = *level;
  } else if (const char* env = std::getenv("LAYERKIT_TEST_OPT_LEVEL"); env && *env) {
    config.optimization_level = std::atoi(env);
  }
  // Without `level`, LAYERKIT_TEST_REFERENCE_KERNELS=1 also sets reference_kernels_only: ctest
  // runs every test program once that way too (the reference engine against ATen).
  if (const char* env = std::getenv("LAYERKIT_TEST_REFERENCE_KERNELS");
      !level && env && *env == '1')
    config.reference_kernels_only = true;
  engine_ = Builder::build(net, config);
  ctx_ = engine_->create_execution_context();
}

std::vector<at::Tensor> Runner::run(const std::vector<at::Tensor>& inputs) {
  const Network& net = engine_->network();
  EXPECT_EQ(static_cast<int>(inputs.size()), net.num_inputs());
  std::vector<at::Tensor> keep;
  for (int i = 0; i < net.num_inputs(); ++i) {
    at::Tensor c = inputs[static_cast<size_t>(i)].contiguous();
    keep.push_back(c);
    const Tensor* t = net.input(i);
    if (!t->dims().is_static()) ctx_->set_input_shape(t->name(), dims_of(c));
    ctx_->set_input(t->name(), c.data_ptr());
  }
  ctx_->execute();
  std::vector<at::Tensor> outs;
  for (int i = 0; i < net.num_outputs(); ++i) {
    const OwnedTensor& o = ctx_->output(net.output(i)->name());
    std::vector<int64_t> shape(o.dims.begin(), o.dims.end());
    at::Tensor r = at::empty(shape, at::TensorOptions().dtype(to_aten(o.type)));
    if (!o.data.empty()) std::memcpy(r.data_ptr(), o.data.data(), o.data.size());
    outs.push_back(r);
  }
  return outs;
}

std::vector<at::Tensor> run(const Network& net, const std::vector<at::Tensor>& inputs,
                            BuilderConfig config) {
  Runner r(net, std::move(config));
  return r.run(inputs);
}

std::vector<at::Tensor> run_at_level(const Network& net, const std::vector<at::Tensor>& inputs,
                                     int level, BuilderConfig config) {
  Runner r(net, std::move(config), level);
  return r.run(inputs);
}

at::Tensor run1(const Network& net, const std::vector<at::Tensor>& inputs, BuilderConfig config) {
  auto outs = run(net, inputs, std::move(config));
  EXPECT_EQ(outs.size(), 1u);
  return outs.at(0);
}

Tolerance tolerance_for(DataType t, double scale) {
  switch (t) {
    case DataType::kFLOAT:
      return {1.3e-6 * scale, 1e-5 * scale};
    case DataType::kHALF:
      return {1e-3 * scale, 1e-5 * scale};
    case DataType::kBF16:
      return {1.6e-2 * scale, 1e-5 * scale};
    default:
      return {0.0, 0.0};
  }
}

void expect_close(const at::Tensor& actual, const at::Tensor& expected, double scale,
                  const std::string& what) {
  ASSERT_EQ(actual.scalar_type(), expected.scalar_type()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  DataType t = from_aten(expected.scalar_type());
  Tolerance tol = tolerance_for(t, scale);
  if (!is_floating(t)) {
    at::Tensor a = actual.to(at::kLong), e = expected.to(at::kLong);
    at::Tensor bad = at::ne(a, e);
    int64_t nbad = bad.sum().item<int64_t>();
    if (nbad) {
      int64_t first = bad.flatten().nonzero().flatten()[0].item<int64_t>();
      ADD_FAILURE() << what << ": " << nbad << " of " << a.numel() << " elements differ; first at "
                    << first << ": got " << a.flatten()[first].item<int64_t>() << ", expected "
                    << e.flatten()[first].item<int64_t>();
    }
    return;
  }
  at::Tensor a = actual.to(at::kDouble), e = expected.to(at::kDouble);
  at::Tensor both_nan = at::logical_and(at::isnan(a), at::isnan(e));
  at::Tensor same = at::eq(a, e);  // covers infinities
  at::Tensor close = at::le(at::abs(a - e), tol.atol + tol.rtol * at::abs(e));
  at::Tensor ok = at::logical_or(at::logical_or(both_nan, same), close);
  int64_t nbad = ok.numel() - ok.sum().item<int64_t>();
  if (nbad) {
    int64_t first = at::logical_not(ok).flatten().nonzero().flatten()[0].item<int64_t>();
    double av = a.flatten()[first].item<double>(), ev = e.flatten()[first].item<double>();
    ADD_FAILURE() << what << ": " << nbad << " of " << a.numel() << " elements outside rtol "
                  << tol.rtol << " atol " << tol.atol << " (" << data_type_name(t)
                  << "); first at flat index " << first << ": got " << av << ", expected " << ev
                  << ", |diff| " << std::abs(av - ev);
  }
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments,
                  ErrorCode code) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "message lacks '" << frag << "': " << e.what();
    return;
  }
  ADD_FAILURE() << "expected layerkit::Error";
}

void expect_error_unchanged(Network& net, const std::function<void()>& f,
                            const std::vector<std::string>& fragments) {
  std::string before = net.to_string();
  int layers = net.num_layers();
  expect_error(f, fragments);
  EXPECT_EQ(net.num_layers(), layers);
  EXPECT_EQ(net.to_string(), before);
}

}  // namespace lktest
