#include "pantau/sdk/resource.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "pantau/sdk/semconv.h"

namespace pantau::sdk {
namespace {

TEST(Resource, DefaultsAndOverrides) {
  unsetenv("OTEL_SERVICE_NAME");
  unsetenv("OTEL_RESOURCE_ATTRIBUTES");
  Resource r = Resource::Create();
  EXPECT_EQ(r.GetString("service.name").substr(0, 16), "unknown_service:");
  EXPECT_EQ(r.GetString("telemetry.sdk.name"), "pantau");
  EXPECT_EQ(r.GetString("telemetry.sdk.language"), "cpp");
  EXPECT_FALSE(r.GetString("host.name").empty());
  EXPECT_NE(FindAttribute(r.attributes(), "process.pid"), nullptr);

  setenv("OTEL_RESOURCE_ATTRIBUTES",
         "service.name=fromattrs,deployment.environment=prod,team=a%20b,"
         "broken,=x,bad=%zz",
         1);
  setenv("OTEL_SERVICE_NAME", "fromenv", 1);
  r = Resource::Create({{semconv::kServiceVersion, std::string("1.0")}});
  EXPECT_EQ(r.GetString("service.name"), "fromenv");
  EXPECT_EQ(r.GetString("deployment.environment"), "prod");
  EXPECT_EQ(r.GetString("team"), "a b");
  EXPECT_EQ(r.GetString("service.version"), "1.0");
  EXPECT_EQ(FindAttribute(r.attributes(), "bad"), nullptr);
  r = Resource::Create({{semconv::kServiceName, std::string("code")}});
  EXPECT_EQ(r.GetString("service.name"), "code");
  unsetenv("OTEL_SERVICE_NAME");
  unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

TEST(Attributes, ValuesToString) {
  EXPECT_EQ(AttributeValueToString(AttributeValue(int64_t{-3})), "-3");
  EXPECT_EQ(AttributeValueToString(AttributeValue(0.25)), "0.25");
  EXPECT_EQ(AttributeValueToString(AttributeValue(true)), "true");
  EXPECT_EQ(AttributeValueToString(
                AttributeValue(std::vector<std::string>{"a", "b"})),
            "[a,b]");
}

TEST(Attributes, LiteralKeysAreNotCopied) {
  static constexpr char kKey[] = "k";
  AttributeKey literal(kKey);
  EXPECT_EQ(literal.view().data(), kKey);
  std::string dynamic = "k";
  AttributeKey copied(dynamic);
  EXPECT_NE(copied.view().data(), dynamic.data());
  EXPECT_EQ(copied.view(), "k");
}

}  // namespace
}  // namespace pantau::sdk
