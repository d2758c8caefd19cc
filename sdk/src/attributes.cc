#include "pantau/sdk/attributes.h"

#include <charconv>

namespace pantau::sdk {
namespace {

void AppendDouble(double v, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, end);
}

struct ToText {
  std::string* out;
  void operator()(bool v) const { out->append(v ? "true" : "false"); }
  void operator()(int64_t v) const { out->append(std::to_string(v)); }
  void operator()(double v) const { AppendDouble(v, out); }
  void operator()(const std::string& v) const { out->append(v); }
  template <typename T>
  void operator()(const std::vector<T>& v) const {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out->push_back(',');
      (*this)(static_cast<T>(v[i]));
    }
    out->push_back(']');
  }
};

}  // namespace

void SetAttribute(Attributes* attrs, AttributeKey key, AttributeValue value) {
  std::string_view name = key.view();
  for (Attribute& a : *attrs) {
    if (a.name() == name) {
      a.value = std::move(value);
      return;
    }
  }
  attrs->push_back({std::move(key), std::move(value)});
}

const AttributeValue* FindAttribute(const Attributes& attrs,
                                    std::string_view key) {
  for (const Attribute& a : attrs) {
    if (a.name() == key) return &a.value;
  }
  return nullptr;
}

std::string AttributeValueToString(const AttributeValue& v) {
  std::string out;
  std::visit(ToText{&out}, v);
  return out;
}

}  // namespace pantau::sdk
