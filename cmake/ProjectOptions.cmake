# Warnings and common options as INTERFACE targets (linked PRIVATE by every target),
# sanitizers and fuzzing as named options chosen per preset. Nothing is set globally.
option(ESRSYNC_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
set(ESRSYNC_SANITIZE "" CACHE STRING "Sanitizers to build with: '', 'address,undefined' or 'thread'")
option(ESRSYNC_FUZZ "Build libFuzzer targets (needs clang)" OFF)

add_library(esrsync_warnings INTERFACE)
add_library(esrsync::warnings ALIAS esrsync_warnings)
target_compile_options(esrsync_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough -Wno-missing-field-initializers
  $<$<CXX_COMPILER_ID:GNU>:-Wmisleading-indentation -Wduplicated-cond -Wduplicated-branches -Wlogical-op>
  # GCC 12's -Wrestrict misfires on std::string concatenation at -O3 (GCC bug 105651, fixed in 13).
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${ESRSYNC_WARNINGS_AS_ERRORS}>:-Werror>)

add_library(esrsync_options INTERFACE)
add_library(esrsync::options ALIAS esrsync_options)
target_compile_features(esrsync_options INTERFACE cxx_std_20)
if(ESRSYNC_SANITIZE)
  target_compile_options(esrsync_options INTERFACE -fsanitize=${ESRSYNC_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(esrsync_options INTERFACE -fsanitize=${ESRSYNC_SANITIZE})
endif()
if(ESRSYNC_FUZZ)
  # Coverage instrumentation for everything the fuzzers reach; the fuzz targets add -fsanitize=fuzzer.
  target_compile_options(esrsync_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
