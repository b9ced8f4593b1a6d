# The Lambda artifact is the Release binary itself: with CRUD_STATIC_RUNTIME, `crud-api` links
# libstdc++, libgcc, OpenSSL, SQLite and Boost statically and keeps only glibc dynamic, so the
# same file that `make run` serves and `make test` tests runs on provided.al2023, whose glibc
# (2.34) is older than Debian 12's (2.36) and which ships none of our other libraries. See
# docs/decisions/0006-static-bootstrap.md.
#
# Included by the top-level CMakeLists before its find_package() calls, which these settings
# steer towards static archives; crud_static_runtime(target) then applies the link options and
# adds the zip. Everything else (tests, tools) links the same static third-party archives, which
# only costs a little link time and keeps one set of libraries in the build.

if(PROJECT_IS_TOP_LEVEL AND CMAKE_BUILD_TYPE STREQUAL "Release" AND NOT CRUD_SANITIZE
   AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(crud_static_runtime_default ON)
else()
  set(crud_static_runtime_default OFF)
endif()
option(CRUD_STATIC_RUNTIME
       "Link crud-api for Lambda: everything static but glibc, and zip it as lambda/<arch>/crud-api.zip"
       ${crud_static_runtime_default})

if(CRUD_STATIC_RUNTIME AND CRUD_SANITIZE)
  message(FATAL_ERROR "CRUD_STATIC_RUNTIME and CRUD_SANITIZE do not mix: the sanitizer runtimes "
                      "are shared libraries. Configure one of them OFF.")
endif()

if(CRUD_STATIC_RUNTIME)
  set(Boost_USE_STATIC_LIBS ON)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  # The finders cache the library they found, so a build directory first configured without
  # this option would keep the shared ones. Finding the archives under our own names and
  # handing them over as normal variables (which find_library honours, policy CMP0125) makes
  # the choice follow the option on every configure.
  foreach(lib IN ITEMS ssl crypto sqlite3)
    find_library(CRUD_STATIC_LIB_${lib} NAMES lib${lib}.a REQUIRED)
  endforeach()
  set(OPENSSL_SSL_LIBRARY ${CRUD_STATIC_LIB_ssl})
  set(OPENSSL_CRYPTO_LIBRARY ${CRUD_STATIC_LIB_crypto})
  set(SQLite3_LIBRARY ${CRUD_STATIC_LIB_sqlite3})
  # Zips the binary (scripts/lambda_zip.py) and runs the package tests.
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()

# Lambda's name for the architecture, which is also the folder the zip goes to.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(CRUD_LAMBDA_ARCH arm64)
else()
  set(CRUD_LAMBDA_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()
set(CRUD_LAMBDA_ZIP ${CMAKE_BINARY_DIR}/lambda/${CRUD_LAMBDA_ARCH}/crud-api.zip)

function(crud_static_runtime target)
  if(NOT CRUD_STATIC_RUNTIME)
    return()
  endif()
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
  # libgcc_eh and libstdc++ from Debian 12 reference glibc 2.35+ symbols; this file supplies
  # them (its comments say which and why).
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/cmake/glibc_compat.cpp)
  # SQLite's archive needs libm, which its shared library would have brought along.
  target_link_libraries(${target} PRIVATE m)
  # A cold start's memory is mostly text, which the kernel maps 64 KiB at a time around each
  # page touched. lld drops unreferenced sections, folds identical functions (`safe`: none whose
  # address is taken, so function-pointer comparisons still hold), and places first, together,
  # the sections holding what a cold start runs (cmake/cold_start.order, written by
  # scripts/cold_start_order.py). Decision 0023 has the measurements.
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" CRUD_LINKER_HAS_LLD)
  set(lld_options "")
  if(CRUD_LINKER_HAS_LLD)
    set(lld_options -fuse-ld=lld)
  elseif(CMAKE_CROSSCOMPILING)
    # A cross gcc looks for lld under its target's name (aarch64-linux-gnu-ld.lld), which
    # Debian's lld does not install: one ld.lld links every target. gcc finds it as ld.lld in
    # a -B folder, so the arm64 Lambda artifact gets the same layout as the x86_64 one.
    find_program(CRUD_LD_LLD ld.lld)
    if(CRUD_LD_LLD)
      set(lld_dir ${CMAKE_BINARY_DIR}/lld/)
      file(MAKE_DIRECTORY ${lld_dir})
      file(CREATE_LINK ${CRUD_LD_LLD} ${lld_dir}ld.lld SYMBOLIC)
      check_linker_flag(CXX "-B${lld_dir};-fuse-ld=lld" CRUD_CROSS_LINKER_HAS_LLD)
      if(CRUD_CROSS_LINKER_HAS_LLD)
        set(lld_options -B${lld_dir} -fuse-ld=lld)
      endif()
    endif()
  endif()
  if(lld_options)
    set(order ${PROJECT_SOURCE_DIR}/cmake/cold_start.order)
    target_link_options(${target} PRIVATE ${lld_options} LINKER:--gc-sections LINKER:--icf=safe
                        LINKER:--symbol-ordering-file=${order} LINKER:--no-warn-symbol-ordering)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${order})
  else()
    message(WARNING "ld.lld not found (apt-get install lld): crud-api is linked in plain link "
                    "order, and a cold start maps about 2 MiB more of it (decision 0023)")
  endif()

  add_custom_command(
    OUTPUT ${CRUD_LAMBDA_ZIP}
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/lambda_zip.py
            $<TARGET_FILE:${target}> ${CRUD_LAMBDA_ZIP}
    DEPENDS ${target} ${PROJECT_SOURCE_DIR}/scripts/lambda_zip.py
    COMMENT "Zipping ${target} as bootstrap in lambda/${CRUD_LAMBDA_ARCH}/crud-api.zip"
    VERBATIM)
  add_custom_target(lambda-zip ALL DEPENDS ${CRUD_LAMBDA_ZIP})
endfunction()
