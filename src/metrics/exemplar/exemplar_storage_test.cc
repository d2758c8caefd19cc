#include "metrics/exemplar/exemplar_storage.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exemplar/exemplar_log.h"
#include "metrics/exemplar/tee_appendable.h"

namespace pantau::metrics::exemplar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

base::Labels L(std::initializer_list<std::pair<std::string, std::string>> l) {
  base::LabelsBuilder b;
  for (const auto& [n, v] : l) b.Set(n, v);
  return b.Build();
}

Exemplar Ex(std::string trace, double v, int64_t t) {
  Exemplar e;
  e.labels = L({{"trace_id", std::move(trace)}});
  e.value = v;
  e.t = t;
  return e;
}

std::vector<std::vector<Matcher>> Sets(std::string name) {
  return {{Matcher::Must(MatchType::kEqual, "__name__", name)}};
}

std::vector<int64_t> Times(const ExemplarSeries& s) {
  std::vector<int64_t> out;
  for (const Exemplar& e : s.exemplars) out.push_back(e.t);
  return out;
}

const base::Labels kA = L({{"__name__", "req_bucket"}, {"le", "0.1"}});
const base::Labels kB = L({{"__name__", "req_bucket"}, {"le", "1"}});
const base::Labels kC = L({{"__name__", "other_total"}});

TEST(ExemplarStorage, SelectsByMatchersAndTimeRange) {
  ExemplarStorage s(100);
  ASSERT_TRUE(s.Add(kA, Ex("a1", 0.05, 1000)).ok());
  ASSERT_TRUE(s.Add(kB, Ex("b1", 0.5, 1500)).ok());
  ASSERT_TRUE(s.Add(kA, Ex("a2", 0.07, 2000)).ok());
  ASSERT_TRUE(s.Add(kC, Ex("c1", 3, 2500)).ok());

  std::vector<ExemplarSeries> got = s.Select(0, 10000, Sets("req_bucket"));
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(got[0].series_labels, kA);  // sorted by labels
  EXPECT_THAT(Times(got[0]), ElementsAre(1000, 2000));
  EXPECT_EQ(got[0].exemplars[1].labels.Get("trace_id"), "a2");
  EXPECT_EQ(got[0].exemplars[1].value, 0.07);
  EXPECT_EQ(got[1].series_labels, kB);

  got = s.Select(1600, 2000, Sets("req_bucket"));
  ASSERT_THAT(got, SizeIs(1));  // kB's only exemplar is out of range
  EXPECT_THAT(Times(got[0]), ElementsAre(2000));

  EXPECT_THAT(s.Select(0, 10000, Sets("missing")), IsEmpty());
  // Matcher sets are alternatives.
  std::vector<std::vector<Matcher>> both = Sets("req_bucket");
  both.push_back(Sets("other_total")[0]);
  EXPECT_THAT(s.Select(0, 10000, both), SizeIs(3));
}

TEST(ExemplarStorage, RejectsOutOfOrderAndDuplicates) {
  ExemplarStorage s(10);
  ASSERT_TRUE(s.Add(kA, Ex("a", 1, 1000)).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(s.Add(kA, Ex("a", 1, 1000))));
  EXPECT_TRUE(absl::IsOutOfRange(s.Add(kA, Ex("b", 2, 1000))));
  EXPECT_TRUE(absl::IsOutOfRange(s.Add(kA, Ex("b", 2, 999))));
  // Another series has its own order.
  EXPECT_TRUE(s.Add(kB, Ex("b", 2, 5)).ok());
  ExemplarStats st = s.Stats();
  EXPECT_EQ(st.stored, 2);
  EXPECT_EQ(st.out_of_order, 2u);
}

