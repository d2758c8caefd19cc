#include "metrics/tsdb/block.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "base/status_macros.h"
#include "base/varint.h"
#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/format.h"
#include "nlohmann/json.hpp"

namespace pantau::metrics::tsdb {
namespace {

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt block: ", what));
}

// Writes one chunk record; returns its offset.
absl::StatusOr<uint64_t> WriteChunk(base::WritableFile* f, uint8_t encoding,
                                    std::string_view data) {
  const uint64_t off = f->Size();
  std::string rec;
  rec.push_back(static_cast<char>(encoding));
  base::PutVarint64(&rec, data.size());
  rec.append(data);
  uint32_t crc = base::crc32c::Extend(0, rec.data(), 1);
  crc = base::crc32c::Extend(crc, data.data(), data.size());
  base::PutFixed32(&rec, crc);
  PANTAU_RETURN_IF_ERROR(f->Append(rec));
  return off;
}

}  // namespace

std::string NewUlid(int64_t ms) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string out(26, '0');
  uint64_t t = static_cast<uint64_t>(ms) & ((uint64_t{1} << 48) - 1);
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[t & 31];
    t >>= 5;
  }
  uint64_t hi = rng(), lo = rng();
  for (int i = 10; i < 26; ++i) {
    out[i] = kAlphabet[(i < 18 ? hi : lo) & 31];
    (i < 18 ? hi : lo) >>= 5;
  }
  return out;
}

std::string EncodeMeta(const BlockMeta& m) {
  nlohmann::json j = {
      {"ulid", m.ulid},
      {"minTime", m.min_time},
      {"maxTime", m.max_time},
      {"stats",
       {{"numSamples", m.num_samples},
        {"numSeries", m.num_series},
        {"numChunks", m.num_chunks}}},
      {"compaction", {{"level", m.level}, {"sources", m.sources}}},
      {"version", kMetaVersion},
  };
  return j.dump(2);
}

absl::StatusOr<BlockMeta> ParseMeta(std::string_view json) {
  // nlohmann::json throws on type mismatches; this is the only place that
  // reads it, so convert here.
  try {
    nlohmann::json j = nlohmann::json::parse(json);
    BlockMeta m;
    if (j.at("version").get<int>() != kMetaVersion) {
      return Corrupt("unsupported meta.json version");
    }
    m.ulid = j.at("ulid").get<std::string>();
    m.min_time = j.at("minTime").get<int64_t>();
    m.max_time = j.at("maxTime").get<int64_t>();
    const auto& st = j.at("stats");
    m.num_samples = st.at("numSamples").get<uint64_t>();
    m.num_series = st.at("numSeries").get<uint64_t>();
    m.num_chunks = st.at("numChunks").get<uint64_t>();
    m.level = j.at("compaction").at("level").get<int>();
    m.sources =
        j.at("compaction").at("sources").get<std::vector<std::string>>();
    if (m.ulid.size() != 26 || m.max_time <= m.min_time) {
      return Corrupt("meta.json has a bad ulid or time range");
    }
    return m;
  } catch (const std::exception& e) {
    return Corrupt(absl::StrCat("meta.json: ", e.what()));
  }
}

absl::StatusOr<BlockMeta> WriteBlock(base::Env* env, const std::string& parent,
                                     SeriesSet& input, int64_t mint,
                                     int64_t maxt, int level,
                                     std::vector<std::string> sources) {
  BlockMeta meta;
  meta.ulid = NewUlid(absl::ToUnixMillis(absl::Now()));
  meta.min_time = mint;
  meta.max_time = maxt;
  meta.level = level;
  meta.sources = std::move(sources);
  if (meta.sources.empty()) meta.sources.push_back(meta.ulid);
  const std::string tmp = parent + "/" + meta.ulid + ".tmp";
  PANTAU_RETURN_IF_ERROR(env->CreateDir(tmp));
  PANTAU_ASSIGN_OR_RETURN(auto chunks, env->NewWritableFile(tmp + "/chunks"));
  {
    std::string header;
    base::PutFixed32(&header, kChunksMagic);
    header.push_back(static_cast<char>(kChunksVersion));
    PANTAU_RETURN_IF_ERROR(chunks->Append(header));
  }
  IndexWriter index;
  while (input.Next()) {
    const Series& s = input.At();
    std::vector<ChunkMeta> metas;
    XorChunk c;
    auto flush = [&]() -> absl::Status {
      if (c.empty()) return absl::OkStatus();
      // Completed chunks go to disk in whichever encoding is smaller.
      const EncodedChunk e = CompactChunk(c.bytes());
      PANTAU_ASSIGN_OR_RETURN(uint64_t off,
                              WriteChunk(chunks.get(), e.encoding, e.data));
      metas.push_back({c.min_time(), c.max_time(), off});
      meta.num_samples += c.num_samples();
      ++meta.num_chunks;
      c = XorChunk();
      return absl::OkStatus();
    };
    auto it = s.Iterator();
    while (it->Next()) {
      const Sample smp = it->At();
      if (smp.t < mint || smp.t >= maxt) continue;
      if (c.num_samples() >= kMaxSamplesPerChunk)
        PANTAU_RETURN_IF_ERROR(flush());
      c.Append(smp.t, smp.v);
    }
    PANTAU_RETURN_IF_ERROR(it->status());
    PANTAU_RETURN_IF_ERROR(flush());
    if (metas.empty()) continue;
    PANTAU_RETURN_IF_ERROR(index.AddSeries(s.labels(), metas));
    ++meta.num_series;
  }
  PANTAU_RETURN_IF_ERROR(input.status());
  PANTAU_RETURN_IF_ERROR(chunks->Sync());
  PANTAU_RETURN_IF_ERROR(chunks->Close());
  if (meta.num_series == 0) {
    PANTAU_RETURN_IF_ERROR(env->DeleteRecursively(tmp));
    return meta;
  }
  {
    PANTAU_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp + "/index"));
    PANTAU_RETURN_IF_ERROR(f->Append(index.Finish()));
    PANTAU_RETURN_IF_ERROR(f->Sync());
    PANTAU_RETURN_IF_ERROR(f->Close());
  }
  {
    PANTAU_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp + "/meta.json"));
    PANTAU_RETURN_IF_ERROR(f->Append(EncodeMeta(meta)));
    PANTAU_RETURN_IF_ERROR(f->Sync());
    PANTAU_RETURN_IF_ERROR(f->Close());
  }
  PANTAU_RETURN_IF_ERROR(env->SyncDir(tmp));
  PANTAU_RETURN_IF_ERROR(env->RenameFile(tmp, parent + "/" + meta.ulid));
  PANTAU_RETURN_IF_ERROR(env->SyncDir(parent));
  return meta;
}

