// CRC-32C (Castagnoli), the checksum of every WAL record and block file.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// run time) and a slicing-by-8 table otherwise; hand-written because Debian's
// Abseil (20220623) predates absl/crc and checksums are on the write path.
//
// Thread safety: pure functions.
#ifndef PANTAU_BASE_CRC32C_H_
#define PANTAU_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pantau::base::crc32c {

// CRC of data appended to a stream whose CRC so far is `crc` (0 to start).
uint32_t Extend(uint32_t crc, const char* data, size_t n);

inline uint32_t Value(std::string_view data) {
  return Extend(0, data.data(), data.size());
}

}  // namespace pantau::base::crc32c

#endif  // PANTAU_BASE_CRC32C_H_
