# Cross-compiles for arm64 (Graviton) Lambda on Debian with its cross toolchain
# (g++-aarch64-linux-gnu) and multiarch :arm64 development packages (libssl-dev:arm64, ...);
# `scripts/install-deps.sh --package` installs both.
#
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRUD_BUILD_TESTS=OFF \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.toolchain.cmake
#
# Debian's multiarch layout needs no sysroot: arm64 libraries live in /usr/lib/aarch64-linux-gnu
# (CMake's finders search there because of CMAKE_LIBRARY_ARCHITECTURE, and never in the host's
# x86_64 directory), arm64-specific headers in /usr/include/aarch64-linux-gnu (the cross
# compiler's default include path), and the shared headers in /usr/include.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Anything CMake would run for the target (try_run, a test) goes through qemu-user, with the
# cross glibc as the loader's root.
find_program(CRUD_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(CRUD_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CRUD_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()
