// Series sets: reading a series from several parts (head and blocks) gives
// every sample once, in time order, the earlier part winning on equal
// timestamps, whether or not the parts overlap in time.
#include "metrics/tsdb/series_set.h"

#include <map>
#include <random>

#include "gtest/gtest.h"
#include "metrics/tsdb/chunk.h"

namespace pantau::metrics::tsdb {
namespace {

// A part holding the samples at `ts` (sorted) in chunks of up to `per`
// samples; values say which part a sample came from.
std::shared_ptr<const ChunkedSeries> Part(const std::vector<int64_t>& ts,
                                          int per, double tag) {
  auto s = std::make_shared<ChunkedSeries>();
  XorChunk c;
  auto flush = [&] {
    if (c.empty()) return;
    s->chunks.push_back({c.min_time(), c.max_time(), c.Release()});
    c = XorChunk();
  };
  for (int64_t t : ts) {
    if (c.num_samples() >= per) flush();
    c.Append(t, tag + static_cast<double>(t) / 1e6);
  }
  flush();
  return s;
}

TEST(MergedIterator, ReadsDisjointAndOverlappingPartsAlike) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    const int nparts = 1 + static_cast<int>(rng() % 3);
    const bool overlap = rng() % 2;
    std::vector<std::shared_ptr<const ChunkedSeries>> parts;
    std::map<int64_t, double> want;  // the earlier part wins
    int64_t next = 0;
    for (int p = 0; p < nparts; ++p) {
      std::vector<int64_t> ts;
      int64_t t = overlap ? static_cast<int64_t>(rng() % 50) * 10 : next;
      const int n = static_cast<int>(rng() % 60);
      for (int i = 0; i < n; ++i) {
        t += 10 * (1 + static_cast<int64_t>(rng() % 3));
        ts.push_back(t);
      }
      next = t + 10;
      auto part = Part(ts, 1 + static_cast<int>(rng() % 20), p);
      for (const ChunkData& c : part->chunks) {
        XorIterator it(c.bytes);
        while (it.Next()) want.emplace(it.t(), it.v());
      }
      parts.push_back(std::move(part));
    }
    // Sources hand parts over head first, so not always in time order.
    if (!overlap && rng() % 2) std::reverse(parts.begin(), parts.end());
    if (overlap) {
      // Recompute the winners for the order the parts are in now.
      want.clear();
      for (const auto& part : parts) {
        for (const ChunkData& c : part->chunks) {
          XorIterator it(c.bytes);
          while (it.Next()) want.emplace(it.t(), it.v());
        }
      }
    }
    const int64_t mint = static_cast<int64_t>(rng() % 300);
    const int64_t maxt = mint + static_cast<int64_t>(rng() % 1500);
    const int64_t seek = mint + static_cast<int64_t>(rng() % 400);
    auto it = NewMergedIterator(parts, mint, maxt);
    std::vector<Sample> got;
    if (it->Seek(seek)) {
      do {
        got.push_back(it->At());
      } while (it->Next());
    }
    ASSERT_TRUE(it->status().ok()) << it->status();
    std::vector<Sample> expect;
    for (const auto& [t, v] : want) {
      if (t >= std::max(mint, seek) && t <= maxt) expect.push_back({t, v});
    }
    ASSERT_EQ(got.size(), expect.size()) << "round " << round;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].t, expect[i].t) << "round " << round;
      ASSERT_EQ(got[i].v, expect[i].v) << "round " << round;
    }
    EXPECT_FALSE(it->Next()) << "stays at the end";
  }
}

}  // namespace
}  // namespace pantau::metrics::tsdb
