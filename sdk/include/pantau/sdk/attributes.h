// Attributes: typed key/value pairs on spans, events, links, log records
// and resources (the OpenTelemetry attribute model: string, bool, int64,
// double, and arrays of those).
//
// A key given as a string literal (or a `constexpr char[]` such as the
// semconv names in semconv.h) is kept as a pointer, not copied: that keeps
// span attributes allocation-free on the hot path. Any other key is copied.
// Caution: a local `char buf[N]` also binds as a literal; pass
// std::string(buf) for those.
//
// Thread safety: values; no shared state.
#ifndef PANTAU_SDK_ATTRIBUTES_H_
#define PANTAU_SDK_ATTRIBUTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace pantau::sdk {

using AttributeValue =
    std::variant<bool, int64_t, double, std::string, std::vector<bool>,
                 std::vector<int64_t>, std::vector<double>,
                 std::vector<std::string>>;

// An attribute key: borrowed for arrays with static storage (literals),
// owned otherwise.
class AttributeKey {
 public:
  AttributeKey() = default;
  // Precondition: `literal` has static storage duration (a string literal
  // or a namespace-scope constexpr array). N includes the terminating NUL.
  template <size_t N>
  AttributeKey(const char (&literal)[N])  // NOLINT: implicit on purpose
      : ptr_(literal), size_(N - 1) {}
  AttributeKey(std::string key)  // NOLINT
      : owned_(std::move(key)) {}
  AttributeKey(std::string_view key)  // NOLINT
      : owned_(key) {}
  // A plain pointer may point anywhere, so it is copied. (A template so
  // that a literal prefers the array overload above.)
  template <typename P, std::enable_if_t<std::is_same_v<P, const char*> ||
                                             std::is_same_v<P, char*>,
                                         int> = 0>
  AttributeKey(P key)  // NOLINT
      : owned_(key) {}

  // Copies and moves touch the owned string only when there is one: a
  // literal key is two words (keys are moved into every span attribute).
  AttributeKey(const AttributeKey& other)
      : ptr_(other.ptr_),
        size_(other.size_),
        owned_(ptr_ == nullptr ? other.owned_ : std::string()) {}
  AttributeKey(AttributeKey&& other) noexcept
      : ptr_(other.ptr_),
        size_(other.size_),
        owned_(ptr_ == nullptr ? std::move(other.owned_) : std::string()) {}
  AttributeKey& operator=(const AttributeKey& other) {
    if (this != &other) {
      ptr_ = other.ptr_;
      size_ = other.size_;
      if (ptr_ == nullptr) owned_ = other.owned_;
    }
    return *this;
  }
  AttributeKey& operator=(AttributeKey&& other) noexcept {
    ptr_ = other.ptr_;
    size_ = other.size_;
    if (ptr_ == nullptr) owned_ = std::move(other.owned_);
    return *this;
  }

  std::string_view view() const {
    return ptr_ != nullptr ? std::string_view(ptr_, size_)
                           : std::string_view(owned_);
  }

 private:
  const char* ptr_ = nullptr;
  size_t size_ = 0;
  std::string owned_;
};

struct Attribute {
  AttributeKey key;
  AttributeValue value;
  std::string_view name() const { return key.view(); }
};

using Attributes = std::vector<Attribute>;

// Builds an AttributeValue from natural C++ types: any integer becomes
// int64, floats become double, char pointers and views become strings.
template <typename T>
AttributeValue ToAttributeValue(T&& v) {
  using D = std::decay_t<T>;
  if constexpr (std::is_same_v<D, bool>) {
    return v;
  } else if constexpr (std::is_integral_v<D>) {
    return static_cast<int64_t>(v);
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<double>(v);
  } else if constexpr (std::is_same_v<D, std::string_view> ||
                       std::is_same_v<D, const char*> ||
                       std::is_same_v<D, char*>) {
    return std::string(v);
  } else {
    return AttributeValue(std::forward<T>(v));
  }
}

namespace internal {

// `slot = ToAttributeValue(v)`, constructing strings and numbers in place.
template <typename T>
void AssignAttributeValue(AttributeValue& slot, T&& v) {
  using D = std::decay_t<T>;
  if constexpr (std::is_same_v<D, bool>) {
    slot.emplace<bool>(v);
  } else if constexpr (std::is_integral_v<D>) {
    slot.emplace<int64_t>(static_cast<int64_t>(v));
  } else if constexpr (std::is_floating_point_v<D>) {
    slot.emplace<double>(static_cast<double>(v));
  } else if constexpr (std::is_same_v<D, std::string_view>) {
    slot.emplace<std::string>(v.data(), v.size());
  } else if constexpr (std::is_same_v<D, const char*> ||
                       std::is_same_v<D, char*>) {
    slot.emplace<std::string>(v);
  } else if constexpr (std::is_same_v<D, std::string>) {
    slot.emplace<std::string>(std::forward<T>(v));
  } else {
    slot = ToAttributeValue(std::forward<T>(v));
  }
}

// ToAttributeValue(v) as a prvalue made by a conversion, so that an
// AttributeValue member initialised from it is constructed in place (no
// variant move). Holds a reference: use within the full expression.
template <typename T>
struct LazyAttributeValue {
  T v;
  operator AttributeValue() const {  // NOLINT: implicit on purpose
    using D = std::decay_t<T>;
    if constexpr (std::is_same_v<D, bool>) {
      return AttributeValue(std::in_place_type<bool>, v);
    } else if constexpr (std::is_integral_v<D>) {
      return AttributeValue(std::in_place_type<int64_t>,
                            static_cast<int64_t>(v));
    } else if constexpr (std::is_floating_point_v<D>) {
      return AttributeValue(std::in_place_type<double>, static_cast<double>(v));
    } else if constexpr (std::is_same_v<D, std::string_view>) {
      return AttributeValue(std::in_place_type<std::string>, v.data(),
                            v.size());
    } else if constexpr (std::is_same_v<D, const char*> ||
                         std::is_same_v<D, char*>) {
      return AttributeValue(std::in_place_type<std::string>, v);
    } else if constexpr (std::is_same_v<D, std::string>) {
      return AttributeValue(std::in_place_type<std::string>,
                            std::forward<T>(v));
    } else {
      return ToAttributeValue(std::forward<T>(v));
    }
  }
};

}  // namespace internal

// Replaces the value of `key` in `attrs` or appends it.
void SetAttribute(Attributes* attrs, AttributeKey key, AttributeValue value);
// The value of `key`, or nullptr.
const AttributeValue* FindAttribute(const Attributes& attrs,
                                    std::string_view key);
// Text for logs and debugging: strings as-is, numbers in shortest form,
// arrays as [a,b].
std::string AttributeValueToString(const AttributeValue& v);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_ATTRIBUTES_H_
