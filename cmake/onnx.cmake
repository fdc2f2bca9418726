# The ONNX importer (library layerkit_onnx) and the `layerkit` command-line tool.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)

file(GLOB_RECURSE LAYERKIT_ONNX_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/src/onnx/*.cpp)
add_library(layerkit_onnx STATIC ${LAYERKIT_ONNX_SOURCES})
target_include_directories(layerkit_onnx PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(layerkit_onnx PUBLIC layerkit onnx_proto)
target_compile_options(layerkit_onnx PRIVATE ${LAYERKIT_WARNINGS})

# The binary is called `layerkit`; the target cannot be, since the core library holds that name.
add_executable(layerkit_cli tools/layerkit/main.cpp tools/layerkit/run.cpp
                            tools/layerkit/conformance.cpp tools/layerkit/options.cpp)
set_target_properties(layerkit_cli PROPERTIES OUTPUT_NAME layerkit)
target_link_libraries(layerkit_cli PRIVATE layerkit_onnx)
target_compile_options(layerkit_cli PRIVATE ${LAYERKIT_WARNINGS})
target_compile_definitions(layerkit_cli PRIVATE
  LAYERKIT_CONFORMANCE_SKIP_LIST="${CMAKE_CURRENT_SOURCE_DIR}/tools/layerkit/conformance_skip.txt")

if(LAYERKIT_BUILD_TESTS)
  # CMakeLists.txt made one test program per tests/**/*_test.cpp; those of the importer and the
  # tool also need layerkit_onnx, and the tool's tests need the binary's path.
  foreach(test_src ${LAYERKIT_TESTS})
    file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR}/tests ${test_src})
    if(NOT rel MATCHES "^(onnx|tools)/")
      continue()
    endif()
    string(REPLACE "/" "_" test_name ${rel})
    string(REPLACE ".cpp" "" test_name ${test_name})
    target_link_libraries(${test_name} PRIVATE layerkit_onnx)
    if(rel MATCHES "^tools/")
      add_dependencies(${test_name} layerkit_cli)
      target_compile_definitions(${test_name} PRIVATE
        LAYERKIT_CLI_PATH="$<TARGET_FILE:layerkit_cli>")
    endif()
  endforeach()
endif()
