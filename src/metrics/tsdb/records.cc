#include "metrics/tsdb/records.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "base/varint.h"
#include "metrics/tsdb/chunk.h"

namespace pantau::metrics::tsdb {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt WAL record: ", what));
}

}  // namespace

void AppendRecord(std::string* out, WalRecordType type,
                  std::string_view payload) {
  const char t = static_cast<char>(type);
  uint32_t crc = base::crc32c::Extend(0, &t, 1);
  crc = base::crc32c::Extend(crc, payload.data(), payload.size());
  base::PutFixed32(out, static_cast<uint32_t>(payload.size()));
  base::PutFixed32(out, crc);
  out->push_back(t);
  out->append(payload);
}

std::string EncodeSeries(
    const std::vector<std::pair<SeriesRef, const base::Labels*>>& series) {
  std::string out;
  for (const auto& [ref, labels] : series) {
    base::PutVarint64(&out, ref);
    base::PutLengthPrefixed(&out, labels->data());
  }
  return out;
}

std::string EncodeSamples(const std::vector<RefSample>& samples) {
  std::string out;
  if (samples.empty()) return out;
  const RefSample& first = samples[0];
  base::PutVarint64(&out, first.ref);
  base::PutVarsint64(&out, first.t);
  base::PutFixed64(&out, Bits(first.v));
  for (size_t i = 1; i < samples.size(); ++i) {
    base::PutVarsint64(&out, static_cast<int64_t>(samples[i].ref - first.ref));
    base::PutVarsint64(
        &out, static_cast<int64_t>(static_cast<uint64_t>(samples[i].t) -
                                   static_cast<uint64_t>(first.t)));
    base::PutFixed64(&out, Bits(samples[i].v));
  }
  return out;
}

std::string EncodeSeriesChunks(SeriesRef ref, const ChunkedSeries& series) {
  std::string out;
  base::PutVarint64(&out, ref);
  base::PutLengthPrefixed(&out, series.labels.data());
  base::PutVarint64(&out, series.extra.size());
  for (const Sample& s : series.extra) {
    base::PutVarsint64(&out, s.t);
    base::PutFixed64(&out, Bits(s.v));
  }
  base::PutVarint64(&out, series.chunks.size());
  for (size_t i = 0; i < series.chunks.size(); ++i) {
    const ChunkData& c = series.chunks[i];
    base::PutVarsint64(&out, c.mint);
    base::PutVarint64(
        &out, static_cast<uint64_t>(c.maxt) - static_cast<uint64_t>(c.mint));
    out.push_back(static_cast<char>(kEncodingXor));
    base::PutLengthPrefixed(&out, series.chunk_bytes(i));
  }
  return out;
}

absl::Status DecodeSeries(
    std::string_view payload,
    std::vector<std::pair<SeriesRef, base::Labels>>* out) {
  base::ByteReader r(payload);
  while (r.remaining() > 0) {
    uint64_t ref;
    std::string_view enc;
    if (!r.ReadVarint64(&ref) || !r.ReadLengthPrefixed(&enc)) {
      return Corrupt("short series record");
    }
    auto labels = base::Labels::FromEncoded(std::string(enc));
    if (!labels.ok()) return Corrupt(labels.status().message());
    if (ref == 0 || labels->empty()) return Corrupt("empty series");
    out->emplace_back(ref, std::move(*labels));
  }
  return absl::OkStatus();
}

absl::Status DecodeSamples(std::string_view payload,
                           std::vector<RefSample>* out) {
  base::ByteReader r(payload);
  uint64_t ref0, v;
  int64_t t0;
  if (!r.ReadVarint64(&ref0) || !r.ReadVarsint64(&t0) || !r.ReadFixed64(&v)) {
    return Corrupt("short samples record");
  }
  out->push_back({ref0, t0, FromBits(v)});
  while (r.remaining() > 0) {
    int64_t dref, dt;
    if (!r.ReadVarsint64(&dref) || !r.ReadVarsint64(&dt) ||
        !r.ReadFixed64(&v)) {
      return Corrupt("short samples record");
    }
    out->push_back({ref0 + static_cast<uint64_t>(dref),
                    static_cast<int64_t>(static_cast<uint64_t>(t0) +
                                         static_cast<uint64_t>(dt)),
                    FromBits(v)});
  }
  return absl::OkStatus();
}

