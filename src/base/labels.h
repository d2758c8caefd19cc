// Labels: a sorted, immutable set of name="value" pairs. It is the key type
// of every signal (a metric series, a log stream, a span's resource).
//
// The pairs are stored in one contiguous string as
//   (uvarint name_len, name, uvarint value_len, value)*  sorted by name,
// so a Labels costs one allocation, copies with one memcpy, compares with
// one memcmp-like walk and hashes with one XXH3 pass. Hash() is stable
// across processes and machines, so it may be persisted.
//
// Thread safety: immutable after construction; safe to share.
#ifndef PANTAU_BASE_LABELS_H_
#define PANTAU_BASE_LABELS_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace pantau::base {

// The reserved label that holds a metric's name.
inline constexpr std::string_view kMetricName = "__name__";

// One pair, viewing storage owned elsewhere.
struct LabelView {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const LabelView&, const LabelView&) = default;
};

// One owning pair, for building.
struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

class Labels {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    using pointer = const LabelView*;
    using reference = const LabelView&;

    Iterator() = default;
    reference operator*() const { return current_; }
    pointer operator->() const { return &current_; }
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.pos_ == b.pos_;
    }

   private:
    friend class Labels;
    Iterator(const char* pos, const char* end);
    void Decode();
    const char* pos_ = nullptr;
    const char* next_ = nullptr;
    const char* end_ = nullptr;
    LabelView current_;
  };

  // The empty set.
  Labels() = default;

  // From pairs in any order. Pairs with an empty value are dropped (an
  // empty value means "no such label" in Prometheus and Loki). Fails on an
  // empty or repeated name.
  static absl::StatusOr<Labels> FromPairs(std::vector<Label> pairs);

  // Like FromPairs, for literals in code and tests; CHECK-fails on a
  // repeated name, so never use it on input.
  static Labels Of(
      std::initializer_list<std::pair<std::string_view, std::string_view>>
          pairs);

  // From the encoded form returned by data(); fails if it is malformed or
  // not sorted and unique (it may come from disk).
  static absl::StatusOr<Labels> FromEncoded(std::string encoded);

  Iterator begin() const;
  Iterator end() const;
  bool empty() const { return data_.empty(); }
  // Number of pairs; O(n).
  size_t size() const;

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;

  // Stable 64-bit hash of all pairs.
  uint64_t Hash() const;
  // Hash of only the pairs whose names are in (or not in) `names`, as
  // PromQL's on(...) / ignoring(...) vector matching needs. `names` need not
  // be sorted. HashWithout also ignores __name__.
  uint64_t HashFor(const std::vector<std::string>& names) const;
  uint64_t HashWithout(const std::vector<std::string>& names) const;

  // {a="b", c="d"}, values escaped as in PromQL string literals.
  std::string ToString() const;

  // The encoded bytes; stable, may be persisted.
  const std::string& data() const { return data_; }
  // Bytes owned by this object (for memory accounting).
  size_t ByteSize() const { return sizeof(*this) + data_.capacity(); }

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.data_ == b.data_;
  }
  // Order of Prometheus's labels.Compare: pair by pair, name then value;
  // a prefix sorts first.
  friend std::strong_ordering operator<=>(const Labels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const Labels& l) {
    return H::combine(std::move(h), l.data_);
  }

 private:
  friend class LabelsBuilder;
  explicit Labels(std::string data) : data_(std::move(data)) {}
  std::string data_;
};

// Edits a label set: start from a Labels (or empty), Set/Del, then Build().
// Setting an empty value deletes, as in Prometheus relabeling.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base);

  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  // Keeps only the named labels.
  LabelsBuilder& Keep(const std::vector<std::string>& names);
  std::string_view Get(std::string_view name) const;
  void Reset(const Labels& base);

  Labels Build() const;

 private:
  std::vector<Label> pairs_;  // sorted by name, unique
};

}  // namespace pantau::base

#endif  // PANTAU_BASE_LABELS_H_
