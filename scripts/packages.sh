# The Debian packages each set-up installs, in one place (sourced by setup.sh, run_bench.sh and
# check_packages.sh). Every find_package of CMakeLists.txt and cmake/*.cmake must be satisfied by
# these lists or by the Depends: of a package on them; check_packages.sh verifies that against
# what a configured build found.
# shellcheck disable=SC2034  # the arrays are read by the scripts that source this file
layerkit_build_packages=(
  g++ cmake make ccache
  libprotobuf-dev protobuf-compiler libonnx-dev   # find_package(Protobuf), find_package(ONNX)
  libdnnl-dev                                     # find_package(dnnl)
  # dnnl-config.cmake calls find_package(OpenCL) (Debian builds oneDNN with its OpenCL runtime),
  # but libdnnl-dev only recommends the OpenCL development files, and installs here skip
  # recommendations.
  ocl-icd-opencl-dev
)
layerkit_test_packages=(
  libgtest-dev                       # find_package(GTest)
  libtorch-dev                       # find_package(Torch): ATen, the test oracle
  libopenmpi-dev openmpi-bin         # find_package(MPI) and mpirun for the collective tests
  pkgconf                            # FindMPI asks pkg-config for MPI's flags
  libonnx-testdata                   # the ONNX backend node tests
  libbenchmark-dev                   # find_package(benchmark): kernels_bench
)
# Debian's libtorch takes its BLAS from whatever provides libblas.so.3, and the reference BLAS
# (libblas3) would make it a hundred times slower, so OpenBLAS (its recommended BLAS; the OpenMP
# build honours at::set_num_threads) comes with the benchmark.
layerkit_bench_packages=(libtorch-dev libgtest-dev libopenblas0-openmp)
