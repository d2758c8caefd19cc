// Blocks: index round trips and corruption, cutting from the head, queries
// across head and blocks, compaction, retention.
#include "metrics/tsdb/block.h"

#include <stdlib.h>

#include <fstream>
#include <random>

#include "base/env.h"
#include "gtest/gtest.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/format.h"
#include "metrics/tsdb/index.h"
#include "metrics/tsdb/test_util.h"

namespace pantau::metrics::tsdb {
namespace {

using base::Labels;
using testing::Eq;
using testing::Query;

constexpr int64_t kHour = 3600 * 1000;

std::string BuildIndex() {
  IndexWriter w;
  EXPECT_TRUE(w.AddSeries(Labels::Of({{"__name__", "a"}, {"x", "1"}}),
                          {{0, 10, 5}, {11, 20, 50}})
                  .ok());
  EXPECT_TRUE(
      w.AddSeries(Labels::Of({{"__name__", "a"}, {"x", "2"}}), {{-5, 7, 100}})
          .ok());
  EXPECT_TRUE(w.AddSeries(Labels::Of({{"__name__", "b"}}), {{1, 1, 200}}).ok());
  EXPECT_FALSE(w.AddSeries(Labels::Of({{"__name__", "a"}}), {}).ok())
      << "out of order";
  return w.Finish();
}

TEST(Index, RoundTrip) {
  auto r = IndexReader::Open(BuildIndex());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_series(), 3u);
  EXPECT_EQ((*r)->Get("__name__", "a"), (Postings{0, 1}));
  EXPECT_EQ((*r)->Get("x", "2"), (Postings{1}));
  EXPECT_TRUE((*r)->Get("x", "3").empty());
  EXPECT_EQ((*r)->All(), (Postings{0, 1, 2}));
  EXPECT_EQ((*r)->LabelNames(), (std::vector<std::string>{"__name__", "x"}));
  Labels l;
  std::vector<ChunkMeta> chunks;
  ASSERT_TRUE((*r)->Series(1, &l, &chunks).ok());
  EXPECT_EQ(l, Labels::Of({{"__name__", "a"}, {"x", "2"}}));
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].mint, -5);
  EXPECT_EQ(chunks[0].maxt, 7);
  EXPECT_EQ(chunks[0].ref, 100u);
  auto p = SelectPostings(**r, {Eq("__name__", "a"),
                                Matcher::Must(MatchType::kNotEqual, "x", "1")});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (Postings{1}));
}

TEST(Index, EveryCorruptionIsAnErrorNotACrash) {
  const std::string good = BuildIndex();
  std::mt19937 rng(1);
  int rejected = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= static_cast<char>(1 + rng() % 255);
    if (!IndexReader::Open(bad).ok()) ++rejected;
  }
  // Every section is checksummed, so every single-byte flip is caught.
  EXPECT_EQ(rejected, static_cast<int>(good.size()));
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(IndexReader::Open(good.substr(0, n)).ok());
  }
}

