# Installs the build into PREFIX and imports dualpipe_eplb from PREFIX/MODULE_DIR, planning the
# reference README's example there.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${result})")
endif()
set(script "import dualpipe_eplb as m, numpy as np\nw = np.array([[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86]])\nprint(list(np.asarray(m.rebalance_experts(w, 16, 4, 2, 8)[0][0])))")
execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${PREFIX}/${MODULE_DIR}
                        ${PYTHON} -c "${script}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE error)
if(NOT result EQUAL 0 OR NOT output STREQUAL "[5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1]\n")
  message(FATAL_ERROR "importing the installed module failed (${result}): ${output}${error}")
endif()
