// Durability: WAL replay after clean and unclean stops, torn and corrupt
// tails, failed fsyncs, checkpoints.
#include "metrics/tsdb/wal.h"

#include "base/env.h"
#include "base/log.h"
#include "gtest/gtest.h"
#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/records.h"
#include "metrics/tsdb/test_util.h"

namespace pantau::metrics::tsdb {
namespace {

using base::Labels;
using testing::Eq;
using testing::Query;

class WalTest : public ::testing::Test {
 protected:
  void Open(Options o = {}) {
    o.dir = "/db";
    o.env = &fault_;
    o.maintenance_interval = absl::ZeroDuration();
    o.wal.segment_size = segment_size_;
    o.snapshot_on_close = snapshot_;
    auto db = DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  // Appends n samples to each of `series` series; returns how many commits
  // were acknowledged.
  int Write(int n, int series = 3, int64_t t0 = 0) {
    int acked = 0;
    for (int i = 0; i < n; ++i) {
      auto app = db_->NewAppender();
      for (int s = 0; s < series; ++s) {
        auto r = app->Append(
            0, Labels::Of({{"__name__", "m"}, {"s", std::to_string(s)}}),
            t0 + i * 1000, i);
        EXPECT_TRUE(r.ok()) << r.status();
      }
      if (app->Commit().ok()) ++acked;
    }
    return acked;
  }
  void Crash() {
    db_->CrashForTesting();
    db_.reset();
    ASSERT_TRUE(fault_.DropUnsyncedData().ok());
  }
  size_t SamplesOf(const std::string& s) {
    auto got = Query(*db_, {Eq("__name__", "m"), Eq("s", s)});
    return got.empty() ? 0 : got.begin()->second.size();
  }
  std::string LastSegmentPath() {
    auto segs = ListSegments(mem_.get(), "/db/wal");
    EXPECT_TRUE(segs.ok() && !segs->empty());
    return "/db/wal/" + SegmentName(segs->back());
  }

  std::unique_ptr<base::Env> mem_ = base::NewMemEnv();
  base::FaultInjectionEnv fault_{mem_.get()};
  std::unique_ptr<DB> db_;
  size_t segment_size_ = 4096;
  bool snapshot_ = true;
};

TEST_F(WalTest, ReplayAfterCleanCloseUsesTheSnapshot) {
  Open();
  Write(500);
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  auto names = mem_->GetChildren("/db/wal");
  ASSERT_TRUE(names.ok());
  bool have_checkpoint = false;
  for (auto& n : *names) have_checkpoint |= n.starts_with("checkpoint.");
  EXPECT_TRUE(have_checkpoint);
  Open();
  for (int s = 0; s < 3; ++s) EXPECT_EQ(SamplesOf(std::to_string(s)), 500u);
  // And it keeps going: new samples after the restart.
  Write(10, 3, 500 * 1000);
  EXPECT_EQ(SamplesOf("0"), 510u);
}

TEST_F(WalTest, ReplayAfterCrashKeepsEveryAcknowledgedSample) {
  snapshot_ = false;
  Open();
  ASSERT_EQ(Write(300), 300);
  Crash();
  Open();
  for (int s = 0; s < 3; ++s) EXPECT_EQ(SamplesOf(std::to_string(s)), 300u);
  Write(5, 3, 300 * 1000);
  Crash();
  Open();
  EXPECT_EQ(SamplesOf("2"), 305u);
}

TEST_F(WalTest, TornTailIsCutWithALogLine) {
  snapshot_ = false;
  segment_size_ = 1 << 20;
  Open();
  Write(100);
  Crash();
  const std::string seg = LastSegmentPath();
  const uint64_t good = *mem_->GetFileSize(seg);
  {
    // Half a record: a header promising more bytes than follow.
    auto f = mem_->NewAppendableFile(seg);
    ASSERT_TRUE(f.ok());
    std::string rec;
    AppendRecord(&rec, WalRecordType::kSamples,
                 EncodeSamples({{1, 200000, 1.0}}));
    ASSERT_TRUE((*f)->Append(rec.substr(0, rec.size() - 3)).ok());
  }
  std::vector<std::string> lines;
  base::SetLogSink([&](std::string_view l) { lines.emplace_back(l); });
  Open();
  base::SetLogSink(nullptr);
  EXPECT_EQ(SamplesOf("0"), 100u);
  EXPECT_EQ(*mem_->GetFileSize(seg), good);
  bool logged = false;
  for (auto& l : lines)
    logged |= l.find("WAL segment truncated") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_EQ(db_->GetStats().wal_corruptions, 1u);
}

TEST_F(WalTest, CorruptRecordTruncatesTheRestOfItsSegment) {
  snapshot_ = false;
  segment_size_ = 1 << 20;
  Open();
  Write(100);
  Crash();
  const std::string seg = LastSegmentPath();
  std::string data = *mem_->ReadFileToString(seg);
  // Flip one payload byte in the middle of the segment.
  data[data.size() / 2] ^= 0x5a;
  {
    auto f = mem_->NewWritableFile(seg);
    ASSERT_TRUE((*f)->Append(data).ok());
  }
  Open();
  const size_t kept = SamplesOf("0");
  EXPECT_GT(kept, 10u);
  EXPECT_LT(kept, 100u);
  // Writing on after the repair works and survives another restart.
  Write(10, 3, 1000000);
  Crash();
  Open();
  EXPECT_EQ(SamplesOf("0"), kept + 10);
}

TEST_F(WalTest, GarbageSegmentsNeverCrashReplay) {
  snapshot_ = false;
  Open();
  Write(20);
  Crash();
  for (std::string junk : {std::string(3, '\0'), std::string(100, '\xff'),
                           std::string("\x05\0\0\0\0\0\0\0\x02xxxxx", 14)}) {
    auto f = mem_->NewAppendableFile(LastSegmentPath());
    ASSERT_TRUE((*f)->Append(junk).ok());
    f->reset();
    Open();
    EXPECT_EQ(SamplesOf("1"), 20u);
    Crash();
  }
}

TEST_F(WalTest, FailedFsyncFailsTheCommitAndLosesNothingAcknowledged) {
  snapshot_ = false;
  Open();
  ASSERT_EQ(Write(50), 50);
  fault_.FailNextSyncs(1);
  auto app = db_->NewAppender();
  ASSERT_TRUE(
      app->Append(0, Labels::Of({{"__name__", "m"}, {"s", "0"}}), 50000, 1)
          .ok());
  EXPECT_FALSE(app->Commit().ok());
  // Not visible: it was never acknowledged.
  EXPECT_EQ(SamplesOf("0"), 50u);
  EXPECT_EQ(db_->GetStats().commit_failures, 1u);
  // The WAL moves on to a new segment; later commits are durable.
  ASSERT_EQ(Write(50, 3, 60000), 50);
  Crash();
  Open();
  const size_t n = SamplesOf("0");
  EXPECT_GE(n, 100u);
  EXPECT_LE(n, 101u);  // the failed one may or may not be there
  EXPECT_EQ(SamplesOf("1"), 100u);
}

TEST_F(WalTest, TornWriteFailsTheCommitAndReplayCutsIt) {
  snapshot_ = false;
  Open();
  ASSERT_EQ(Write(20), 20);
  fault_.FailNextAppends(1, 5);
  EXPECT_EQ(Write(1, 3, 20000), 0);
  ASSERT_EQ(Write(20, 3, 30000), 20);
  Crash();
  Open();
  EXPECT_EQ(SamplesOf("2"), 40u);
}

TEST_F(WalTest, CheckpointDropsCoveredSegments) {
  snapshot_ = false;
  Open();
  Write(400);
  auto before = ListSegments(mem_.get(), "/db/wal");
  ASSERT_GT(before->size(), 2u);
  ASSERT_TRUE(db_->Checkpoint().ok());
  auto after = ListSegments(mem_.get(), "/db/wal");
  EXPECT_EQ(after->size(), 1u);
  Write(10, 3, 400 * 1000);
  Crash();
  Open();
  EXPECT_EQ(SamplesOf("0"), 410u);
}

TEST_F(WalTest, GroupCommitSharesFsyncs) {
  Open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto app = db_->NewAppender();
        ASSERT_TRUE(
            app->Append(
                   0, Labels::Of({{"__name__", "g"}, {"t", std::to_string(t)}}),
                   i, i)
                .ok());
        ASSERT_TRUE(app->Commit().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  Stats st = db_->GetStats();
  EXPECT_EQ(st.commits, 400u);
  EXPECT_LE(st.wal.fsyncs, 400u + st.wal.segments_created);
}

TEST_F(WalTest, FsyncPolicyNeverDoesNotSync) {
  snapshot_ = false;
  Options o;
  o.wal.fsync = FsyncPolicy::kNever;
  Open(o);
  ASSERT_EQ(Write(20), 20);
  ASSERT_TRUE(db_->Close().ok());
  EXPECT_EQ(fault_.sync_count(), 0);
  db_.reset();
  Open(o);  // a process crash (not power loss) loses nothing
  EXPECT_EQ(SamplesOf("0"), 20u);
}

TEST_F(WalTest, FsyncPolicyIntervalSyncsInTheBackgroundAndOnClose) {
  snapshot_ = false;
  Options o;
  o.wal.fsync = FsyncPolicy::kInterval;
  o.wal.sync_interval = absl::Hours(1);  // only Close syncs in this test
  Open(o);
  const int before = fault_.sync_count();
  ASSERT_EQ(Write(20), 20);
  EXPECT_EQ(fault_.sync_count(), before) << "commits do not wait for fsync";
  ASSERT_TRUE(db_->Close().ok());
  EXPECT_GT(fault_.sync_count(), before) << "Close syncs what is pending";
  db_.reset();
  // What Close synced survives power loss.
  ASSERT_TRUE(fault_.DropUnsyncedData().ok());
  Open(o);
  EXPECT_EQ(SamplesOf("0"), 20u);
}

TEST_F(WalTest, HugeCommitIsSplitIntoBoundedRecords) {
  snapshot_ = false;
  segment_size_ = 64 << 20;
  Open();
  auto app = db_->NewAppender();
  for (int s = 0; s < 30000; ++s) {
    ASSERT_TRUE(
        app->Append(0,
                    Labels::Of({{"__name__", "big"}, {"s", std::to_string(s)}}),
                    1000, s)
            .ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  Crash();
  int records = 0;
  std::string data = *mem_->ReadFileToString(LastSegmentPath());
  ScanResult r = ScanRecords(data, [&](WalRecordType, std::string_view p) {
    ++records;
    EXPECT_LT(p.size(), size_t{1} << 20);
    return absl::OkStatus();
  });
  EXPECT_FALSE(r.corrupt);
  EXPECT_GE(records, 8);
  Open();
  EXPECT_EQ(Query(*db_, {Eq("__name__", "big")}).size(), 30000u);
}

TEST_F(WalTest, SnapshotOfManySeriesLoadsOnSeveralThreads) {
  // More series than one loading thread's batch, in a head whose refs were
  // not created in label order, so threads interleave.
  Options o;
  o.replay_threads = 4;
  Open(o);
  constexpr int kSeries = 3000;
  for (int i = 0; i < 20; ++i) {
    auto app = db_->NewAppender();
    for (int k = 0; k < kSeries; ++k) {
      const int s = (k * 7919) % kSeries;
      ASSERT_TRUE(app->Append(0,
                              Labels::Of({{"__name__", s % 2 ? "odd" : "even"},
                                          {"s", std::to_string(s)}}),
                              i * 1000, s + i)
                      .ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(db_->Close().ok());
  db_.reset();
  Open(o);
  EXPECT_EQ(db_->GetStats().head_series, kSeries);
  EXPECT_EQ(Query(*db_, {Eq("__name__", "odd")}).size(), size_t{kSeries / 2});
  // Two matchers: the intersection needs sorted postings.
  for (int s : {0, 1, 1234, 2999}) {
    auto got = Query(*db_, {Eq("__name__", s % 2 ? "odd" : "even"),
                            Eq("s", std::to_string(s))});
    ASSERT_EQ(got.size(), 1u) << s;
    ASSERT_EQ(got.begin()->second.size(), 20u);
    EXPECT_EQ(got.begin()->second.back().v, s + 19);
  }
  // New series after the load are found too.
  auto app = db_->NewAppender();
  ASSERT_TRUE(
      app->Append(0, Labels::Of({{"__name__", "odd"}, {"s", "new"}}), 20000, 1)
          .ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Query(*db_, {Eq("__name__", "odd")}).size(),
            size_t{kSeries / 2 + 1});
  EXPECT_EQ(db_->GetStats().wal_corruptions, 0u);
}

TEST_F(WalTest, WalReplayOnSeveralThreadsKeepsEverySeriesInOrder) {
  // Samples are shared out among replay threads by series; each series
  // must still get all of its samples, in order.
  snapshot_ = false;
  segment_size_ = 1 << 20;
  Options o;
  o.replay_threads = 3;
  Open(o);
  constexpr int kSeries = 700;
  ASSERT_EQ(Write(60, kSeries), 60);
  Crash();
  Open(o);
  EXPECT_EQ(db_->GetStats().head_series, kSeries);
  auto got = Query(*db_, {Eq("__name__", "m")});
  ASSERT_EQ(got.size(), size_t{kSeries});
  for (const auto& [labels, samples] : got) {
    ASSERT_EQ(samples.size(), 60u) << labels;
    for (int i = 0; i < 60; ++i) {
      ASSERT_EQ(samples[i].t, i * 1000) << labels;
      ASSERT_EQ(samples[i].v, i) << labels;
    }
  }
  EXPECT_EQ(db_->GetStats().samples_appended, uint64_t{kSeries} * 60);
}

TEST_F(WalTest, CheckpointChunkNotMatchingItsRecordIsReportedNotLoaded) {
  // A record whose checksum is good but whose chunk does not start at the
  // record's mint (a bug, not a torn write): loading reports it and goes on
  // with a working head.
  XorChunk c;
  c.Append(5000, 1);
  c.Append(6000, 2);
  ChunkedSeries good;
  good.labels = Labels::Of({{"__name__", "m"}, {"s", "good"}});
  good.chunks.push_back({5000, 6000, std::string(c.bytes())});
  ChunkedSeries bad = good;
  bad.labels = Labels::Of({{"__name__", "m"}, {"s", "bad"}});
  bad.chunks[0].mint = 4000;
  std::string file;
  AppendRecord(&file, WalRecordType::kSeriesChunks,
               EncodeSeriesChunks(1, good));
  AppendRecord(&file, WalRecordType::kSeriesChunks, EncodeSeriesChunks(2, bad));
  ASSERT_TRUE(mem_->CreateDir("/db").ok());
  ASSERT_TRUE(mem_->CreateDir("/db/wal").ok());
  {
    auto f = mem_->NewWritableFile("/db/wal/checkpoint.00000001");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(file).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  Open();
  EXPECT_EQ(db_->GetStats().wal_corruptions, 1u);
  EXPECT_EQ(SamplesOf("good"), 2u);
  EXPECT_EQ(SamplesOf("bad"), 0u);
  Write(1, 3, 7000);
  EXPECT_EQ(SamplesOf("0"), 1u);
}

TEST(WalRecords, ScanStopsAtTheFirstBadRecord) {
  std::string seg;
  AppendRecord(&seg, WalRecordType::kSamples, EncodeSamples({{1, 5, 2.0}}));
  const size_t one = seg.size();
  AppendRecord(&seg, WalRecordType::kSamples,
               EncodeSamples({{1, 6, 3.0}, {2, -7, 4.0}}));
  int n = 0;
  std::vector<RefSample> samples;
  ScanResult r = ScanRecords(seg, [&](WalRecordType, std::string_view p) {
    ++n;
    return DecodeSamples(p, &samples);
  });
  EXPECT_FALSE(r.corrupt);
  EXPECT_EQ(n, 2);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[2].ref, 2u);
  EXPECT_EQ(samples[2].t, -7);
  seg[one + 12] ^= 1;
  r = ScanRecords(
      seg, [](WalRecordType, std::string_view) { return absl::OkStatus(); });
  EXPECT_TRUE(r.corrupt);
  EXPECT_EQ(r.valid_bytes, one);
  EXPECT_EQ(r.reason, "checksum mismatch");
}

}  // namespace
}  // namespace pantau::metrics::tsdb
