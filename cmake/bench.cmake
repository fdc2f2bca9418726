# The benchmark's libtorch peer (bench/libtorch_bench.cpp): built only where libtorch is found.
# bench/run_bench.py runs it beside `layerkit run` and onnxruntime; it reads the ONNX weights
# through the protobuf classes of onnx_proto (cmake/onnx.cmake found ONNX).
if(NOT DEFINED Torch_FOUND)
  find_package(Torch QUIET)
endif()
set(LAYERKIT_BENCH_DEFAULT OFF)
if(Torch_FOUND AND LAYERKIT_BUILD_TESTS)
  set(LAYERKIT_BENCH_DEFAULT ON)
endif()
option(LAYERKIT_BUILD_BENCH "Build libtorch_bench, the libtorch peer of the benchmark"
       ${LAYERKIT_BENCH_DEFAULT})

if(LAYERKIT_BUILD_BENCH)
  if(NOT Torch_FOUND)
    message(FATAL_ERROR "LAYERKIT_BUILD_BENCH needs libtorch (Debian: libtorch-dev)")
  endif()
  add_executable(libtorch_bench bench/libtorch_bench.cpp)
  target_include_directories(libtorch_bench SYSTEM PRIVATE ${TORCH_INCLUDE_DIRS})
  target_link_libraries(libtorch_bench PRIVATE onnx_proto ${TORCH_LIBRARIES})
  target_compile_options(libtorch_bench PRIVATE ${LAYERKIT_WARNINGS})
  # The attainable fp32 peak the benchmark's share-of-peak column divides by.
  find_package(Threads REQUIRED)
  add_executable(fma_peak bench/fma_peak.cpp)
  target_link_libraries(fma_peak PRIVATE Threads::Threads)
  target_compile_options(fma_peak PRIVATE ${LAYERKIT_WARNINGS})
endif()