TEST(ExemplarStorage, RejectsLabelSetsOver128Characters) {
  ExemplarStorage s(10);
  Exemplar ok = Ex(std::string(128 - 8, 'x'), 1, 1);  // "trace_id" is 8
  EXPECT_TRUE(s.Add(kA, ok).ok());
  // Characters, not bytes: 120 two-byte characters are still 120.
  std::string wide;
  for (int i = 0; i < 120; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(s.Add(kB, Ex(wide, 1, 1)).ok());
  absl::Status long_set = s.Add(kA, Ex(std::string(121, 'x'), 1, 2));
  EXPECT_TRUE(absl::IsInvalidArgument(long_set)) << long_set;
  EXPECT_THAT(std::string(long_set.message()), ::testing::HasSubstr("128"));
}

TEST(ExemplarStorage, OverwritesOldestWhenFull) {
  ExemplarStorage s(3);
  ASSERT_TRUE(s.Add(kA, Ex("1", 1, 1)).ok());
  ASSERT_TRUE(s.Add(kB, Ex("2", 1, 2)).ok());
  ASSERT_TRUE(s.Add(kA, Ex("3", 1, 3)).ok());
  ASSERT_TRUE(s.Add(kC, Ex("4", 1, 4)).ok());  // evicts A@1
  ASSERT_TRUE(s.Add(kC, Ex("5", 1, 5)).ok());  // evicts B@2: B is gone
  std::vector<std::vector<Matcher>> all = {
      {Matcher::Must(MatchType::kRegexMatch, "__name__", ".+")}};
  std::vector<ExemplarSeries> got = s.Select(0, 100, all);
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(got[0].series_labels, kC);
  EXPECT_THAT(Times(got[0]), ElementsAre(4, 5));
  EXPECT_EQ(got[1].series_labels, kA);
  EXPECT_THAT(Times(got[1]), ElementsAre(3));
  EXPECT_EQ(s.Stats().series, 2);
  EXPECT_EQ(s.Stats().stored, 3);
  // A series whose exemplars were all evicted starts over: any time goes.
  EXPECT_TRUE(s.Add(kB, Ex("6", 1, 1)).ok());
}

TEST(ExemplarStorage, ResizeKeepsNewest) {
  ExemplarStorage s(10);
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(s.Add(kA, Ex("t", i, i)).ok());
  ASSERT_TRUE(s.Resize(2).ok());
  std::vector<ExemplarSeries> got = s.Select(0, 100, Sets("req_bucket"));
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_THAT(Times(got[0]), ElementsAre(5, 6));
  ASSERT_TRUE(s.Resize(0).ok());
  EXPECT_THAT(s.Select(0, 100, Sets("req_bucket")), IsEmpty());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.Add(kA, Ex("t", 9, 9))));
}

class ExemplarLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/exemplar_log_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(ExemplarLogTest, SurvivesRestart) {
  {
    auto s = ExemplarStorage::Open(dir_, 100);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE((*s)->Add(kA, Ex("a1", 0.25, 1000)).ok());
    ASSERT_TRUE((*s)->Add(kB, Ex("b1", 0.5, 1500)).ok());
    // No clean shutdown: the storage is simply dropped.
  }
  auto s = ExemplarStorage::Open(dir_, 100);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<ExemplarSeries> got = (*s)->Select(0, 10000, Sets("req_bucket"));
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(got[0].exemplars[0].labels.Get("trace_id"), "a1");
  EXPECT_EQ(got[0].exemplars[0].value, 0.25);
  // Order checks carry over the restart.
  EXPECT_TRUE(absl::IsOutOfRange((*s)->Add(kA, Ex("old", 1, 900))));
}

TEST_F(ExemplarLogTest, CutsATornTail) {
  {
    auto s = ExemplarStorage::Open(dir_, 100);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Add(kA, Ex("a1", 1, 1000)).ok());
    ASSERT_TRUE((*s)->Add(kA, Ex("a2", 2, 2000)).ok());
  }
  const std::string path = dir_ + "/" + kLogFileName;
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 3);  // tear the last record
  {
    auto s = ExemplarStorage::Open(dir_, 100);
    ASSERT_TRUE(s.ok()) << s.status();
    std::vector<ExemplarSeries> got =
        (*s)->Select(0, 10000, Sets("req_bucket"));
    ASSERT_THAT(got, SizeIs(1));
    EXPECT_THAT(Times(got[0]), ElementsAre(1000));
    // Appends after the cut land on a clean record boundary.
    ASSERT_TRUE((*s)->Add(kA, Ex("a3", 3, 3000)).ok());
  }
  auto s = ExemplarStorage::Open(dir_, 100);
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(Times((*s)->Select(0, 10000, Sets("req_bucket"))[0]),
              ElementsAre(1000, 3000));
}

