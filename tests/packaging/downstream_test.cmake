# cmake -P script: install BUILD_DIR into WORK_DIR/prefix, configure + build SOURCE_DIR against it,
# run the result. Any failing step fails the test.
file(REMOVE_RECURSE ${WORK_DIR})
string(REPLACE "|" ";" PREFIX_PATH "${PREFIX_PATH}")

function(run_step)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "downstream test step failed (${result}): ${ARGV}")
  endif()
endfunction()

run_step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
         "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix;${PREFIX_PATH}")
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step(${WORK_DIR}/build/downstream_example)
if(EXISTS ${WORK_DIR}/build/downstream_moe_example)
  run_step(${WORK_DIR}/build/downstream_moe_example)
endif()
