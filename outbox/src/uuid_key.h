// A message id (UUID text) as 128 bits, so the stores can remember the seq
// of each claimed message without a string copy per message. Internal.
//
// Thread safety: pure functions.
#ifndef PANTAU_OUTBOX_SRC_UUID_KEY_H_
#define PANTAU_OUTBOX_SRC_UUID_KEY_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/numeric/int128.h"

namespace pantau::outbox::internal {

// The 16 bytes of a UUID in text form (hex digits, hyphens skipped); false
// if it is not one.
inline bool UuidBytes(std::string_view text, char raw[16]) {
  int n = 0;
  for (char c : text) {
    if (c == '-') continue;
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0 || n >= 32) return false;
    if (n % 2 == 0) {
      raw[n / 2] = static_cast<char>(d << 4);
    } else {
      raw[n / 2] = static_cast<char>(raw[n / 2] | d);
    }
    ++n;
  }
  return n == 32;
}

// 16 raw UUID bytes as one key.
inline absl::uint128 UuidKey(const char raw[16]) {
  uint64_t hi, lo;
  std::memcpy(&hi, raw, 8);
  std::memcpy(&lo, raw + 8, 8);
  return absl::MakeUint128(hi, lo);
}

// The key a claimed message's id is filed under, for an id in canonical
// form (lowercase, hyphens at 8, 13, 18 and 23: what PostgreSQL's uuid
// type gives back and NewMessageId makes); 0 for any other, which the
// stores never file. Only canonical text maps one to one to the bits: on
// SQLite "ABC..." and "abc..." are two messages, and filing both under one
// key recorded one's outcome on the other's row.
inline absl::uint128 ClaimKey(std::string_view id) {
  if (id.size() != 36) return 0;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? c != '-'
               : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return 0;
    }
  }
  char raw[16];
  return UuidBytes(id, raw) ? UuidKey(raw) : absl::uint128(0);
}

}  // namespace pantau::outbox::internal

#endif  // PANTAU_OUTBOX_SRC_UUID_KEY_H_
