#include "base/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace pantau::base {
namespace {

absl::Status TooLarge(Codec codec, size_t max_output) {
  return absl::ResourceExhaustedError(
      absl::StrCat(Sv(CodecName(codec)), " body decompresses to more than ",
                   max_output, " bytes"));
}

absl::StatusOr<std::string> GzipCompress(std::string_view input, int level) {
  z_stream zs{};
  // 15 window bits + 16 selects the gzip wrapper.
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED,
                   15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, input.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip compression failed");
  return out;
}

absl::StatusOr<std::string> GzipDecompress(std::string_view input,
                                           size_t max_output) {
  z_stream zs{};
  // 15 window bits + 32 detects gzip or zlib headers automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(absl::StrCat(
          "corrupt gzip data: ", zs.msg ? zs.msg : "inflate error"));
    }
    size_t produced = sizeof buf - zs.avail_out;
    if (out.size() + produced > max_output) {
      inflateEnd(&zs);
      return TooLarge(Codec::kGzip, max_output);
    }
    out.append(buf, produced);
    if (rc != Z_STREAM_END && zs.avail_in == 0 && produced == 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("corrupt gzip data: truncated stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

absl::StatusOr<std::string> SnappyDecompress(std::string_view input,
                                             size_t max_output) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(input.data(), input.size(), &len)) {
    return absl::InvalidArgumentError("corrupt snappy data: bad length header");
  }
  if (len > max_output) return TooLarge(Codec::kSnappy, max_output);
  std::string out;
  if (!snappy::Uncompress(input.data(), input.size(), &out)) {
    return absl::InvalidArgumentError("corrupt snappy data");
  }
  return out;
}

absl::StatusOr<std::string> ZstdCompress(std::string_view input, int level) {
  std::string out;
  out.resize(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(),
                           level == 0 ? 3 : level);
  if (ZSTD_isError(n)) {
    return absl::InternalError(
        absl::StrCat("zstd compression failed: ", ZSTD_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> ZstdDecompress(std::string_view input,
                                           size_t max_output) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return absl::InternalError("ZSTD_createDStream failed");
  ZSTD_initDStream(ds);
  std::string out;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  char buf[64 * 1024];
  size_t rc = 1;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    rc = ZSTD_decompressStream(ds, &ob, &in);
    if (ZSTD_isError(rc)) {
      ZSTD_freeDStream(ds);
      return absl::InvalidArgumentError(
          absl::StrCat("corrupt zstd data: ", ZSTD_getErrorName(rc)));
    }
    if (out.size() + ob.pos > max_output) {
      ZSTD_freeDStream(ds);
      return TooLarge(Codec::kZstd, max_output);
    }
    out.append(buf, ob.pos);
    if (in.pos == in.size && ob.pos == 0 && rc != 0) {
      ZSTD_freeDStream(ds);
      return absl::InvalidArgumentError("corrupt zstd data: truncated frame");
    }
  }
  ZSTD_freeDStream(ds);
  return out;
}

}  // namespace

std::optional<Codec> CodecFromContentEncoding(std::string_view encoding) {
  std::string e =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(Sv(encoding)));
  if (e == "gzip" || e == "x-gzip" || e == "deflate") return Codec::kGzip;
  if (e == "snappy") return Codec::kSnappy;
  if (e == "zstd") return Codec::kZstd;
  return std::nullopt;
}

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kGzip:
      return "gzip";
    case Codec::kSnappy:
      return "snappy";
    case Codec::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<std::string> Compress(Codec codec, std::string_view input,
                                     int level) {
  switch (codec) {
    case Codec::kGzip:
      return GzipCompress(input, level);
    case Codec::kSnappy: {
      std::string out;
      snappy::Compress(input.data(), input.size(), &out);
      return out;
    }
    case Codec::kZstd:
      return ZstdCompress(input, level);
  }
  return absl::InvalidArgumentError("unknown codec");
}

absl::StatusOr<std::string> Decompress(Codec codec, std::string_view input,
                                       size_t max_output) {
  switch (codec) {
    case Codec::kGzip:
      return GzipDecompress(input, max_output);
    case Codec::kSnappy:
      return SnappyDecompress(input, max_output);
    case Codec::kZstd:
      return ZstdDecompress(input, max_output);
  }
  return absl::InvalidArgumentError("unknown codec");
}

}  // namespace pantau::base