TEST(BlockMeta, JsonRoundTripAndBadInput) {
  BlockMeta m;
  m.ulid = NewUlid(1700000000000);
  m.min_time = 0;
  m.max_time = 7200000;
  m.num_samples = 5;
  m.level = 2;
  m.sources = {"a", "b"};
  auto back = ParseMeta(EncodeMeta(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ulid, m.ulid);
  EXPECT_EQ(back->max_time, m.max_time);
  EXPECT_EQ(back->sources, m.sources);
  EXPECT_FALSE(ParseMeta("{").ok());
  EXPECT_FALSE(ParseMeta(R"({"version": "x"})").ok());
  EXPECT_FALSE(ParseMeta("[]").ok());
  EXPECT_LT(NewUlid(1), NewUlid(2));
}

class DbBlockTest : public ::testing::Test {
 protected:
  void Open(Options o = {}) {
    o.dir = dir_;
    o.env = env();
    o.maintenance_interval = absl::ZeroDuration();
    options_ = o;
    auto db = DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  // 15 s samples for `series` series over [from, to).
  void Fill(int64_t from, int64_t to, int series = 4) {
    for (int64_t t = from; t < to; t += 15000) {
      auto app = db_->NewAppender();
      for (int s = 0; s < series; ++s) {
        ASSERT_TRUE(
            app->Append(
                   0, Labels::Of({{"__name__", "m"}, {"s", std::to_string(s)}}),
                   t, static_cast<double>(t / 15000))
                .ok());
      }
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  void ExpectComplete(int64_t from, int64_t to, int series = 4) {
    auto got = Query(*db_, {Eq("__name__", "m")});
    ASSERT_EQ(got.size(), static_cast<size_t>(series));
    for (const auto& [k, samples] : got) {
      ASSERT_EQ(samples.size(), static_cast<size_t>((to - from) / 15000)) << k;
      for (size_t i = 0; i < samples.size(); ++i) {
        ASSERT_EQ(samples[i].t, from + static_cast<int64_t>(i) * 15000);
        ASSERT_EQ(samples[i].v, static_cast<double>(samples[i].t / 15000));
      }
    }
  }
  base::Env* env() { return disk_ ? base::Env::Default() : env_.get(); }
  std::unique_ptr<base::Env> env_ = base::NewMemEnv();
  bool disk_ = false;  // Env::Default() under dir_ instead of env_
  std::string dir_ = "/db";
  std::unique_ptr<DB> db_;
  Options options_;
};

TEST_F(DbBlockTest, BlocksAreCutAndQueriedWithTheHead) {
  Open();
  Fill(0, 5 * kHour);
  ASSERT_TRUE(db_->Maintain().ok());
  Stats st = db_->GetStats();
  EXPECT_EQ(st.blocks, 1u) << "one 2h block once the head spans 3h";
  ASSERT_TRUE(db_->Maintain().ok());
  EXPECT_EQ(db_->GetStats().blocks, 1u) << "the head spans < 3h again";
  Fill(5 * kHour, 6 * kHour);
  ASSERT_TRUE(db_->Maintain().ok());
  EXPECT_EQ(db_->GetStats().blocks, 2u);
  EXPECT_GE(db_->GetStats().head_min_time, 4 * kHour);
  ExpectComplete(0, 6 * kHour);
  // A range inside one block only.
  auto got =
      Query(*db_, {Eq("__name__", "m"), Eq("s", "1")}, kHour, kHour + 59999);
  ASSERT_EQ(got.begin()->second.size(), 4u);
  // Samples older than the head are refused now.
  auto app = db_->NewAppender();
  auto r =
      app->Append(0, Labels::Of({{"__name__", "m"}, {"s", "0"}}), kHour, 1);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of bounds"), std::string::npos);
  app.reset();  // appenders must not outlive their DB
  // Everything survives a restart, and the WAL was checkpointed.
  db_.reset();
  Open();
  EXPECT_EQ(db_->GetStats().blocks, 2u);
  ExpectComplete(0, 6 * kHour);
  auto q = db_->NewQuerier(0, 10 * kHour);
  auto vals = (*q)->LabelValues("s", {});
  ASSERT_TRUE(vals.ok());
  EXPECT_EQ(vals->size(), 4u);
}

TEST_F(DbBlockTest, CommitRefusesSamplesOvertakenByABlockCut) {
  Open();
  Fill(0, kHour, 1);
  auto app = db_->NewAppender();
  ASSERT_TRUE(
      app->Append(0, Labels::Of({{"__name__", "m"}, {"s", "0"}}), kHour, 1)
          .ok());
  ASSERT_TRUE(db_->CutBlocks(true).ok());  // moves min valid time to 2h
  absl::Status st = app->Commit();
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange) << st;
  EXPECT_EQ(db_->GetStats().rejected["out_of_bounds"], 1u);
  ExpectComplete(0, kHour, 1);
}

TEST_F(DbBlockTest, SeriesThatStopReceivingSamplesLeaveTheHead) {
  Open();
  Fill(0, kHour, 3);
  // Only series 0 goes on; 1 and 2 stop (a target went away).
  for (int64_t t = kHour; t < 4 * kHour; t += 15000) {
    auto app = db_->NewAppender();
    ASSERT_TRUE(
        app->Append(0, Labels::Of({{"__name__", "m"}, {"s", "0"}}), t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ(db_->GetStats().head_series, 3);
  ASSERT_TRUE(db_->Maintain().ok());
  Stats st = db_->GetStats();
  EXPECT_EQ(st.head_series, 1);
  EXPECT_EQ(st.head_series_removed, 2u);
  // Still queryable from the block, and their label values still listed.
  EXPECT_EQ(Query(*db_, {Eq("__name__", "m")}).size(), 3u);
  auto q = db_->NewQuerier(0, 5 * kHour);
  auto vals = (*q)->LabelValues("s", {});
  ASSERT_TRUE(vals.ok());
  EXPECT_EQ(*vals, (std::vector<std::string>{"0", "1", "2"}));
  // A returning series is created afresh.
  auto app = db_->NewAppender();
  ASSERT_TRUE(
      app->Append(0, Labels::Of({{"__name__", "m"}, {"s", "2"}}), 4 * kHour, 5)
          .ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(db_->GetStats().head_series, 2);
  auto got = Query(*db_, {Eq("__name__", "m"), Eq("s", "2")});
  EXPECT_EQ(got.begin()->second.back().v, 5);
}

TEST_F(DbBlockTest, CompactionMergesAdjacentBlocks) {
  Options o;
  o.retention_ms = 0;
  Open(o);
  Fill(0, 8 * kHour);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  // Cut blocks at 0-2, 2-4, 4-6; 0-6 is a complete 6h range: compacted.
  ASSERT_TRUE(db_->Maintain().ok());
  Stats st = db_->GetStats();
  EXPECT_EQ(st.compactions, 1u);
  EXPECT_EQ(st.blocks, 1u);
  ExpectComplete(0, 8 * kHour);
  db_.reset();
  Open(o);
  ExpectComplete(0, 8 * kHour);
  EXPECT_EQ(db_->GetStats().blocks, 1u);
}

TEST_F(DbBlockTest, RetentionByTimeDropsOldBlocks) {
  Options o;
  o.retention_ms = 5 * kHour;
  o.compaction_factor = 1;  // keep 2h blocks to see them go one by one
  Open(o);
  Fill(0, 12 * kHour, 1);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  ASSERT_TRUE(db_->Maintain().ok());
  Stats st = db_->GetStats();
  EXPECT_GT(st.blocks_deleted_retention, 0u);
  auto got = Query(*db_, {Eq("__name__", "m")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(got.begin()->second.front().t, 12 * kHour - 5 * kHour - 2 * kHour);
  EXPECT_EQ(got.begin()->second.back().t, 12 * kHour - 15000);
}

TEST_F(DbBlockTest, RetentionBySizeDropsOldestBlocksFirst) {
  Options o;
  o.retention_ms = 0;
  o.compaction_factor = 1;
  Open(o);
  Fill(0, 12 * kHour, 20);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  const Stats before = db_->GetStats();
  ASSERT_GE(before.blocks, 4u);
  Options small = o;
  db_.reset();
  small.retention_bytes = before.block_bytes / 2 + before.wal_bytes;
  Open(small);
  ASSERT_TRUE(db_->Maintain().ok());
  const Stats after = db_->GetStats();
  EXPECT_LT(after.blocks, before.blocks);
  EXPECT_LE(after.block_bytes + after.wal_bytes, small.retention_bytes);
  auto got = Query(*db_, {Eq("__name__", "m"), Eq("s", "0")});
  EXPECT_GT(got.begin()->second.front().t, 0) << "oldest data went first";
  EXPECT_EQ(got.begin()->second.back().t, 12 * kHour - 15000);
}

TEST_F(DbBlockTest, CorruptBlockChunkIsAQueryError) {
  Open();
  Fill(0, 4 * kHour, 1);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  ASSERT_EQ(db_->GetStats().blocks, 1u);
  db_.reset();
  auto names = env_->GetChildren("/db");
  std::string block;
  for (auto& n : *names) {
    if (n.size() == 26) block = "/db/" + n;
  }
  ASSERT_FALSE(block.empty());
  std::string chunks = *env_->ReadFileToString(block + "/chunks");
  chunks[chunks.size() / 2] ^= 0x10;
  ASSERT_TRUE(env_->WriteFileAtomically(block + "/chunks", chunks).ok());
  Open();
  auto q = db_->NewQuerier(0, kHour);
  auto set = (*q)->Select(true, nullptr, {Eq("__name__", "m")});
  while (set->Next()) {
  }
  EXPECT_EQ(set->status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(DbBlockTest, ChunkRefOutsideTheChunksFileIsAQueryError) {
  Open();
  Fill(0, 4 * kHour, 1);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  db_.reset();
  std::string block;
  const auto names = env_->GetChildren("/db");
  ASSERT_TRUE(names.ok());
  for (auto& n : *names) {
    if (n.size() == 26) block = "/db/" + n;
  }
  ASSERT_FALSE(block.empty());
  // Cut the chunks file to its header: the index's refs now point past
  // its end.
  std::string chunks = *env_->ReadFileToString(block + "/chunks");
  chunks.resize(kChunksHeaderSize);
  ASSERT_TRUE(env_->WriteFileAtomically(block + "/chunks", chunks).ok());
  Open();
  auto q = db_->NewQuerier(0, 4 * kHour);
  auto set = (*q)->Select(true, nullptr, {Eq("__name__", "m")});
  while (set->Next()) {
  }
  EXPECT_EQ(set->status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(set->status().message().find("outside the chunks file"),
            std::string::npos)
      << set->status();
}

TEST(ReadChunkRecord, RejectsRecordsThatDoNotFitTheFile) {
  std::string_view chunk;
  const std::string header = "PTCH\x01";
  // ref inside the header, at the end, and a length running past the end.
  EXPECT_EQ(ReadChunkRecord(header + "\x01\x05"
                                     "ab",
                            0, &chunk)
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(ReadChunkRecord(header, 5, &chunk).ok());
  EXPECT_FALSE(ReadChunkRecord(header + "\x01\x05"
                                        "ab",
                               5, &chunk)
                   .ok());
  EXPECT_FALSE(
      ReadChunkRecord(header + "\x01\xff\xff\xff\xff\x0f", 5, &chunk).ok());
}

// This process's mappings of block chunks files under `dir`, deleted ones
// included (from /proc/self/maps).
int ChunkMappingsUnder(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find(dir) != std::string::npos &&
        line.find("/chunks") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// Blocks' chunks files are mapped; a query that is reading a block when
// compaction replaces it (and deletes its files) goes on reading it, and
// the mapping goes away with the last reader.
TEST_F(DbBlockTest, QueriesKeepReadingBlocksThatCompactionDeletes) {
  char tmpl[] = "/tmp/pantau_block_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  struct Cleanup {
    std::string path;
    ~Cleanup() { (void)base::Env::Default()->DeleteRecursively(path); }
  } cleanup{tmpl};
  disk_ = true;
  dir_ = std::string(tmpl) + "/db";
  Options o;
  o.retention_ms = 0;
  Open(o);
  Fill(0, 8 * kHour, 2);
  ASSERT_TRUE(db_->CutBlocks(false).ok());
  ASSERT_EQ(db_->GetStats().blocks, 3u);
  std::vector<std::string> old_blocks;
  const auto names = env()->GetChildren(dir_);
  ASSERT_TRUE(names.ok());
  for (auto& n : *names) {
    if (n.size() == 26) old_blocks.push_back(dir_ + "/" + n);
  }
  ASSERT_EQ(old_blocks.size(), 3u);
  EXPECT_EQ(ChunkMappingsUnder(dir_), 3) << "one mapping per block";

  auto q = db_->NewQuerier(0, 8 * kHour);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select(true, nullptr, {Eq("__name__", "m")});
  ASSERT_TRUE(set->Next());
  auto it = set->At().Iterator();
  int64_t want = 0;
  auto read = [&](int64_t until) {
    while (want < until) {
      ASSERT_TRUE(it->Next()) << it->status();
      ASSERT_EQ(it->At().t, want);
      ASSERT_EQ(it->At().v, static_cast<double>(want / 15000));
      want += 15000;
    }
  };
  read(kHour);

  // Compaction merges the three blocks into one and deletes them.
  ASSERT_TRUE(db_->Maintain().ok());
  ASSERT_EQ(db_->GetStats().compactions, 1u);
  for (const std::string& b : old_blocks) {
    EXPECT_FALSE(env()->FileExists(b)) << b;
  }
  read(3 * kHour);
  // Neither the querier nor the DB is needed for reading on.
  q->reset();
  db_.reset();
  read(8 * kHour);
  EXPECT_FALSE(it->Next());
  EXPECT_TRUE(it->status().ok()) << it->status();
  EXPECT_EQ(ChunkMappingsUnder(dir_), 3) << "the deleted blocks' mappings";
  it.reset();
  set.reset();
  EXPECT_EQ(ChunkMappingsUnder(dir_), 0) << "gone with the last reader";
}

TEST_F(DbBlockTest, LeftoverTmpBlocksAreRemovedOnOpen) {
  ASSERT_TRUE(env_->CreateDir("/db").ok());
  ASSERT_TRUE(env_->CreateDir("/db/01ABCDEFGHJKMNPQRSTVWXYZ01.tmp").ok());
  ASSERT_TRUE(
      env_->WriteFileAtomically("/db/01ABCDEFGHJKMNPQRSTVWXYZ01.tmp/index", "x")
          .ok());
  Open();
  EXPECT_FALSE(env_->FileExists("/db/01ABCDEFGHJKMNPQRSTVWXYZ01.tmp"));
}

}  // namespace
}  // namespace pantau::metrics::tsdb
