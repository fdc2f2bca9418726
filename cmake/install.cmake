# `cmake --install`: headers, the layerkit and layerkit_onnx libraries, a CMake package
# (layerkitConfig.cmake, its version file, imported targets layerkit::layerkit and layerkit::onnx)
# and a pkg-config file, layerkit.pc. The package finds what the static libraries need through
# find_dependency (cmake/layerkitConfig.cmake.in); examples/ is a project built against it.
include(CMakePackageConfigHelpers)

set(LAYERKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/layerkit)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/layerkit
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS layerkit layerkit_onnx EXPORT layerkitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT layerkitTargets NAMESPACE layerkit:: FILE layerkitTargets.cmake
        DESTINATION ${LAYERKIT_CMAKE_DIR})

# What the config file must find again: the options this tree was built with.
set(LAYERKIT_PACKAGE_WITH_CUDA ${LAYERKIT_WITH_CUDA})
set(LAYERKIT_PACKAGE_WITH_ONEDNN ${LAYERKIT_WITH_ONEDNN})
set(LAYERKIT_PACKAGE_WITH_MPI ${MPI_CXX_FOUND})
if(NOT LAYERKIT_PACKAGE_WITH_MPI)
  set(LAYERKIT_PACKAGE_WITH_MPI OFF)
endif()
set(LAYERKIT_PACKAGE_CUDA_ROOT "")
if(LAYERKIT_WITH_CUDA)
  get_filename_component(LAYERKIT_PACKAGE_CUDA_ROOT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
endif()
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/layerkitConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/layerkitConfig.cmake
                              INSTALL_DESTINATION ${LAYERKIT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/layerkitConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/layerkitConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/layerkitConfigVersion.cmake
        DESTINATION ${LAYERKIT_CMAKE_DIR})

# pkg-config: the static libraries list what they link in Libs.private (pkg-config --static).
set(LAYERKIT_PC_PRIVATE "")
if(LAYERKIT_WITH_ONEDNN)
  get_target_property(_lk_dnnl DNNL::dnnl LOCATION)
  list(APPEND LAYERKIT_PC_PRIVATE ${_lk_dnnl})
endif()
list(APPEND LAYERKIT_PC_PRIVATE ${OpenMP_CXX_FLAGS})
if(LAYERKIT_WITH_CUDA)
  list(APPEND LAYERKIT_PC_PRIVATE -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -lcublasLt
       ${LAYERKIT_CUDNN_LIBRARY} -lrt -ldl -lpthread)
endif()
if(MPI_CXX_FOUND)
  foreach(_lk_mpi ${MPI_CXX_LIBRARIES})
    list(APPEND LAYERKIT_PC_PRIVATE ${_lk_mpi})
  endforeach()
endif()
if(LAYERKIT_SANITIZE)
  list(APPEND LAYERKIT_PC_PRIVATE ${LAYERKIT_SANITIZE_FLAGS})
endif()
list(JOIN LAYERKIT_PC_PRIVATE " " LAYERKIT_PC_PRIVATE)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/layerkit.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/layerkit.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/layerkit.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The install, then examples/ configured, built and run against it alone (scripts/
# test_install.sh): the consumer's view of the package.
if(LAYERKIT_BUILD_TESTS)
  add_test(NAME install_and_consume
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scripts/test_install.sh ${CMAKE_BINARY_DIR}
                   ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(install_and_consume PROPERTIES TIMEOUT 900 RUN_SERIAL ON)
endif()
