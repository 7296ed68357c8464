# Findre2: RE2, the linear-time regular expression library (Debian: libre2-dev), as re2::re2.
# Uses RE2's own CMake package when it has one; Debian's has none, so the header and library are
# looked up directly (CMAKE_PREFIX_PATH is honoured, e.g. a folder of unpacked packages).
find_package(re2 CONFIG QUIET)
if(NOT TARGET re2::re2)
  find_path(RE2_INCLUDE_DIR re2/re2.h)
  find_library(RE2_LIBRARY NAMES re2)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(re2 REQUIRED_VARS RE2_LIBRARY RE2_INCLUDE_DIR)
  if(re2_FOUND)
    find_package(Threads REQUIRED)
    add_library(re2::re2 UNKNOWN IMPORTED)
    set_target_properties(re2::re2 PROPERTIES
      IMPORTED_LOCATION "${RE2_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RE2_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
else()
  set(re2_FOUND TRUE)
endif()
