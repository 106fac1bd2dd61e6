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

# dbrunbook_module(NAME SOURCES a.cc b.cc DEPS other_module fmt::fmt ...)
# One static library per module folder under src/, target name dbrunbook_<NAME>.
function(dbrunbook_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(dbrunbook_${name} STATIC ${ARG_SOURCES})
  target_include_directories(dbrunbook_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(dbrunbook_${name} PRIVATE ${DBRUNBOOK_WARNINGS})
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