absl::Status ReadChunkRecord(std::string_view file, uint64_t ref,
                             std::string_view* chunk) {
  // Offsets come from the index, so a corrupt one must give an error, never
  // a read outside the file.
  if (ref < kChunksHeaderSize || ref >= file.size()) {
    return Corrupt(absl::StrCat("chunk ref ", ref, " outside the chunks file (",
                                file.size(), " bytes)"));
  }
  base::ByteReader r(file.substr(ref));
  std::string_view enc;
  uint64_t len;
  if (!r.ReadBytes(1, &enc) || !r.ReadVarint64(&len) ||
      len > kMaxWalRecordSize || r.remaining() < 4 || len > r.remaining() - 4) {
    return Corrupt(absl::StrCat("bad or short chunk at ", ref));
  }
  const std::string_view data = r.rest().substr(0, len);
  uint32_t crc = base::crc32c::Extend(0, enc.data(), 1);
  crc = base::crc32c::Extend(crc, data.data(), data.size());
  if (!IsChunkEncoding(static_cast<uint8_t>(enc[0])) ||
      crc != base::DecodeFixed32(data.data() + len)) {
    return Corrupt(absl::StrCat("chunk checksum mismatch at ", ref));
  }
  *chunk = data;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Block>> Block::Open(base::Env* env,
                                                   std::string dir) {
  std::shared_ptr<Block> b(new Block);
  b->dir_ = std::move(dir);
  PANTAU_ASSIGN_OR_RETURN(std::string meta,
                          env->ReadFileToString(b->dir_ + "/meta.json"));
  PANTAU_ASSIGN_OR_RETURN(b->meta_, ParseMeta(meta));
  PANTAU_ASSIGN_OR_RETURN(std::string index,
                          env->ReadFileToString(b->dir_ + "/index"));
  b->size_bytes_ = meta.size() + index.size();
  PANTAU_ASSIGN_OR_RETURN(b->index_, IndexReader::Open(std::move(index)));
  // Not pre-faulted: a long-retention block is mostly never read, and the
  // pages a query touches come from the page cache on first use.
  PANTAU_ASSIGN_OR_RETURN(b->chunks_,
                          base::MappedFile::Open(env, b->dir_ + "/chunks"));
  const std::string_view chunks = b->chunks_->data();
  b->size_bytes_ += chunks.size();
  if (chunks.size() < kChunksHeaderSize ||
      base::DecodeFixed32(chunks.data()) != kChunksMagic ||
      static_cast<uint8_t>(chunks[4]) != kChunksVersion) {
    return Corrupt("bad chunks file header");
  }
  return b;
}

absl::StatusOr<std::vector<std::shared_ptr<const ChunkedSeries>>> Block::Select(
    const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) const {
  Postings ids;
  if (matchers.empty()) {
    ids = index_->All();
  } else {
    PANTAU_ASSIGN_OR_RETURN(ids, SelectPostings(*index_, matchers));
  }
  const std::string_view file = chunks_->data();
  std::vector<std::shared_ptr<const ChunkedSeries>> out;
  std::vector<ChunkMeta> metas;
  for (uint64_t id : ids) {
    auto cs = std::make_shared<ChunkedSeries>();
    PANTAU_RETURN_IF_ERROR(index_->Series(id, &cs->labels, &metas));
    for (const ChunkMeta& m : metas) {
      if (m.maxt < mint || m.mint > maxt) continue;
      std::string_view data;
      if (absl::Status st = ReadChunkRecord(file, m.ref, &data); !st.ok()) {
        return absl::DataLossError(absl::StrCat(st.message(), " in ", dir_));
      }
      cs->chunks.push_back({m.mint, m.maxt, {}});
      cs->mapped.push_back(data);
    }
    if (cs->chunks.empty()) continue;
    cs->owner = chunks_;
    out.push_back(std::move(cs));
  }
  return out;
}

}  // namespace pantau::metrics::tsdb
