#include "base/labels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/varint.h"
#define XXH_STATIC_LINKING_ONLY
#include "base/strings.h"
#include "xxhash.h"

namespace pantau::base {
namespace {

void AppendPair(std::string* out, std::string_view name,
                std::string_view value) {
  PutLengthPrefixed(out, name);
  PutLengthPrefixed(out, value);
}

// Escapes as in a PromQL double-quoted string.
void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

// 0xff never occurs in UTF-8, so it separates pairs unambiguously in the
// subset hashes (the same trick Prometheus uses).
constexpr char kSep = '\xff';

}  // namespace

Labels::Iterator::Iterator(const char* pos, const char* end)
    : pos_(pos), end_(end) {
  Decode();
}

void Labels::Iterator::Decode() {
  if (pos_ == end_) return;
  uint64_t n;
  const char* p = DecodeVarint64(pos_, end_, &n);
  current_.name = std::string_view(p, n);
  p += n;
  p = DecodeVarint64(p, end_, &n);
  current_.value = std::string_view(p, n);
  next_ = p + n;
}

Labels::Iterator& Labels::Iterator::operator++() {
  pos_ = next_;
  Decode();
  return *this;
}

Labels::Iterator Labels::begin() const {
  return Iterator(data_.data(), data_.data() + data_.size());
}

Labels::Iterator Labels::end() const {
  const char* e = data_.data() + data_.size();
  return Iterator(e, e);
}

absl::StatusOr<Labels> Labels::FromPairs(std::vector<Label> pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  std::string data;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].name.empty()) {
      return absl::InvalidArgumentError("empty label name");
    }
    if (i > 0 && pairs[i].name == pairs[i - 1].name) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate label name \"", pairs[i].name, "\""));
    }
    if (pairs[i].value.empty()) continue;
    AppendPair(&data, pairs[i].name, pairs[i].value);
  }
  return Labels(std::move(data));
}

Labels Labels::Of(
    std::initializer_list<std::pair<std::string_view, std::string_view>>
        pairs) {
  std::vector<Label> v;
  v.reserve(pairs.size());
  for (const auto& [n, val] : pairs)
    v.push_back({std::string(n), std::string(val)});
  auto labels = FromPairs(std::move(v));
  PANTAU_CHECK(labels.ok()) << labels.status();
  return *std::move(labels);
}

absl::StatusOr<Labels> Labels::FromEncoded(std::string encoded) {
  ByteReader r(encoded);
  std::string_view prev_name;
  bool first = true;
  while (r.remaining() > 0) {
    std::string_view name, value;
    if (!r.ReadLengthPrefixed(&name) || !r.ReadLengthPrefixed(&value)) {
      return absl::DataLossError("truncated label set encoding");
    }
    if (name.empty() || value.empty()) {
      return absl::DataLossError("empty label name or value in encoding");
    }
    if (!first && name <= prev_name) {
      return absl::DataLossError("label set encoding not sorted and unique");
    }
    prev_name = name;
    first = false;
  }
  return Labels(std::move(encoded));
}

size_t Labels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string_view Labels::Get(std::string_view name) const {
  for (const LabelView& l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;
  }
  return {};
}

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

uint64_t Labels::Hash() const {
  return XXH3_64bits(data_.data(), data_.size());
}

uint64_t Labels::HashFor(const std::vector<std::string>& names) const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const LabelView& l : *this) {
    if (std::find(names.begin(), names.end(), l.name) == names.end()) continue;
    XXH3_64bits_update(&state, l.name.data(), l.name.size());
    XXH3_64bits_update(&state, &kSep, 1);
    XXH3_64bits_update(&state, l.value.data(), l.value.size());
    XXH3_64bits_update(&state, &kSep, 1);
  }
  return XXH3_64bits_digest(&state);
}

uint64_t Labels::HashWithout(const std::vector<std::string>& names) const {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (const LabelView& l : *this) {
    if (l.name == kMetricName) continue;
    if (std::find(names.begin(), names.end(), l.name) != names.end()) continue;
    XXH3_64bits_update(&state, l.name.data(), l.name.size());
    XXH3_64bits_update(&state, &kSep, 1);
    XXH3_64bits_update(&state, l.value.data(), l.value.size());
    XXH3_64bits_update(&state, &kSep, 1);
  }
  return XXH3_64bits_digest(&state);
}

std::string Labels::ToString() const {
  std::string out = "{";
  bool first = true;
  for (const LabelView& l : *this) {
    if (!first) out.append(", ");
    first = false;
    out.append(l.name);
    out.push_back('=');
    AppendQuoted(&out, l.value);
  }
  out.push_back('}');
  return out;
}

std::strong_ordering operator<=>(const Labels& a, const Labels& b) {
  auto ia = a.begin(), ea = a.end();
  auto ib = b.begin(), eb = b.end();
  for (; ia != ea && ib != eb; ++ia, ++ib) {
    if (auto c = ia->name.compare(ib->name); c != 0) {
      return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    if (auto c = ia->value.compare(ib->value); c != 0) {
      return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
    }
  }
  if (ia == ea && ib == eb) return std::strong_ordering::equal;
  return ia == ea ? std::strong_ordering::less : std::strong_ordering::greater;
}

LabelsBuilder::LabelsBuilder(const Labels& base) { Reset(base); }

void LabelsBuilder::Reset(const Labels& base) {
  pairs_.clear();
  for (const LabelView& l : base) {
    pairs_.push_back({std::string(l.name), std::string(l.value)});
  }
}

LabelsBuilder& LabelsBuilder::Set(std::string_view name,
                                  std::string_view value) {
  auto it = std::lower_bound(
      pairs_.begin(), pairs_.end(), name,
      [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != pairs_.end() && it->name == name) {
    if (value.empty()) {
      pairs_.erase(it);
    } else {
      it->value = std::string(value);
    }
  } else if (!value.empty()) {
    pairs_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  return Set(name, "");
}

LabelsBuilder& LabelsBuilder::Keep(const std::vector<std::string>& names) {
  std::erase_if(pairs_, [&](const Label& l) {
    return std::find(names.begin(), names.end(), l.name) == names.end();
  });
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  auto it = std::lower_bound(
      pairs_.begin(), pairs_.end(), name,
      [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != pairs_.end() && it->name == name) return it->value;
  return {};
}

Labels LabelsBuilder::Build() const {
  std::string data;
  for (const Label& l : pairs_) {
    if (l.name.empty()) continue;
    AppendPair(&data, l.name, l.value);
  }
  return Labels(std::move(data));
}

}  // namespace pantau::base
