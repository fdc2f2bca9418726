# Fuzz targets (tests/fuzz/): built as libFuzzer programs with LAYERKIT_FUZZ=ON (clang, ASan and
# UBSan; scripts/run_fuzz.sh), and, in every test build, as replay programs that feed the saved
# regression inputs and seeds to the same entry point (no libFuzzer needed; ctest fuzz_replay_*).
set(LAYERKIT_FUZZ_TARGETS fuzz_onnx_import fuzz_engine_load fuzz_cli_options)
set(LAYERKIT_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz)

# Each target's sources beyond its own file, and what it links.
function(layerkit_fuzz_sources target out)
  set(extra)
  if(target STREQUAL "fuzz_cli_options")
    set(extra ${CMAKE_CURRENT_SOURCE_DIR}/tools/layerkit/options.cpp ${LAYERKIT_DEFAULT_MODEL_CPP})
  endif()
  set(${out} ${LAYERKIT_FUZZ_DIR}/${target}.cpp ${extra} PARENT_SCOPE)
endfunction()

function(layerkit_fuzz_target_setup exe)
  target_link_libraries(${exe} PRIVATE layerkit_onnx onnx_proto)
  target_include_directories(${exe} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src
                                            ${CMAKE_CURRENT_SOURCE_DIR}/tools/layerkit)
  target_compile_options(${exe} PRIVATE ${LAYERKIT_WARNINGS})
endfunction()

if(LAYERKIT_FUZZ)
  foreach(t ${LAYERKIT_FUZZ_TARGETS})
    layerkit_fuzz_sources(${t} srcs)
    add_executable(${t} ${srcs})
    layerkit_fuzz_target_setup(${t})
    target_compile_definitions(${t} PRIVATE LAYERKIT_LIBFUZZER)
    target_link_options(${t} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()

if(LAYERKIT_BUILD_TESTS)
  foreach(t ${LAYERKIT_FUZZ_TARGETS})
    layerkit_fuzz_sources(${t} srcs)
    add_executable(${t}_replay ${srcs} ${LAYERKIT_FUZZ_DIR}/replay_main.cpp)
    layerkit_fuzz_target_setup(${t}_replay)
    # The regressions found so far and the seed corpus; each input must return without a crash,
    # a sanitizer report (in sanitized builds) or an uncaught exception.
    add_test(NAME fuzz_replay_${t}
             COMMAND ${t}_replay ${LAYERKIT_FUZZ_DIR}/regressions/${t} ${LAYERKIT_FUZZ_DIR}/seeds/${t})
    set_tests_properties(fuzz_replay_${t} PROPERTIES TIMEOUT 300)
  endforeach()
endif()
