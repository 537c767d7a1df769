// See flow_memory.h: 2 MiB-aligned anonymous mappings, THP-advised, pre-faulted.
#include "engine/flow/flow_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>
#include <utility>

namespace tcpterm {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kPage = 4096;
}  // namespace

PageRegion::PageRegion(std::size_t bytes) {
  if (bytes == 0) return;
  const bool huge = bytes >= kHugePage / 2;
  const std::size_t align = huge ? kHugePage : kPage;
  const std::size_t size = (bytes + align - 1) / align * align;
  const std::size_t reserve = huge ? size + kHugePage : size;
  void* p = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<unsigned char*>(p);
  if (huge) {
    // Trim the mapping to a 2 MiB-aligned window so every page can be huge.
    const auto addr = reinterpret_cast<std::uintptr_t>(base);
    const std::size_t head = (kHugePage - addr % kHugePage) % kHugePage;
    if (head != 0) munmap(base, head);
    const std::size_t tail = reserve - head - size;
    if (tail != 0) munmap(base + head + size, tail);
    base += head;
    madvise(base, size, MADV_HUGEPAGE);  // a hint; failure only costs speed
  }
  // Fault every page in now (anonymous memory reads as zero; the write makes
  // the kernel back it), so the packet path never takes a page fault here.
  for (std::size_t off = 0; off < size; off += kPage) {
    *static_cast<volatile unsigned char*>(base + off) = 0;
  }
  data_ = base;
  mapped_ = size;
  asan_poison(base + bytes, size - bytes);  // past the last entry
}

PageRegion::~PageRegion() {
  if (data_ != nullptr) {
    asan_unpoison(data_, mapped_);  // the addresses may be mapped again by others
    munmap(data_, mapped_);
  }
}

PageRegion& PageRegion::operator=(PageRegion&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) {
      asan_unpoison(data_, mapped_);
      munmap(data_, mapped_);
    }
    data_ = std::exchange(o.data_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
  }
  return *this;
}

}  // namespace tcpterm
