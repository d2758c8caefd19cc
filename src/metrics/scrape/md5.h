// MD5, only for relabeling's `hashmod` action: Prometheus assigns targets
// to shards by the MD5 of the joined source label values, and pantau must
// pick the same shard for the same target. It is not used for security.
//
// Hand-written (RFC 1321) because OpenSSL's libcrypto is not among the
// project's dependencies and ~80 lines are cheaper than adding it.
//
// Thread safety: pure function.
#ifndef PANTAU_METRICS_SCRAPE_MD5_H_
#define PANTAU_METRICS_SCRAPE_MD5_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace pantau::metrics::scrape {

std::array<uint8_t, 16> Md5(std::string_view data);

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_MD5_H_
