# Helpers that give every library, app, test and benchmark the same flags.

set(DUALPIPE_EXPORTED_LIBRARIES "" CACHE INTERNAL "")

# Warnings (and sanitizers) for the project's own targets only, never for dependencies.
function(dualpipe_apply_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(DUALPIPE_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(DUALPIPE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${DUALPIPE_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${DUALPIPE_SANITIZE})
  endif()
endfunction()

# dualpipe_add_library(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates target dualpipe_<name> with alias dualpipe::<name>, exported as dualpipe::<name>.
function(dualpipe_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(dualpipe_${name} STATIC ${ARG_SOURCES})
  add_library(dualpipe::${name} ALIAS dualpipe_${name})
  set_target_properties(dualpipe_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME dualpipe_${name})
  target_include_directories(dualpipe_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(dualpipe_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_features(dualpipe_${name} PUBLIC cxx_std_17)
  dualpipe_apply_flags(dualpipe_${name})
  set(DUALPIPE_EXPORTED_LIBRARIES ${DUALPIPE_EXPORTED_LIBRARIES} dualpipe_${name} CACHE INTERNAL "")
endfunction()

# dualpipe_add_app(<name> SOURCES ... DEPS ...): a command-line tool, installed to bin/.
function(dualpipe_add_app name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  dualpipe_apply_flags(${name})
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()

# dualpipe_add_test(<name> LABEL <label> SOURCES ... DEPS ... [TIMEOUT s]): a GoogleTest binary whose
# tests are discovered into ctest with the given label. Tests run from the source tree's tests/ dir
# so they can find their data; DUALPIPE_SOURCE_DIR and DUALPIPE_BINARY_DIR are defined for them.
function(dualpipe_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  target_compile_definitions(${name} PRIVATE
    DUALPIPE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" DUALPIPE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  dualpipe_apply_flags(${name})
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 120)
endfunction()
