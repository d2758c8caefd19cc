#include "metrics/tsdb/index.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "base/status_macros.h"
#include "base/varint.h"
#include "metrics/tsdb/format.h"

namespace pantau::metrics::tsdb {
namespace {

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt index: ", what));
}

}  // namespace

absl::Status IndexWriter::AddSeries(const base::Labels& labels,
                                    const std::vector<ChunkMeta>& chunks) {
  if (!labels_.empty() && !(labels_.back() < labels)) {
    return absl::InvalidArgumentError("index: series out of order");
  }
  labels_.push_back(labels);
  chunks_.push_back(chunks);
  return absl::OkStatus();
}

std::string IndexWriter::Finish() {
  // Symbols: every name and value, plus "" as id 0.
  std::vector<std::string_view> syms = {""};
  for (const base::Labels& l : labels_) {
    for (const base::LabelView& lv : l) {
      syms.push_back(lv.name);
      syms.push_back(lv.value);
    }
  }
  std::sort(syms.begin(), syms.end());
  syms.erase(std::unique(syms.begin(), syms.end()), syms.end());
  auto sym_id = [&](std::string_view s) {
    return static_cast<uint64_t>(std::lower_bound(syms.begin(), syms.end(), s) -
                                 syms.begin());
  };

  std::string sections[kIndexSections];
  std::string& header = sections[0];
  base::PutFixed32(&header, kIndexMagic);
  header.push_back(static_cast<char>(kIndexVersion));

  std::string& symbols = sections[1];
  base::PutVarint64(&symbols, syms.size());
  for (std::string_view s : syms) base::PutLengthPrefixed(&symbols, s);

  std::string& series = sections[2];
  std::string& offsets = sections[3];
  // (name, value) -> series ids, ordered by strings.
  std::map<std::pair<std::string_view, std::string_view>, std::vector<uint64_t>>
      postings;
  for (size_t id = 0; id < labels_.size(); ++id) {
    base::PutFixed64(&offsets, series.size());
    base::PutVarint64(&series, labels_[id].size());
    for (const base::LabelView& lv : labels_[id]) {
      base::PutVarint64(&series, sym_id(lv.name));
      base::PutVarint64(&series, sym_id(lv.value));
      postings[{lv.name, lv.value}].push_back(id);
    }
    base::PutVarint64(&series, chunks_[id].size());
    for (const ChunkMeta& c : chunks_[id]) {
      base::PutVarsint64(&series, c.mint);
      base::PutVarint64(&series, static_cast<uint64_t>(c.maxt) -
                                     static_cast<uint64_t>(c.mint));
      base::PutVarint64(&series, c.ref);
    }
  }

  std::string& plists = sections[4];
  std::string& table = sections[5];
  auto put_list = [&](std::string_view n, std::string_view v,
                      const std::vector<uint64_t>& ids) {
    const uint64_t off = plists.size();
    base::PutVarint64(&plists, ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      base::PutVarint64(&plists, i == 0 ? ids[0] : ids[i] - ids[i - 1]);
    }
    base::PutVarint64(&table, sym_id(n));
    base::PutVarint64(&table, sym_id(v));
    base::PutVarint64(&table, off);
    base::PutVarint64(&table, plists.size() - off);
  };
  base::PutVarint64(&table, postings.size() + 1);
  std::vector<uint64_t> all(labels_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  put_list("", "", all);
  for (const auto& [key, ids] : postings) put_list(key.first, key.second, ids);

  std::string out;
  std::string toc;
  for (const std::string& s : sections) {
    base::PutFixed64(&toc, out.size());
    base::PutFixed64(&toc, s.size());
    base::PutFixed32(&toc, base::crc32c::Value(s));
    out.append(s);
  }
  out.append(toc);
  base::PutFixed32(&out, kIndexMagic);
  return out;
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(
    std::string data) {
  std::unique_ptr<IndexReader> r(new IndexReader);
  r->data_ = std::move(data);
  PANTAU_RETURN_IF_ERROR(r->Parse());
  return r;
}

absl::Status IndexReader::Parse() {
  const std::string_view d = data_;
  if (d.size() < kIndexTocSize + 5) return Corrupt("file too short");
  if (base::DecodeFixed32(d.data() + d.size() - 4) != kIndexMagic) {
    return Corrupt("bad trailing magic");
  }
  const size_t toc_at = d.size() - kIndexTocSize;
  std::string_view sec[kIndexSections];
  for (int i = 0; i < kIndexSections; ++i) {
    const char* p = d.data() + toc_at + i * 20;
    const uint64_t off = base::DecodeFixed64(p);
    const uint64_t len = base::DecodeFixed64(p + 8);
    const uint32_t crc = base::DecodeFixed32(p + 16);
    if (off > toc_at || len > toc_at - off)
      return Corrupt("section out of range");
    sec[i] = d.substr(off, len);
    if (base::crc32c::Value(sec[i]) != crc) {
      return Corrupt(absl::StrCat("checksum mismatch in section ", i));
    }
  }
  if (sec[0].size() != 5 || base::DecodeFixed32(sec[0].data()) != kIndexMagic ||
      static_cast<uint8_t>(sec[0][4]) != kIndexVersion) {
    return Corrupt("bad header");
  }
  // Symbols.
  base::ByteReader sr(sec[1]);
  uint64_t nsyms;
  if (!sr.ReadVarint64(&nsyms) || nsyms > sec[1].size() || nsyms == 0) {
    return Corrupt("bad symbol count");
  }
  symbols_.reserve(nsyms);
  for (uint64_t i = 0; i < nsyms; ++i) {
    std::string_view s;
    if (!sr.ReadLengthPrefixed(&s)) return Corrupt("short symbol table");
    if (!symbols_.empty() && !(symbols_.back() < s)) {
      return Corrupt("symbols not sorted");
    }
    symbols_.push_back(s);
  }
  if (!symbols_[0].empty()) return Corrupt("symbol 0 is not empty");
  series_ = sec[2];
  if (sec[3].size() % 8 != 0) return Corrupt("bad series offsets");
  series_offsets_.resize(sec[3].size() / 8);
  for (size_t i = 0; i < series_offsets_.size(); ++i) {
    series_offsets_[i] = base::DecodeFixed64(sec[3].data() + i * 8);
    if (series_offsets_[i] >= series_.size() ||
        (i > 0 && series_offsets_[i] <= series_offsets_[i - 1])) {
      return Corrupt("bad series offset");
    }
  }
  postings_ = sec[4];
  base::ByteReader tr(sec[5]);
  uint64_t n;
  if (!tr.ReadVarint64(&n) || n > sec[5].size()) return Corrupt("bad table");
  std::string_view prev_name, prev_value;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ni, vi, off, len;
    if (!tr.ReadVarint64(&ni) || !tr.ReadVarint64(&vi) ||
        !tr.ReadVarint64(&off) || !tr.ReadVarint64(&len)) {
      return Corrupt("short postings table");
    }
    if (ni >= symbols_.size() || vi >= symbols_.size()) {
      return Corrupt("symbol id out of range");
    }
    if (off > postings_.size() || len > postings_.size() - off) {
      return Corrupt("postings out of range");
    }
    const std::string_view name = symbols_[ni], value = symbols_[vi];
    if (i > 0 && !(std::pair(prev_name, prev_value) < std::pair(name, value))) {
      return Corrupt("postings table not sorted");
    }
    prev_name = name;
    prev_value = value;
    table_[name].push_back({value, off, len});
  }
  // Validate every postings list and series entry once, so later lookups
  // cannot run off the end.
  for (const auto& [name, entries] : table_) {
    for (const Entry& e : entries) {
      Postings p;
      PANTAU_RETURN_IF_ERROR(DecodePostings(e.off, e.len, &p));
    }
  }
  for (size_t i = 0; i < series_offsets_.size(); ++i) {
    base::Labels l;
    std::vector<ChunkMeta> c;
    PANTAU_RETURN_IF_ERROR(Series(i, &l, &c));
  }
  return absl::OkStatus();
}

absl::Status IndexReader::DecodePostings(uint64_t off, uint64_t len,
                                         Postings* out) const {
  base::ByteReader r(postings_.substr(off, len));
  uint64_t n;
  if (!r.ReadVarint64(&n) || n > len) return Corrupt("bad postings count");
  out->reserve(n);
  uint64_t cur = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t d;
    if (!r.ReadVarint64(&d)) return Corrupt("short postings list");
    if (i > 0 && d == 0) return Corrupt("postings not increasing");
    cur += d;
    if (cur >= series_offsets_.size()) return Corrupt("series id out of range");
    out->push_back(cur);
  }
  return absl::OkStatus();
}