TEST_F(ExemplarLogTest, RefusesAForeignFile) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/" + kLogFileName) << "not an exemplar log";
  auto s = ExemplarStorage::Open(dir_, 100);
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
}

TEST_F(ExemplarLogTest, StaysBoundedByRewriting) {
  {
    auto s = ExemplarStorage::Open(dir_, 10);
    ASSERT_TRUE(s.ok());
    for (int i = 1; i <= 5000; ++i) {
      ASSERT_TRUE((*s)->Add(kA, Ex("t", i, i)).ok());
    }
  }
  const auto size = std::filesystem::file_size(dir_ + "/" + kLogFileName);
  // At most 2 * capacity + 1024 records of ~70 bytes, far below 5000.
  EXPECT_LT(size, 1100u * 80);
  auto s = ExemplarStorage::Open(dir_, 10);
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(
      Times((*s)->Select(0, 1 << 30, Sets("req_bucket"))[0]),
      ElementsAre(4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000));
}

// Records samples and commits, or fails the commit when told to.
class FakeAppendable : public Appendable {
 public:
  bool fail_commit = false;
  int committed = 0;
  std::unique_ptr<Appender> NewAppender() override {
    class A : public Appender {
     public:
      explicit A(FakeAppendable* p) : p_(p) {}
      absl::StatusOr<SeriesRef> Append(SeriesRef, const base::Labels&, int64_t,
                                       double) override {
        ++n_;
        return 1;
      }
      absl::Status AppendExemplar(SeriesRef, const base::Labels&,
                                  const Exemplar&) override {
        return absl::UnimplementedError("not here");
      }
      absl::Status Commit() override {
        if (p_->fail_commit) return absl::UnavailableError("disk full");
        p_->committed += n_;
        return absl::OkStatus();
      }
      absl::Status Rollback() override { return absl::OkStatus(); }

     private:
      FakeAppendable* p_;
      int n_ = 0;
    };
    return std::make_unique<A>(this);
  }
};

TEST(TeeAppendable, StoresExemplarsOnlyWhenSamplesCommit) {
  FakeAppendable samples;
  ExemplarStorage exemplars(10);
  TeeAppendable tee(&samples, &exemplars);

  auto app = tee.NewAppender();
  ASSERT_TRUE(app->Append(0, kA, 1000, 1).ok());
  ASSERT_TRUE(app->AppendExemplar(1, kA, Ex("x", 1, 1000)).ok());
  EXPECT_THAT(exemplars.Select(0, 10000, Sets("req_bucket")), IsEmpty());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(samples.committed, 1);
  EXPECT_THAT(exemplars.Select(0, 10000, Sets("req_bucket")), SizeIs(1));

  app = tee.NewAppender();
  ASSERT_TRUE(app->AppendExemplar(1, kB, Ex("y", 1, 1000)).ok());
  ASSERT_TRUE(app->Rollback().ok());
  samples.fail_commit = true;
  app = tee.NewAppender();
  ASSERT_TRUE(app->AppendExemplar(1, kB, Ex("z", 1, 1000)).ok());
  EXPECT_FALSE(app->Commit().ok());
  EXPECT_THAT(exemplars.Select(0, 10000, Sets("req_bucket")), SizeIs(1));

  EXPECT_TRUE(absl::IsInvalidArgument(
      tee.NewAppender()->AppendExemplar(1, base::Labels(), Ex("q", 1, 1))));
}

}  // namespace
}  // namespace pantau::metrics::exemplar
