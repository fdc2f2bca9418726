# The ONNX importer (library layerkit_onnx) and the `layerkit` command-line tool.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)

file(GLOB_RECURSE LAYERKIT_ONNX_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_CURRENT_SOURCE_DIR}/src/onnx/*.cpp)
add_library(layerkit_onnx STATIC ${LAYERKIT_ONNX_SOURCES})
target_include_directories(layerkit_onnx PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
# Installed as layerkit::onnx (cmake/install.cmake).
set_target_properties(layerkit_onnx PROPERTIES EXPORT_NAME onnx)
target_link_libraries(layerkit_onnx PUBLIC layerkit onnx_proto)
target_compile_options(layerkit_onnx PRIVATE ${LAYERKIT_WARNINGS})

# `layerkit run` with no MODEL runs models/default_cnn.onnx (scripts/gen_default_model.py), built
# into the binary; the source is regenerated whenever the model or the script changes.
set(LAYERKIT_DEFAULT_MODEL ${CMAKE_CURRENT_SOURCE_DIR}/models/default_cnn.onnx)
set(LAYERKIT_DEFAULT_MODEL_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/default_model.cpp)
add_custom_command(
  OUTPUT ${LAYERKIT_DEFAULT_MODEL_CPP}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${LAYERKIT_DEFAULT_MODEL} -DOUTPUT=${LAYERKIT_DEFAULT_MODEL_CPP}
          -DNAMESPACE=layerkit::cli -DFUNCTION=default_model_bytes
          -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_file.cmake
  DEPENDS ${LAYERKIT_DEFAULT_MODEL} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed_file.cmake
  COMMENT "Embedding models/default_cnn.onnx"
  VERBATIM)

# The binary is called `layerkit`; the target cannot be, since the core library holds that name.
add_executable(layerkit_cli tools/layerkit/main.cpp tools/layerkit/run.cpp
                            tools/layerkit/conformance.cpp tools/layerkit/options.cpp
                            ${LAYERKIT_DEFAULT_MODEL_CPP})
set_target_properties(layerkit_cli PROPERTIES OUTPUT_NAME layerkit)
target_link_libraries(layerkit_cli PRIVATE layerkit_onnx)
# (core/element.h: element access for --checkAgainst's comparison.)
target_include_directories(layerkit_cli PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
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
    # Committed models with reference outputs (tests/onnx/data/gen_exported_models.py).
    target_compile_definitions(${test_name} PRIVATE
      LAYERKIT_ONNX_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/tests/onnx/data")
    if(rel MATCHES "^tools/")
      add_dependencies(${test_name} layerkit_cli)
      target_compile_definitions(${test_name} PRIVATE
        LAYERKIT_CLI_PATH="$<TARGET_FILE:layerkit_cli>"
        LAYERKIT_DEFAULT_MODEL_PATH="${LAYERKIT_DEFAULT_MODEL}")
    endif()
  endforeach()
endif()

# The ONNX backend node tests (Debian's libonnx-testdata) through `layerkit conformance`: fails
# when a case of an op with a converter fails (outside the skip list) or fewer than 85% of all
# cases pass.
set(LAYERKIT_ONNX_NODE_TESTS "/usr/share/libonnx-testdata/data/node" CACHE PATH
    "ONNX backend node test folder for the conformance test")
if(LAYERKIT_BUILD_TESTS)
  if(EXISTS "${LAYERKIT_ONNX_NODE_TESTS}")
    # As the default engine (builder passes, fast kernels, fusion) and as the reference engine.
    add_test(NAME onnx_conformance
             COMMAND layerkit_cli conformance "${LAYERKIT_ONNX_NODE_TESTS}" --minPassPercent=85)
    add_test(NAME onnx_conformance_reference
             COMMAND layerkit_cli conformance "${LAYERKIT_ONNX_NODE_TESTS}" --minPassPercent=85
                     --builderOptimizationLevel=0 --referenceKernels)
    # Every engine serialized and deserialized before it runs: the same cases pass and fail.
    add_test(NAME onnx_conformance_round_trip
             COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:layerkit_cli>
                     -DDIR=${LAYERKIT_ONNX_NODE_TESTS}
                     -DOUT=${CMAKE_CURRENT_BINARY_DIR}/onnx_conformance_round_trip
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/conformance_round_trip.cmake)
    add_test(NAME onnx_conformance_round_trip_reference
             COMMAND ${CMAKE_COMMAND} -DCLI=$<TARGET_FILE:layerkit_cli>
                     -DDIR=${LAYERKIT_ONNX_NODE_TESTS}
                     -DOUT=${CMAKE_CURRENT_BINARY_DIR}/onnx_conformance_round_trip_reference
                     "-DEXTRA=--builderOptimizationLevel=0;--referenceKernels"
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/conformance_round_trip.cmake)
  else()
    message(WARNING "no ONNX node tests at ${LAYERKIT_ONNX_NODE_TESTS}: onnx_conformance is not run "
                    "(install libonnx-testdata)")
  endif()
  # The exported-model corpus (tests/models/, written by tests/models/export.py; docs/onnx.md
  # "Exported model corpus") judged by cosine, as the default and as the reference engine.
  # The runner's exit code counts only failures of models whose ops all have converters, so any
  # FAIL line fails the test as well: every model outside known_failures.txt must pass. The
  # listed ones are not run at all; take an entry out when its model passes.
  set(LAYERKIT_MODELS_DIR ${CMAKE_CURRENT_SOURCE_DIR}/tests/models)
  add_test(NAME models_conformance
           COMMAND layerkit_cli conformance ${LAYERKIT_MODELS_DIR} --metric=cosine
                   --skipList ${LAYERKIT_MODELS_DIR}/known_failures.txt)
  add_test(NAME models_conformance_reference
           COMMAND layerkit_cli conformance ${LAYERKIT_MODELS_DIR} --metric=cosine
                   --skipList ${LAYERKIT_MODELS_DIR}/known_failures.txt
                   --builderOptimizationLevel=0 --referenceKernels)
  set_tests_properties(models_conformance models_conformance_reference PROPERTIES
                       FAIL_REGULAR_EXPRESSION "FAIL [A-Za-z0-9_]+: ")
endif()

# Engines built and destroyed in a loop (bench/engine_rss.cpp): reports RSS before and after 10,000
# builds of the default model and fails when it grows by a tenth of one engine per build.
add_executable(engine_rss bench/engine_rss.cpp)
target_link_libraries(engine_rss PRIVATE layerkit_onnx)
target_compile_options(engine_rss PRIVATE ${LAYERKIT_WARNINGS})
target_compile_definitions(engine_rss PRIVATE
                           LAYERKIT_DEFAULT_MODEL_PATH="${LAYERKIT_DEFAULT_MODEL}")
if(LAYERKIT_BUILD_TESTS)
  add_test(NAME engine_rss_10000_builds COMMAND engine_rss --builds=10000)
  set_tests_properties(engine_rss_10000_builds PROPERTIES TIMEOUT 600)
  # The same check with every engine kept alive must fail.
  add_test(NAME engine_rss_catches_leak COMMAND engine_rss --builds=1000 --leak)
  set_tests_properties(engine_rss_catches_leak PROPERTIES PASS_REGULAR_EXPRESSION
                       "FAIL: RSS grew by")
  if(LAYERKIT_SANITIZE MATCHES "address")
    # It leaks on purpose (the check under test must see RSS grow).
    set_tests_properties(engine_rss_catches_leak PROPERTIES ENVIRONMENT
                         "ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0")
  endif()
endif()

# Resident memory and time per step from an ONNX file to running engines (bench/weights_rss.cpp):
# import, build, two contexts, serialize, load; docs/performance.md records its figures.
add_executable(weights_rss bench/weights_rss.cpp)
target_link_libraries(weights_rss PRIVATE layerkit_onnx)
target_compile_options(weights_rss PRIVATE ${LAYERKIT_WARNINGS})
