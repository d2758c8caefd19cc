#include "base/labels.h"

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(Labels, SortsPairsAndLooksThemUp) {
  auto l = Labels::FromPairs({{"job", "api"}, {"__name__", "up"}, {"a", "1"}});
  ASSERT_TRUE(l.ok());
  std::vector<std::string> names;
  for (const LabelView& p : *l) names.emplace_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "a", "job"}));
  EXPECT_EQ(l->Get("job"), "api");
  EXPECT_EQ(l->Get("missing"), "");
  EXPECT_TRUE(l->Has("a"));
  EXPECT_EQ(l->size(), 3u);
}

TEST(Labels, RejectsDuplicateAndEmptyNames) {
  auto dup = Labels::FromPairs({{"a", "1"}, {"a", "2"}});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dup.status().message().find("duplicate label name"),
            std::string::npos);
  EXPECT_FALSE(Labels::FromPairs({{"", "x"}}).ok());
}

TEST(Labels, EmptyValueMeansAbsent) {
  auto l = Labels::FromPairs({{"a", ""}, {"b", "2"}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, Labels::Of({{"b", "2"}}));
}

TEST(Labels, EqualityHashAndOrdering) {
  Labels a = Labels::Of({{"a", "1"}, {"b", "2"}});
  Labels b = Labels::Of({{"b", "2"}, {"a", "1"}});
  Labels c = Labels::Of({{"a", "1"}, {"b", "3"}});
  Labels prefix = Labels::Of({{"a", "1"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  EXPECT_NE(a.Hash(), c.Hash());
  EXPECT_LT(a, c);
  EXPECT_LT(prefix, a);
  // Name comparison comes before value comparison.
  EXPECT_LT(Labels::Of({{"a", "9"}}), Labels::Of({{"b", "0"}}));
  absl::flat_hash_set<Labels> set = {a, b, c};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Labels, HashIsStableAcrossRuns) {
  // Persisted hashes must not change between builds or processes.
  EXPECT_EQ(Labels::Of({{"a", "1"}}).Hash(), Labels::Of({{"a", "1"}}).Hash());
  EXPECT_EQ(Labels().Hash(), Labels().Hash());
}

TEST(Labels, SubsetHashesForVectorMatching) {
  Labels x = Labels::Of({{"__name__", "m1"}, {"job", "a"}, {"instance", "i"}});
  Labels y = Labels::Of({{"__name__", "m2"}, {"job", "a"}, {"instance", "j"}});
  EXPECT_EQ(x.HashFor({"job"}), y.HashFor({"job"}));
  EXPECT_NE(x.HashFor({"job", "instance"}), y.HashFor({"job", "instance"}));
  EXPECT_EQ(x.HashWithout({"instance"}), y.HashWithout({"instance"}));
  EXPECT_NE(x.HashWithout({}), y.HashWithout({}));
}

TEST(Labels, ToStringEscapes) {
  EXPECT_EQ(Labels::Of({{"a", "x\"y\\z\n"}, {"b", "2"}}).ToString(),
            R"({a="x\"y\\z\n", b="2"})");
  EXPECT_EQ(Labels().ToString(), "{}");
}

TEST(Labels, EncodedRoundTripAndCorruption) {
  Labels l = Labels::Of({{"a", "1"}, {"b", "2"}});
  auto back = Labels::FromEncoded(l.data());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, l);
  std::string truncated = l.data().substr(0, l.data().size() - 1);
  EXPECT_EQ(Labels::FromEncoded(truncated).status().code(),
            absl::StatusCode::kDataLoss);
  // Out of order pairs are rejected.
  Labels b = Labels::Of({{"b", "2"}});
  Labels a = Labels::Of({{"a", "1"}});
  EXPECT_FALSE(Labels::FromEncoded(b.data() + a.data()).ok());
}

TEST(LabelsBuilder, SetDelKeep) {
  Labels base = Labels::Of({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  LabelsBuilder b(base);
  b.Set("d", "4").Set("a", "10").Del("b");
  EXPECT_EQ(b.Build(), Labels::Of({{"a", "10"}, {"c", "3"}, {"d", "4"}}));
  b.Set("c", "");  // empty value deletes
  EXPECT_EQ(b.Get("c"), "");
  b.Keep({"a"});
  EXPECT_EQ(b.Build(), Labels::Of({{"a", "10"}}));
}

}  // namespace
}  // namespace pantau::base
