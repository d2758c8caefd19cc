// tsdb_chunk_sizes: bytes per sample of the chunk encodings on the ingest
// benchmark's workload (bench/ingest/workload.h), by series kind, and on
// real blocks.
//
//   tsdb_chunk_sizes [--series=N] [--scrapes=N]
//     Generates the series exactly as `ingest_loadgen --openmetrics` does
//     (same catalog, seeds, 15 s interval, start on a 2 h boundary), cuts
//     them into chunks of kMaxSamplesPerChunk and prints, per kind, the
//     bytes/sample of XOR chunks and of CompactChunk's choice, counting the
//     block's chunk record framing (encoding, length, crc) too.
//   tsdb_chunk_sizes BLOCK_DIR...
//     Reads each block's chunks file, re-encodes every chunk with
//     CompactChunk and prints the block's size now and with the packed
//     encoding (index and meta.json unchanged), per sample.
//
// A measurement tool, not a test: it asserts only that every re-encoded
// chunk iterates to the same samples.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "base/varint.h"
#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/format.h"
#include "workload.h"

namespace pantau::metrics::tsdb {
namespace {

size_t RecordBytes(size_t data) {
  std::string v;
  base::PutVarint64(&v, data);
  return 1 + v.size() + data + 4;
}

bool SameSamples(std::string_view a, std::string_view b) {
  ChunkIterator x(a), y(b);
  while (true) {
    const bool nx = x.Next(), ny = y.Next();
    if (nx != ny) return false;
    if (!nx) break;
    if (x.t() != y.t() || x.v_bits() != y.v_bits()) return false;
  }
  return x.status().ok() && y.status().ok();
}

struct Totals {
  int64_t samples = 0;
  int64_t chunks = 0;
  int64_t packed_chunks = 0;
  int64_t xor_bytes = 0;   // chunk records, XOR only
  int64_t best_bytes = 0;  // chunk records, CompactChunk's choice
  // Where the bytes of packed chunks go (PackedBits), plus the block's
  // chunk record framing; the rest of a packed chunk is byte padding.
  int64_t framing = 0;
  int64_t header_bits = 0;
  int64_t time_bits = 0;
  int64_t value_bits = 0;
  int64_t special_bits = 0;
  double entropy_bits = 0;  // the generator's information, see Entropy
};

// Bits of information per sample the generator puts into a series: no
// lossless encoding can average below it. A counter's increment is uniform
// over W = 0.8 * rate * 15 s / resolution steps (log2 W bits); a gauge
// stays put half the time and otherwise moves uniformly over L = level *
// 1% / resolution steps (1 + log2(L) / 2 bits). For small ranges, where
// the rounding to the resolution dominates, the empirical entropy of the
// series' first differences (exact there: few symbols, 480 samples).
double Entropy(const bench::SeriesSpec& spec, const std::vector<double>& v) {
  const double w = spec.kind == bench::Kind::kGauge
                       ? spec.level * 0.01 / spec.resolution
                       : 0.8 * spec.rate * 15 / spec.resolution;
  if (w >= 64) {
    return spec.kind == bench::Kind::kGauge ? 1 + std::log2(w) / 2
                                            : std::log2(w);
  }
  std::map<int64_t, int> counts;
  for (size_t i = 1; i < v.size(); ++i) {
    ++counts[std::llround((v[i] - v[i - 1]) / spec.resolution)];
  }
  double h = 0;
  const double n = static_cast<double>(v.size() - 1);
  for (const auto& [d, c] : counts) h -= c / n * std::log2(c / n);
  return h;
}

int Workload(int64_t series, int scrapes) {
  const auto cat = bench::BuildCatalog(series);
  const int64_t start = int64_t{1763942400000};  // a 2 h boundary
  std::map<std::string, Totals> by_kind;
  Totals all;
  std::vector<int64_t> ts;
  std::vector<uint64_t> vs;
  for (size_t i = 0; i < cat.size(); ++i) {
    const auto& spec = cat[i];
    const char* kind = spec.kind == bench::Kind::kGauge    ? "gauge"
                       : spec.kind == bench::Kind::kBucket ? "bucket"
                                                           : "counter";
    Totals& k = by_kind[kind];
    bench::SeriesState st(spec, i);
    std::vector<double> values;
    XorChunk c;
    auto flush = [&] {
      if (c.empty()) return;
      const EncodedChunk e = CompactChunk(c.bytes());
      if (!SameSamples(c.bytes(), e.data)) {
        std::fprintf(stderr, "MISMATCH in series %zu\n", i);
        std::exit(1);
      }
      PackedBits pb;
      EncodePacked(ts, vs, &pb);
      for (Totals* t : {&k, &all}) {
        t->samples += c.num_samples();
        t->chunks += 1;
        t->packed_chunks += e.encoding == kEncodingPacked ? 1 : 0;
        t->xor_bytes += RecordBytes(c.bytes().size());
        t->best_bytes += RecordBytes(e.data.size());
        if (e.encoding == kEncodingPacked) {
          t->framing +=
              static_cast<int64_t>(RecordBytes(e.data.size()) - e.data.size());
          t->header_bits += pb.header;
          t->time_bits += pb.time;
          t->value_bits += pb.values;
          t->special_bits += pb.specials;
        }
      }
      c = XorChunk();
      ts.clear();
      vs.clear();
    };
    for (int r = 0; r < scrapes; ++r) {
      if (c.num_samples() >= kMaxSamplesPerChunk) flush();
      const int64_t t = start + int64_t{r} * 15000;
      const double v = st.Next(15);
      values.push_back(v);
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      c.Append(t, v);
      ts.push_back(t);
      vs.push_back(bits);
    }
    flush();
    const double h = Entropy(spec, values) * static_cast<double>(scrapes);
    k.entropy_bits += h;
    all.entropy_bits += h;
  }
  std::printf(
      "Chunk records only (no index), bytes per sample:\n\n"
      "| kind | samples | chunks (packed) | XOR | best | framing | header | "
      "time | values | specials | generator entropy of the values |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  by_kind["all"] = all;
  for (const auto& [name, t] : by_kind) {
    const double n = static_cast<double>(t.samples);
    std::printf(
        "| %s | %lld | %lld (%lld) | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f "
        "| %.3f | %.3f |\n",
        name.c_str(), static_cast<long long>(t.samples),
        static_cast<long long>(t.chunks),
        static_cast<long long>(t.packed_chunks), t.xor_bytes / n,
        t.best_bytes / n, t.framing / n, t.header_bits / 8.0 / n,
        t.time_bits / 8.0 / n, t.value_bits / 8.0 / n, t.special_bits / 8.0 / n,
        t.entropy_bits / 8 / n);
  }
  return 0;
}

int Blocks(int argc, char** argv) {
  int64_t total_now = 0, total_packed = 0, samples = 0;
  for (int a = 1; a < argc; ++a) {
    const std::filesystem::path dir(argv[a]);
    std::ifstream f(dir / "chunks", std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
    if (data.size() < kChunksHeaderSize) {
      std::fprintf(stderr, "%s: no chunks file\n", argv[a]);
      return 1;
    }
    int64_t other = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().filename() != "chunks") {
        other += static_cast<int64_t>(std::filesystem::file_size(e.path()));
      }
    }
    int64_t packed = static_cast<int64_t>(kChunksHeaderSize);
    int64_t n = 0, chunks = 0, packed_chunks = 0;
    base::ByteReader r(std::string_view(data).substr(kChunksHeaderSize));
    while (r.remaining() > 0) {
      std::string_view enc, body, crc;
      uint64_t len;
      if (!r.ReadBytes(1, &enc) || !r.ReadVarint64(&len) ||
          !r.ReadBytes(len, &body) || !r.ReadBytes(4, &crc)) {
        std::fprintf(stderr, "%s: bad chunk record\n", argv[a]);
        return 1;
      }
      const EncodedChunk e = CompactChunk(body);
      if (!SameSamples(body, e.data)) {
        std::fprintf(stderr, "MISMATCH in %s\n", argv[a]);
        return 1;
      }
      ChunkIterator it(body);
      while (it.Next()) ++n;
      ++chunks;
      packed_chunks += e.encoding == kEncodingPacked ? 1 : 0;
      packed += static_cast<int64_t>(RecordBytes(e.data.size()));
    }
    const int64_t now = static_cast<int64_t>(data.size()) + other;
    std::printf(
        "%s: %lld samples, %lld chunks (%lld packed); chunks file %zu -> "
        "%lld bytes; index+meta %lld; block %.3f -> %.3f bytes/sample\n",
        argv[a], static_cast<long long>(n), static_cast<long long>(chunks),
        static_cast<long long>(packed_chunks), data.size(),
        static_cast<long long>(packed), static_cast<long long>(other),
        static_cast<double>(now) / n, static_cast<double>(packed + other) / n);
    total_now += now;
    total_packed += packed + other;
    samples += n;
  }
  std::printf("all blocks: %.3f -> %.3f bytes/sample\n",
              static_cast<double>(total_now) / samples,
              static_cast<double>(total_packed) / samples);
  return 0;
}

}  // namespace
}  // namespace pantau::metrics::tsdb

int main(int argc, char** argv) {
  int64_t series = 2000;
  int scrapes = 480;
  bool flags = argc == 1;
  for (int a = 1; a < argc; ++a) {
    if (std::strncmp(argv[a], "--series=", 9) == 0) {
      series = std::atoll(argv[a] + 9);
      flags = true;
    } else if (std::strncmp(argv[a], "--scrapes=", 10) == 0) {
      scrapes = std::atoi(argv[a] + 10);
      flags = true;
    }
  }
  if (flags) return pantau::metrics::tsdb::Workload(series, scrapes);
  return pantau::metrics::tsdb::Blocks(argc, argv);
}
