#include "metrics/scrape/relabel.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/scrape/md5.h"

namespace pantau::metrics::scrape {
namespace {

using base::Labels;
using ::testing::HasSubstr;

std::optional<Labels> Apply(const Labels& in, std::vector<RelabelConfig> cfgs) {
  auto r = Relabeler::Create(std::move(cfgs));
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return std::nullopt;
  return r->Process(in);
}

RelabelConfig Cfg(RelabelAction a) {
  RelabelConfig c;
  c.action = a;
  return c;
}

TEST(Md5, KnownVectors) {
  auto hex = [](std::string_view s) {
    std::string out;
    for (uint8_t b : Md5(s)) {
      static const char* d = "0123456789abcdef";
      out += d[b >> 4];
      out += d[b & 15];
    }
    return out;
  };
  EXPECT_EQ(hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex("12345678901234567890123456789012345678901234567890123456789"
                "012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Relabel, ReplaceWithDefaultsCopiesAndRenames) {
  Labels in = Labels::Of({{"a", "foo"}, {"b", "bar"}});
  RelabelConfig c = Cfg(RelabelAction::kReplace);
  c.source_labels = {"a", "b"};
  c.regex = "f(.*);(.*)";
  c.target_label = "c";
  c.replacement = "${1}x$2$$";
  auto out = Apply(in, {c});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, Labels::Of({{"a", "foo"},
                              {"b", "bar"},
                              {"c",
                               "oox"
                               "bar$"}}));
}

TEST(Relabel, ReplaceNoMatchOrEmptyResult) {
  Labels in = Labels::Of({{"a", "foo"}, {"c", "old"}});
  RelabelConfig c = Cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "bar";
  c.target_label = "c";
  EXPECT_EQ(*Apply(in, {c}), in);  // anchored: "foo" != "bar"
  c.regex = "f";
  EXPECT_EQ(*Apply(in, {c}), in);  // anchored at both ends
  c.regex = "(x?)foo";
  EXPECT_EQ(*Apply(in, {c}), Labels::Of({{"a", "foo"}}));  // empty deletes
}

TEST(Relabel, ReplaceTargetFromGroupsAndNamedGroups) {
  Labels in = Labels::Of({{"a", "some-name-value"}});
  RelabelConfig c = Cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "some-(?P<n>[^-]+)-(.+)";
  c.target_label = "${n}";
  c.replacement = "$2";
  EXPECT_EQ(*Apply(in, {c}),
            Labels::Of({{"a", "some-name-value"}, {"name", "value"}}));
  // $1x is the (missing) group named "1x": expands to nothing.
  c.target_label = "t";
  c.replacement = "$1x";
  EXPECT_EQ(*Apply(in, {c}), in);
  // An invalid target after expansion leaves the set alone.
  c.target_label = "${2}";
  EXPECT_EQ(*Apply(in, {c}), in);
}

TEST(Relabel, KeepDropAndEqualActions) {
  Labels in = Labels::Of({{"a", "foo"}, {"b", "foo"}});
  RelabelConfig keep = Cfg(RelabelAction::kKeep);
  keep.source_labels = {"a"};
  keep.regex = "f.*";
  EXPECT_TRUE(Apply(in, {keep}));
  keep.regex = "b.*";
  EXPECT_FALSE(Apply(in, {keep}));
  RelabelConfig drop = Cfg(RelabelAction::kDrop);
  drop.source_labels = {"a"};
  drop.regex = "foo";
  EXPECT_FALSE(Apply(in, {drop}));
  // Missing source labels join as empty strings.
  drop.source_labels = {"missing"};
  drop.regex = "";
  EXPECT_FALSE(Apply(in, {drop}));

  RelabelConfig ke = Cfg(RelabelAction::kKeepEqual);
  ke.source_labels = {"a"};
  ke.target_label = "b";
  EXPECT_TRUE(Apply(in, {ke}));
  RelabelConfig de = ke;
  de.action = RelabelAction::kDropEqual;
  EXPECT_FALSE(Apply(in, {de}));
  ke.target_label = "zzz";
  EXPECT_FALSE(Apply(in, {ke}));
}

TEST(Relabel, HashModMatchesPrometheus) {
  // Prometheus's relabel_test.go: c="baz" modulo 1000 gives "976".
  Labels in = Labels::Of({{"a", "foo"}, {"b", "bar"}, {"c", "baz"}});
  RelabelConfig c = Cfg(RelabelAction::kHashMod);
  c.source_labels = {"c"};
  c.target_label = "d";
  c.modulus = 1000;
  EXPECT_EQ(Apply(in, {c})->Get("d"), "976");
}

TEST(Relabel, LabelMapDropKeepCase) {
  Labels in = Labels::Of({{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}});
  RelabelConfig m = Cfg(RelabelAction::kLabelMap);
  m.regex = "(b.*)";
  m.replacement = "bar_${1}";
  EXPECT_EQ(*Apply(in, {m}), Labels::Of({{"a", "foo"},
                                         {"b1", "bar"},
                                         {"b2", "baz"},
                                         {"bar_b1", "bar"},
                                         {"bar_b2", "baz"}}));
  RelabelConfig d = Cfg(RelabelAction::kLabelDrop);
  d.regex = "b.*";
  EXPECT_EQ(*Apply(in, {d}), Labels::Of({{"a", "foo"}}));
  RelabelConfig k = Cfg(RelabelAction::kLabelKeep);
  k.regex = "b.*";
  EXPECT_EQ(*Apply(in, {k}), Labels::Of({{"b1", "bar"}, {"b2", "baz"}}));

  RelabelConfig up = Cfg(RelabelAction::kUppercase);
  up.source_labels = {"a", "b1"};
  up.target_label = "u";
  EXPECT_EQ(Apply(in, {up})->Get("u"), "FOO;BAR");
  RelabelConfig lo = Cfg(RelabelAction::kLowercase);
  lo.source_labels = {"u"};
  lo.target_label = "l";
  EXPECT_EQ(Apply(in, {up, lo})->Get("l"), "foo;bar");
}

TEST(Relabel, ValidationMatchesPrometheusMessages) {
  struct Case {
    RelabelConfig c;
    const char* error;
  };
  std::vector<Case> cases;
  RelabelConfig c = Cfg(RelabelAction::kReplace);
  cases.push_back({c, "requires 'target_label' value"});
  c.target_label = "0bad";
  cases.push_back({c, "is invalid 'target_label' for replace action"});
  c = Cfg(RelabelAction::kHashMod);
  c.target_label = "x";
  cases.push_back({c, "requires non-zero modulus"});
  c = Cfg(RelabelAction::kLowercase);
  c.target_label = "x";
  c.replacement = "y";
  cases.push_back({c, "'replacement' can not be set for lowercase action"});
  c = Cfg(RelabelAction::kKeepEqual);
  c.target_label = "x";
  c.regex = "a";
  cases.push_back({c, "keepequal action requires only 'source_labels'"});
  c = Cfg(RelabelAction::kLabelDrop);
  c.source_labels = {"a"};
  cases.push_back({c, "labeldrop action requires only 'regex'"});
  c = Cfg(RelabelAction::kKeep);
  c.regex = "(";
  cases.push_back({c, "invalid regex"});
  for (const Case& k : cases) {
    absl::Status s = ValidateRelabelConfig(k.c);
    EXPECT_THAT(std::string(s.message()), HasSubstr(k.error));
  }
}

TEST(Relabel, ParseActionNames) {
  EXPECT_EQ(ParseRelabelAction("HashMod"), RelabelAction::kHashMod);
  EXPECT_EQ(ParseRelabelAction("dropequal"), RelabelAction::kDropEqual);
  EXPECT_FALSE(ParseRelabelAction("explode"));
}

}  // namespace
}  // namespace pantau::metrics::scrape
