// Keeps the static-runtime `crud-api` within glibc 2.34, the glibc of Lambda's provided.al2023.
// Linked into crud-api only when CRUD_STATIC_RUNTIME is on (cmake/static_runtime.cmake).
//
// We build on Debian 12 (glibc 2.36) and link libgcc and libstdc++ statically, and their Debian
// archives were built against glibc 2.36, so they call two functions that glibc 2.34 lacks. A
// binary that references either (symbol versions GLIBC_2.35, GLIBC_2.36) does not even start on
// 2.34: the loader rejects the missing version before main. Neither symbol has an older version
// that `.symver` could bind instead, so we define both here; the linker then resolves the
// archives' references to these definitions, and the binary asks glibc for nothing newer than
// 2.34. tests/package checks that ceiling on every build, so a new reference cannot slip in.
//
// - `_dl_find_object` (2.35): GCC 12's unwinder finds the unwind tables of a return address with
//   it. This one answers from `dl_iterate_phdr` (GLIBC_2.2.5), the way the unwinder itself
//   worked before 2.35: it walks the loaded objects for the one whose PT_LOAD segments hold the
//   address and reports its PT_GNU_EH_FRAME segment. That takes the loader's lock and walks a
//   handful of objects per frame, which matters only while an exception unwinds, and exceptions
//   are rare here (errors travel as values).
// - `arc4random` (2.36): std::random_device, linked in with Beast, uses it where the CPU has no
//   RDRAND (Graviton). This one reads the kernel's CSPRNG with getrandom (GLIBC_2.25), as glibc's
//   does, and like glibc's it aborts rather than return a predictable value.

#include <dlfcn.h>
#include <link.h>
#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

// Built against an older glibc, the archives would not reference these, and glibc's headers would
// not declare them.
#if __GLIBC_PREREQ(2, 35)

// Where the struct carries a data base (i386, nios2) the unwinder reads it too, and it would
// have to be computed; our targets, x86_64 and aarch64, have none.
static_assert(DLFO_STRUCT_HAS_EH_DBASE == 0, "dlfo_eh_dbase is not filled in on this target");

namespace {

struct lookup {
  std::uintptr_t address;
  dl_find_object* result;
  bool found;
};

int find_object(dl_phdr_info* info, std::size_t /*size*/, void* data) {
  auto* query = static_cast<lookup*>(data);
  bool contains = false;
  std::uintptr_t map_start = UINTPTR_MAX;
  std::uintptr_t map_end = 0;
  std::uintptr_t eh_frame = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    const std::uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD) {
      const std::uintptr_t end = start + segment.p_memsz;
      map_start = start < map_start ? start : map_start;
      map_end = end > map_end ? end : map_end;
      if (query->address >= start && query->address < end)
        contains = true;
    } else if (segment.p_type == PT_GNU_EH_FRAME) {
      eh_frame = start;
    }
  }
  if (!contains)
    return 0;
  std::memset(query->result, 0, sizeof *query->result);
  query->result->dlfo_map_start = reinterpret_cast<void*>(map_start);
  query->result->dlfo_map_end = reinterpret_cast<void*>(map_end);
  // The unwinder uses only the frame table; the link map is left null as glibc cannot promise
  // one for every object either (the vDSO has none).
  query->result->dlfo_eh_frame = reinterpret_cast<void*>(eh_frame);
  query->found = true;
  return 1;  // stop the walk
}

}  // namespace

// Same contract as glibc's: 0 and *result filled in when `address` lies in a loaded object,
// -1 otherwise.
extern "C" int _dl_find_object(void* address, dl_find_object* result) noexcept {
  lookup query{reinterpret_cast<std::uintptr_t>(address), result, false};
  dl_iterate_phdr(find_object, &query);
  return query.found ? 0 : -1;
}

#endif

#if __GLIBC_PREREQ(2, 36)

extern "C" std::uint32_t arc4random() noexcept {
  std::uint32_t value = 0;
  auto* out = reinterpret_cast<unsigned char*>(&value);
  std::size_t done = 0;
  while (done < sizeof value) {
    const ssize_t n = ::getrandom(out + done, sizeof value - done, 0);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      std::abort();
  }
  return value;
}

#endif
