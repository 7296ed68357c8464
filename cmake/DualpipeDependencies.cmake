# Finds the project's dependencies (all from the distribution or the PyTorch wheel; none vendored).

find_package(Threads REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(yaml-cpp REQUIRED)
find_package(ZLIB REQUIRED)
# simdjson is not packaged on every machine (not on the GPU image): README.md says how to bring it.
find_package(simdjson REQUIRED)
# RE2 (Debian libre2-dev) matches every user-supplied regular expression; cmake/Findre2.cmake.
find_package(re2 REQUIRED)

if(DUALPIPE_BUILD_APPS)
  find_package(CLI11 REQUIRED)
endif()
if(DUALPIPE_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(DUALPIPE_BUILD_BENCHMARKS)
  find_package(benchmark QUIET)
endif()

# LibTorch: ON requires it, AUTO uses it when found, OFF never looks.
string(TOUPPER "${DUALPIPE_WITH_TORCH}" _dualpipe_torch_mode)
set(DUALPIPE_HAVE_TORCH OFF)
if(_dualpipe_torch_mode STREQUAL "ON")
  find_package(Torch REQUIRED)
  set(DUALPIPE_HAVE_TORCH ON)
elseif(_dualpipe_torch_mode STREQUAL "AUTO")
  find_package(Torch QUIET)
  if(Torch_FOUND OR TORCH_FOUND)
    set(DUALPIPE_HAVE_TORCH ON)
  endif()
endif()
if(DUALPIPE_HAVE_TORCH)
  # Which c10d backends this LibTorch has: Gloo on CPU builds, NCCL on CUDA builds.
  set(DUALPIPE_TORCH_HAS_CUDA OFF)
  if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA OR CUDAToolkit_FOUND)
    set(DUALPIPE_TORCH_HAS_CUDA ON)
  endif()
  # Gloo: Debian's LibTorch has its headers; for the PyTorch wheel, which has none, put Debian's
  # libgloo-dev on CMAKE_PREFIX_PATH (docs/performance.md, "Building for the GPU measurements").
  find_path(DUALPIPE_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS ${TORCH_INCLUDE_DIRS})
  set(DUALPIPE_TORCH_HAS_GLOO OFF)
  if(DUALPIPE_GLOO_INCLUDE_DIR)
    set(DUALPIPE_TORCH_HAS_GLOO ON)
  endif()
  message(STATUS "dualpipe: LibTorch ${Torch_VERSION} found (CUDA: ${DUALPIPE_TORCH_HAS_CUDA}, "
                 "Gloo: ${DUALPIPE_TORCH_HAS_GLOO}); building the runtime")
else()
  message(STATUS "dualpipe: LibTorch not used; the runtime is not built")
endif()

# The Python module (src/python): ON requires Python 3 and pybind11, AUTO builds it when both are
# found, OFF never looks. Not with sanitizers: a Python interpreter does not load their runtime.
string(TOUPPER "${DUALPIPE_WITH_PYTHON}" _dualpipe_python_mode)
set(DUALPIPE_HAVE_PYTHON OFF)
if(NOT _dualpipe_python_mode STREQUAL "OFF" AND NOT DUALPIPE_SANITIZE)
  if(_dualpipe_python_mode STREQUAL "ON")
    set(_dualpipe_python_required REQUIRED)
  endif()
  # The distribution's interpreter first (scripts/deps.sh installs NumPy and PyTorch for it), ahead
  # of whatever `python3` comes first on PATH (a version manager's may lack both).
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module ${_dualpipe_python_required} QUIET)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG ${_dualpipe_python_required} QUIET)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(DUALPIPE_HAVE_PYTHON ON)
    set(DUALPIPE_PYTHON_INSTALL_DIR
        "${CMAKE_INSTALL_LIBDIR}/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages"
        CACHE STRING "Where the Python module dualpipe_eplb is installed, relative to the prefix")
    message(STATUS "dualpipe: Python ${Python3_VERSION} and pybind11 ${pybind11_VERSION} found; "
                   "building the Python module dualpipe_eplb")
  endif()
endif()
if(NOT DUALPIPE_HAVE_PYTHON)
  message(STATUS "dualpipe: the Python module dualpipe_eplb is not built")
endif()
