// One interface to the codecs pantau reads and writes: gzip (HTTP bodies,
// zlib), snappy (remote_write, Loki push), zstd (log and trace chunks).
//
// Decompression takes a limit on the output size and fails with
// RESOURCE_EXHAUSTED past it, so a small hostile body cannot expand into
// gigabytes (a "zip bomb").
//
// Thread safety: pure functions.
#ifndef PANTAU_BASE_COMPRESSION_H_
#define PANTAU_BASE_COMPRESSION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace pantau::base {

enum class Codec {
  kGzip,    // RFC 1952; decoding also accepts zlib (RFC 1950) streams
  kSnappy,  // snappy block format, as Prometheus remote_write uses
  kZstd,    // zstd frames
};

// The codec for an HTTP Content-Encoding value ("gzip", "x-gzip",
// "deflate", "snappy", "zstd"), case-insensitive; nullopt for unknown.
// "identity" is not a codec: callers handle it.
std::optional<Codec> CodecFromContentEncoding(std::string_view encoding);
std::string_view CodecName(Codec codec);

// `level` is codec-specific; 0 picks the codec's default.
absl::StatusOr<std::string> Compress(Codec codec, std::string_view input,
                                     int level = 0);

// Fails with INVALID_ARGUMENT on corrupt input and RESOURCE_EXHAUSTED when
// the output would exceed max_output bytes.
absl::StatusOr<std::string> Decompress(Codec codec, std::string_view input,
                                       size_t max_output);

}  // namespace pantau::base

#endif  // PANTAU_BASE_COMPRESSION_H_
