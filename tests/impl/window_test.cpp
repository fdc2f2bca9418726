// window building blocks against at::hann_window, at::hamming_window and at::blackman_window.
#include "layerkit/impl/window.h"

#include <ATen/ATen.h>

#include "impl/impl_test_util.h"

namespace lktest {
namespace {

namespace wn = layerkit::impl::window;

const Target kTarget("test.op");

at::Tensor run_window(const std::function<Tensor*(ConversionContext&)>& block) {
  Network net;
  ConversionContext ctx(net);
  net.mark_output(block(ctx));
  return run(net, {}).at(0);
}

TEST(ImplWindow, MatchesAtenForSizesAndPeriodicity) {
  for (int64_t size : {1, 2, 5, 16, 33}) {
    for (bool periodic : {true, false}) {
      const std::string what = std::to_string(size) + (periodic ? " periodic" : " symmetric");
      expect_close(run_window([&](ConversionContext& c) {
                     return wn::hann_window(c, kTarget, SourceIR::kATEN, "w", size, periodic);
                   }),
                   at::hann_window(size, periodic), 1.0, "hann " + what);
      expect_close(run_window([&](ConversionContext& c) {
                     return wn::hamming_window(c, kTarget, SourceIR::kATEN, "w", size, periodic,
                                               0.6, 0.4);
                   }),
                   at::hamming_window(size, periodic, 0.6, 0.4), 1.0, "hamming " + what);
      expect_close(run_window([&](ConversionContext& c) {
                     return wn::blackman_window(c, kTarget, SourceIR::kATEN, "w", size, periodic);
                   }),
                   at::blackman_window(size, periodic), 1.0, "blackman " + what);
    }
  }
  expect_close(run_window([&](ConversionContext& c) {
                 return wn::hann_window(c, kTarget, SourceIR::kATEN, "w", 8, true, DataType::kHALF);
               }),
               at::hann_window(8, true, at::TensorOptions().dtype(at::kFloat)).to(at::kHalf), 1.0,
               "hann fp16");
}

TEST(ImplWindow, BadArgumentsFail) {
  Network net;
  ConversionContext ctx(net);
  const std::string before = net.to_string();
  try {
    wn::hann_window(ctx, kTarget, SourceIR::kATEN, "w", -1);
    FAIL() << "negative size accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("size must be >= 0, got -1"), std::string::npos);
  }
  try {
    wn::blackman_window(ctx, kTarget, SourceIR::kATEN, "w", 4, true, DataType::kINT32);
    FAIL() << "int dtype accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dtype must be a float type"), std::string::npos);
  }
  EXPECT_EQ(net.to_string(), before);
}

}  // namespace
}  // namespace lktest