absl::Status IndexReader::Series(uint64_t id, base::Labels* labels,
                                 std::vector<ChunkMeta>* chunks) const {
  if (id >= series_offsets_.size()) return Corrupt("series id out of range");
  base::ByteReader r(series_.substr(series_offsets_[id]));
  uint64_t n;
  if (!r.ReadVarint64(&n) || n > r.remaining())
    return Corrupt("bad label count");
  std::string enc;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ni, vi;
    if (!r.ReadVarint64(&ni) || !r.ReadVarint64(&vi)) {
      return Corrupt("short series entry");
    }
    if (ni >= symbols_.size() || vi >= symbols_.size()) {
      return Corrupt("symbol id out of range");
    }
    base::PutLengthPrefixed(&enc, symbols_[ni]);
    base::PutLengthPrefixed(&enc, symbols_[vi]);
  }
  auto l = base::Labels::FromEncoded(std::move(enc));
  if (!l.ok()) return Corrupt(l.status().message());
  *labels = std::move(*l);
  if (!r.ReadVarint64(&n) || n > r.remaining())
    return Corrupt("bad chunk count");
  chunks->clear();
  chunks->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    ChunkMeta c;
    uint64_t span;
    if (!r.ReadVarsint64(&c.mint) || !r.ReadVarint64(&span) ||
        !r.ReadVarint64(&c.ref)) {
      return Corrupt("short chunk meta");
    }
    c.maxt = static_cast<int64_t>(static_cast<uint64_t>(c.mint) + span);
    if (c.maxt < c.mint) return Corrupt("chunk range overflows");
    if (!chunks->empty() && c.mint <= chunks->back().maxt) {
      return Corrupt("chunks overlap");
    }
    chunks->push_back(c);
  }
  return absl::OkStatus();
}

std::vector<std::string> IndexReader::LabelNames() const {
  std::vector<std::string> out;
  for (const auto& [name, entries] : table_) {
    if (!name.empty()) out.emplace_back(name);
  }
  return out;
}

void IndexReader::ForEachValue(
    std::string_view name, const std::function<void(std::string_view)>& fn) {
  if (name.empty()) return;
  auto it = table_.find(name);
  if (it == table_.end()) return;
  for (const Entry& e : it->second) fn(e.value);
}

Postings IndexReader::Get(std::string_view name, std::string_view value) {
  if (name.empty()) return {};
  auto it = table_.find(name);
  if (it == table_.end()) return {};
  auto e = std::lower_bound(
      it->second.begin(), it->second.end(), value,
      [](const Entry& a, std::string_view v) { return a.value < v; });
  if (e == it->second.end() || e->value != value) return {};
  Postings p;
  (void)DecodePostings(e->off, e->len, &p);  // validated in Parse
  return p;
}

Postings IndexReader::All() {
  auto it = table_.find(std::string_view());
  if (it == table_.end() || it->second.empty()) return {};
  Postings p;
  (void)DecodePostings(it->second[0].off, it->second[0].len, &p);
  return p;
}

}  // namespace pantau::metrics::tsdb
