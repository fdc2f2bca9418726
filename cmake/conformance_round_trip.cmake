# ctest onnx_conformance_round_trip*: runs `layerkit conformance` on the node tests as built and
# with --roundTrip (each engine serialized and deserialized before it runs) and fails unless the
# round trip passes and fails exactly the same cases, with the same messages.
# Arguments: -DCLI=path -DDIR=node-test folder -DOUT=scratch prefix [-DEXTRA="flags;..."]
foreach(mode plain trip)
  set(flags --minPassPercent=85 --verbose ${EXTRA})
  if(mode STREQUAL "trip")
    list(APPEND flags --roundTrip)
  endif()
  execute_process(COMMAND ${CLI} conformance ${DIR} ${flags}
                  OUTPUT_VARIABLE out_${mode} RESULT_VARIABLE rc_${mode})
  file(WRITE ${OUT}_${mode}.txt "${out_${mode}}")
endforeach()
if(NOT rc_trip EQUAL 0)
  message(FATAL_ERROR "conformance --roundTrip exited ${rc_trip}; see ${OUT}_trip.txt")
endif()
if(NOT out_plain STREQUAL out_trip)
  message(FATAL_ERROR "the round trip changed which cases pass: compare ${OUT}_plain.txt with "
                      "${OUT}_trip.txt")
endif()
string(REGEX MATCH "[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" summary "${out_trip}")
message(STATUS "as built and round-tripped alike: ${summary}")
