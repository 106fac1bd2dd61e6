# Shared build settings and helpers for dbrunbook modules and tests.

set(DBRUNBOOK_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports std::string concatenation inlined at -O2/-O3 as overlapping memcpy
  # (-Wrestrict false positive, GCC bug 105329, fixed in GCC 13).
  list(APPEND DBRUNBOOK_WARNINGS -Wno-restrict)
  # ... and reads of an engaged std::optional<T> after inlining as "may be used uninitialized"
  # (GCC bugs 80635, 105562). Kept as a warning, not an error, in optimized builds only: the
  # Debug build of the test script keeps -Werror on it, and ASan/UBSan and clang-tidy check
  # real uninitialized reads there.
  list(APPEND DBRUNBOOK_WARNINGS $<$<NOT:$<CONFIG:Debug>>:-Wno-error=maybe-uninitialized>)
endif()

if(DBRUNBOOK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# Profile-guided optimisation (GCC) of the modules in DBRUNBOOK_PGO_MODULES: GENERATE builds
# them instrumented (running the program writes profiles to DBRUNBOOK_PGO_DIR), USE builds them
# optimised with those profiles. scripts/pgo-build runs the whole cycle; see README, Development.
set(DBRUNBOOK_PGO "" CACHE STRING "Profile-guided build: GENERATE, USE or empty (off)")
set_property(CACHE DBRUNBOOK_PGO PROPERTY STRINGS "" GENERATE USE)
set(DBRUNBOOK_PGO_DIR "${CMAKE_BINARY_DIR}/pgo-profile" CACHE PATH "Where profiles are written and read")
set(DBRUNBOOK_PGO_MODULES digest CACHE STRING "Modules built with the profiles")
set(DBRUNBOOK_PGO_OPTIONS "")
if(DBRUNBOOK_PGO)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    message(FATAL_ERROR "DBRUNBOOK_PGO is for GCC (its profile format); this is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(DBRUNBOOK_PGO STREQUAL "GENERATE")
    set(DBRUNBOOK_PGO_OPTIONS -fprofile-generate -fprofile-update=single -fprofile-dir=${DBRUNBOOK_PGO_DIR})
    add_link_options(-fprofile-generate)
  elseif(DBRUNBOOK_PGO STREQUAL "USE")
    # A function the training never ran is optimised as without profiles (partial training);
    # a source changed since the training loses its profile with a warning, not an error. The
    # warnings GCC's flow analysis gives after profile-guided inlining (format-truncation,
    # free-nonheap-object: false positives in GCC 12) stay warnings; the other builds keep -Werror.
    set(DBRUNBOOK_PGO_OPTIONS -fprofile-use -fprofile-dir=${DBRUNBOOK_PGO_DIR} -fprofile-partial-training
        -Wno-missing-profile -Wno-error=coverage-mismatch -Wno-error=format-truncation
        -Wno-error=free-nonheap-object)
  else()
    message(FATAL_ERROR "DBRUNBOOK_PGO is GENERATE, USE or empty, not '${DBRUNBOOK_PGO}'")
  endif()
endif()

# dbrunbook_module(NAME SOURCES a.cc b.cc DEPS other_module fmt::fmt ...)
# One static library per module folder under src/, target name dbrunbook_<NAME>.
function(dbrunbook_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(dbrunbook_${name} STATIC ${ARG_SOURCES})
  target_include_directories(dbrunbook_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(dbrunbook_${name} PRIVATE ${DBRUNBOOK_WARNINGS})
  if(name IN_LIST DBRUNBOOK_PGO_MODULES)
    target_compile_options(dbrunbook_${name} PRIVATE ${DBRUNBOOK_PGO_OPTIONS})
  endif()
  target_link_libraries(dbrunbook_${name} PUBLIC ${ARG_DEPS})
endfunction()

# dbrunbook_test(NAME SOURCES a_test.cc DEPS dbrunbook_x [SANDBOX primary replica] [MOTO]
#                [LABELS l] [TIMEOUT s])
# A GoogleTest binary registered as one CTest test. With SANDBOX, the test requires the CTest
# fixtures that start those sandbox servers (see tests/sandbox.cmake); with MOTO, the fixture
# `moto` (the AWS emulator behind a SigV4-verifying proxy, see tests/cloud/CMakeLists.txt,
# read with tests/support/moto.h). Every test gets DBRUNBOOK_SANDBOX_DIR and DBRUNBOOK_MOTO_DIR
# in its environment. Tests of one server (or of moto) hold a RESOURCE_LOCK on it, since they
# share its state.
function(dbrunbook_test name)
  cmake_parse_arguments(ARG "MOTO" "TIMEOUT" "SOURCES;DEPS;SANDBOX;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${DBRUNBOOK_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set(env "DBRUNBOOK_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
          "DBRUNBOOK_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared"
          "DBRUNBOOK_SANDBOX_DIR=${DBRUNBOOK_SANDBOX_DIR}"
          "DBRUNBOOK_MOTO_DIR=${DBRUNBOOK_MOTO_DIR}"
          "DBRUNBOOK_BINARY=$<TARGET_FILE:dbrunbook>")
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${env}")
  if(ARG_TIMEOUT)
    set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  endif()
  set(labels ${ARG_LABELS})
  set(fixtures "")
  set(locks "")
  # One lock per server (a replica's tests also hold its primary's: they change what it
  # replicates), so that tests of different servers (the failover pair, the shared pair) run
  # side by side while two tests of one server never do.
  foreach(server ${ARG_SANDBOX})
    list(APPEND fixtures sandbox_${server})
    list(APPEND locks sandbox_${server})
    if(server MATCHES "^(.*)replica$")
      list(APPEND locks sandbox_${CMAKE_MATCH_1}primary)
    endif()
  endforeach()
  list(REMOVE_DUPLICATES locks)
  if(ARG_MOTO)
    list(APPEND fixtures moto)
    list(APPEND locks moto)
    list(APPEND labels moto)
  endif()
  if(fixtures)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${fixtures}" RESOURCE_LOCK "${locks}")
    list(APPEND labels integration)
  else()
    list(APPEND labels unit)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}")
endfunction()