absl::Status DecodeSeriesChunks(std::string_view payload, SeriesRef* ref,
                                ChunkedSeries* series, ChunkCheck check) {
  base::ByteReader r(payload);
  std::string_view enc;
  uint64_t n;
  if (!r.ReadVarint64(ref) || !r.ReadLengthPrefixed(&enc) ||
      !r.ReadVarint64(&n)) {
    return Corrupt("short series chunks record");
  }
  auto labels = base::Labels::FromEncoded(std::string(enc));
  if (!labels.ok()) return Corrupt(labels.status().message());
  if (*ref == 0 || labels->empty()) return Corrupt("empty series");
  series->labels = std::move(*labels);
  if (n > r.remaining()) return Corrupt("bad sample count");
  for (uint64_t i = 0; i < n; ++i) {
    int64_t t;
    uint64_t v;
    if (!r.ReadVarsint64(&t) || !r.ReadFixed64(&v)) {
      return Corrupt("short sample");
    }
    if (!series->extra.empty() && t <= series->extra.back().t) {
      return Corrupt("unsorted out-of-order samples");
    }
    series->extra.push_back({t, FromBits(v)});
  }
  if (!r.ReadVarint64(&n) || n > r.remaining()) {
    return Corrupt("bad chunk count");
  }
  for (uint64_t i = 0; i < n; ++i) {
    int64_t mint;
    uint64_t span;
    std::string_view enc_byte, data;
    if (!r.ReadVarsint64(&mint) || !r.ReadVarint64(&span) ||
        !r.ReadBytes(1, &enc_byte) || !r.ReadLengthPrefixed(&data)) {
      return Corrupt("short chunk");
    }
    if (static_cast<uint8_t>(enc_byte[0]) != kEncodingXor) {
      return Corrupt("unknown chunk encoding");
    }
    ChunkData c;
    if (check == ChunkCheck::kFull) {
      int samples;
      absl::Status st = ValidateXorChunk(data, &samples, &c.mint, &c.maxt);
      if (!st.ok()) return Corrupt(st.message());
    } else {
      c.mint = mint;
      c.maxt = static_cast<int64_t>(static_cast<uint64_t>(mint) + span);
      XorIterator it(data);
      if (!it.Next()) {
        return Corrupt(it.status().ok() ? "empty chunk"
                                        : it.status().message());
      }
      if (it.t() != mint || c.maxt < mint ||
          it.num_samples() > kMaxSamplesPerChunk ||
          (it.num_samples() == 1) != (c.maxt == mint)) {
        return Corrupt("chunk does not match its time range");
      }
    }
    if (!series->chunks.empty() && c.mint <= series->chunks.back().maxt) {
      return Corrupt("overlapping chunks");
    }
    c.bytes = std::string(data);
    series->chunks.push_back(std::move(c));
  }
  return absl::OkStatus();
}

ScanResult ScanRecords(
    std::string_view data,
    const std::function<absl::Status(WalRecordType, std::string_view)>& fn) {
  ScanResult res;
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < kWalRecordHeaderSize) {
      res.corrupt = true;
      res.reason = "torn record header";
      break;
    }
    const uint32_t len = base::DecodeFixed32(data.data() + pos);
    const uint32_t crc = base::DecodeFixed32(data.data() + pos + 4);
    const uint8_t type = static_cast<uint8_t>(data[pos + 8]);
    if (len == 0 || len > kMaxWalRecordSize) {
      res.corrupt = true;
      res.reason = absl::StrCat("bad record length ", len);
      break;
    }
    if (data.size() - pos - kWalRecordHeaderSize < len) {
      res.corrupt = true;
      res.reason = "torn record (file ends inside it)";
      break;
    }
    std::string_view payload = data.substr(pos + kWalRecordHeaderSize, len);
    uint32_t want = base::crc32c::Extend(0, data.data() + pos + 8, 1);
    want = base::crc32c::Extend(want, payload.data(), payload.size());
    if (want != crc) {
      res.corrupt = true;
      res.reason = "checksum mismatch";
      break;
    }
    if (type < 1 || type > 3) {
      res.corrupt = true;
      res.reason = absl::StrCat("unknown record type ", type);
      break;
    }
    absl::Status st = fn(static_cast<WalRecordType>(type), payload);
    if (!st.ok()) {
      res.corrupt = true;
      res.reason = std::string(st.message());
      break;
    }
    pos += kWalRecordHeaderSize + len;
    res.valid_bytes = pos;
    ++res.records;
  }
  return res;
}

}  // namespace pantau::metrics::tsdb
