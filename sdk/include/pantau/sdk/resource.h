// Resource: the attributes that describe the entity producing telemetry
// (service.name, service.version, deployment.environment, host.name, ...),
// attached to every exported batch of spans, metrics and logs.
//
// Thread safety: immutable after construction.
#ifndef PANTAU_SDK_RESOURCE_H_
#define PANTAU_SDK_RESOURCE_H_

#include <string>
#include <string_view>

#include "pantau/sdk/attributes.h"

namespace pantau::sdk {

inline constexpr std::string_view kSdkVersion = "0.1.0";

class Resource {
 public:
  Resource() = default;
  explicit Resource(Attributes attributes);

  // The SDK's defaults merged with, in increasing priority:
  // OTEL_RESOURCE_ATTRIBUTES (k=v,k2=v2, values percent-decoded; malformed
  // pairs are skipped), OTEL_SERVICE_NAME, then `attributes`. Always has
  // service.name (default "unknown_service:<executable>"), host.name,
  // process.pid and telemetry.sdk.{name,language,version}.
  static Resource Create(Attributes attributes = {});

  // The attributes of `this` overridden by those of `other`.
  Resource Merge(const Resource& other) const;

  const Attributes& attributes() const { return attributes_; }
  // The string value of `key`, or "" when absent or not a string.
  std::string_view GetString(std::string_view key) const;

 private:
  Attributes attributes_;
};

// Parses OTEL_RESOURCE_ATTRIBUTES syntax; exposed for tests.
Attributes ParseResourceAttributes(std::string_view text);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_RESOURCE_H_
