// Start-up memory for the flow table: one zeroed, pre-faulted region per array.
//
// The flow table promises no allocation on the packet path. A plain `new[]`
// keeps that promise only on paper: the kernel backs the pages on first touch,
// so the first SYN to reach each 4 KiB page would take a page fault. This
// region is therefore touched (faulted in) at construction. It is also mapped
// 2 MiB-aligned and marked MADV_HUGEPAGE, because a 1M-entry table spans
// hundreds of MiB and a random lookup would otherwise pay a TLB miss (a page
// walk: several more dependent memory accesses) on top of each cache miss.
// Transparent huge pages are a hint: without them the table is just slower.
//
// Under AddressSanitizer the pools poison free entries (flow_table.h), so a
// connection used after erase_conn() is reported as use-after-poison; the
// helpers below are no-ops in other builds.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TCPTERM_ASAN 1
#else
#define TCPTERM_ASAN 0
#endif

namespace tcpterm {

inline void asan_poison(const void* p, std::size_t n) {
#if TCPTERM_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
inline void asan_unpoison(const void* p, std::size_t n) {
#if TCPTERM_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

class PageRegion {
 public:
  PageRegion() = default;
  explicit PageRegion(std::size_t bytes);  // throws std::bad_alloc (start-up only)
  ~PageRegion();
  PageRegion(PageRegion&& o) noexcept : data_(o.data_), mapped_(o.mapped_) {
    o.data_ = nullptr;
    o.mapped_ = 0;
  }
  PageRegion& operator=(PageRegion&& o) noexcept;
  PageRegion(const PageRegion&) = delete;
  PageRegion& operator=(const PageRegion&) = delete;

  void* data() const { return data_; }
  std::size_t mapped_bytes() const { return mapped_; }

 private:
  void* data_ = nullptr;
  std::size_t mapped_ = 0;
};

}  // namespace tcpterm
