#include "metrics/tsdb/db.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/mapped_file.h"
#include "base/status_macros.h"
#include "metrics/tsdb/block.h"
#include "metrics/tsdb/records.h"

namespace pantau::metrics::tsdb {
namespace {

constexpr int64_t kMinT = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxT = std::numeric_limits<int64_t>::max();
constexpr char kCheckpointPrefix[] = "checkpoint.";
constexpr size_t kCheckpointPrefixLen = sizeof(kCheckpointPrefix) - 1;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Applies replayed samples to the head on `shards` threads. A series
// always goes to the same shard (by ref) and each shard applies its batches
// in the order they were handed over, so every series sees its samples in
// WAL order. With one shard, samples are applied by the caller.
class ShardedApplier {
 public:
  // `threads` false: one shard, applied by the caller.
  ShardedApplier(Head* head, int shards, bool threads)
      : head_(head),
        shards_(threads ? std::max(1, shards) : 1),
        inline_(!threads) {
    pending_.resize(shards_);
    if (inline_) return;
    queues_ = std::make_unique<Queue[]>(shards_);
    for (int i = 0; i < shards_; ++i) {
      threads_.emplace_back([this, i] { Run(queues_[i]); });
    }
  }
  ~ShardedApplier() { Finish(); }

  void Add(MemSeries* s, int64_t t, double v) {
    const size_t shard = s->ref % shards_;
    std::vector<Item>& p = pending_[shard];
    p.push_back({s, t, v});
    if (p.size() >= kBatch) Hand(shard);
  }

  // Applies everything handed over and stops the threads.
  void Finish() {
    if (finished_) return;
    finished_ = true;
    if (inline_) {
      ApplyBatch(pending_[0]);
      return;
    }
    for (int i = 0; i < shards_; ++i) {
      Hand(i);
      absl::MutexLock l(&queues_[i].mu);
      queues_[i].done = true;
    }
    for (std::thread& t : threads_) t.join();
  }

 private:
  using Item = Head::ReplaySample;
  struct Queue {
    absl::Mutex mu;
    std::deque<std::vector<Item>> batches ABSL_GUARDED_BY(mu);
    bool done ABSL_GUARDED_BY(mu) = false;
  };
  static constexpr size_t kBatch = 4096;
  static constexpr size_t kMaxQueued = 16;  // bounds memory when behind

  void ApplyBatch(const std::vector<Item>& batch) {
    head_->ApplyForReplay(batch.data(), batch.size());
  }

  void Hand(size_t shard) {
    std::vector<Item>& p = pending_[shard];
    if (p.empty()) return;
    if (inline_) {
      ApplyBatch(p);
      p.clear();
      return;
    }
    Queue& q = queues_[shard];
    absl::MutexLock l(&q.mu);
    q.mu.Await(absl::Condition(
        +[](Queue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu) {
          return q->batches.size() < kMaxQueued;
        },
        &q));
    q.batches.push_back(std::move(p));
    p = std::vector<Item>();
    p.reserve(kBatch);
  }

  void Run(Queue& q) {
    while (true) {
      std::vector<Item> batch;
      {
        absl::MutexLock l(&q.mu);
        q.mu.Await(absl::Condition(
            +[](Queue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu) {
              return q->done || !q->batches.empty();
            },
            &q));
        if (q.batches.empty()) return;  // done
        batch = std::move(q.batches.front());
        q.batches.pop_front();
      }
      ApplyBatch(batch);
    }
  }

  Head* head_;
  const int shards_;
  const bool inline_;
  bool finished_ = false;
  std::vector<std::vector<Item>> pending_;
  std::unique_ptr<Queue[]> queues_;
  std::vector<std::thread> threads_;
};

}  // namespace

DB::DB(const Options& options)
    : options_(options),
      env_(options.env != nullptr ? options.env : base::Env::Default()) {}

absl::StatusOr<std::unique_ptr<DB>> DB::Open(const Options& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("tsdb: no data directory given");
  }
  if (options.block_duration <= 0) {
    return absl::InvalidArgumentError("tsdb: block_duration must be > 0");
  }
  if (options.out_of_order_window < 0) {
    return absl::InvalidArgumentError("tsdb: out_of_order_window must be >= 0");
  }
  std::unique_ptr<DB> db(new DB(options));
  PANTAU_RETURN_IF_ERROR(db->Init());
  return db;
}

absl::Status DB::Init() {
  PANTAU_RETURN_IF_ERROR(env_->CreateDir(options_.dir));
  PANTAU_ASSIGN_OR_RETURN(lock_, env_->LockFile(options_.dir + "/LOCK"));
  HeadOptions ho;
  ho.chunk_range = options_.block_duration;
  ho.out_of_order_window = options_.out_of_order_window;
  ho.max_series = options_.max_series;
  ho.max_series_per_metric = options_.max_series_per_metric;
  ho.stripes = options_.stripes;
  head_ = std::make_unique<Head>(ho);
  PANTAU_RETURN_IF_ERROR(LoadBlocks());
  uint64_t next_segment = 1;
  PANTAU_RETURN_IF_ERROR(Replay(&next_segment));
  PANTAU_ASSIGN_OR_RETURN(
      wal_, Wal::Open(env_, options_.dir + "/wal", options_.wal, next_segment));
  if (options_.maintenance_interval > absl::ZeroDuration()) {
    maintenance_ = std::thread([this] { MaintenanceLoop(); });
  }
  return absl::OkStatus();
}

absl::Status DB::LoadBlocks() {
  PANTAU_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          env_->GetChildren(options_.dir));
  std::vector<std::shared_ptr<Block>> blocks;
  for (const std::string& name : names) {
    const std::string path = options_.dir + "/" + name;
    if (absl::EndsWith(name, ".tmp") || absl::EndsWith(name, ".deleted")) {
      PANTAU_LOG(kInfo, "removing leftover block directory", {{"dir", path}});
      PANTAU_RETURN_IF_ERROR(env_->DeleteRecursively(path));
      continue;
    }
    if (name.size() != 26 || !env_->FileExists(path + "/meta.json")) continue;
    auto block = Block::Open(env_, path);
    if (!block.ok()) {
      return absl::DataLossError(absl::StrCat("tsdb: cannot open block ", path,
                                              ": ", block.status().message()));
    }
    blocks.push_back(std::move(*block));
  }
  std::sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) {
    return a->meta().min_time < b->meta().min_time;
  });
  int64_t max_block_t = kMinT;
  for (const auto& b : blocks)
    max_block_t = std::max(max_block_t, b->meta().max_time);
  if (max_block_t != kMinT) head_->Truncate(max_block_t);
  absl::MutexLock l(&blocks_mu_);
  blocks_ = std::move(blocks);
  return absl::OkStatus();
}

absl::Status DB::Replay(uint64_t* next_segment) {
  const absl::Time start = absl::Now();
  const std::string dir = options_.dir + "/wal";
  PANTAU_RETURN_IF_ERROR(env_->CreateDir(dir));
  PANTAU_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          env_->GetChildren(dir));
  uint64_t checkpoint = 0;
  bool have_checkpoint = false;
  for (const std::string& name : names) {
    if (absl::EndsWith(name, ".tmp")) {
      PANTAU_RETURN_IF_ERROR(env_->DeleteFile(dir + "/" + name));
      continue;
    }
    uint64_t n;
    if (absl::StartsWith(name, kCheckpointPrefix) &&
        absl::SimpleAtoi(name.substr(kCheckpointPrefixLen), &n)) {
      if (!have_checkpoint || n > checkpoint) checkpoint = n;
      have_checkpoint = true;
    }
  }
  // Series refs whose labels were already in the head under another ref;
  // every other ref is looked up in the head.
  absl::flat_hash_map<SeriesRef, MemSeries*> refs;
  // Refs resolved so far, indexed by ref (refs are dense: handed out in
  // increasing order), so resolving a sample's ref takes neither a lock nor
  // a hash lookup. Refs far beyond the number of series (after much churn)
  // are not cached, to bound the vector.
  std::vector<MemSeries*> dense;
  auto resolve = [&](SeriesRef ref) -> MemSeries* {
    if (ref < dense.size() && dense[ref] != nullptr) return dense[ref];
    MemSeries* s = nullptr;
    if (auto it = refs.find(ref); it != refs.end()) {
      s = it->second;
    } else {
      s = head_->Lookup(ref);  // takes a lock
    }
    if (s != nullptr &&
        ref < std::max<SeriesRef>(
                  SeriesRef{1} << 22,
                  8 * static_cast<SeriesRef>(head_->NumSeries()))) {
      if (ref >= dense.size()) {
        dense.resize(std::max<size_t>(ref + 1, dense.size() * 2), nullptr);
      }
      dense[ref] = s;
    }
    return s;
  };
  // Series arrive in any order (and from several threads); the postings
  // lists are sorted once at the end instead of on every insert.
  head_->postings().BeginBulkLoad();
  struct EndBulk {
    Head* head;
    ~EndBulk() { head->postings().EndBulkLoad(); }
  } end_bulk{head_.get()};
  uint64_t samples = 0, unknown = 0, series = 0;
  if (have_checkpoint) {
    const std::string path =
        dir + "/" + std::string(kCheckpointPrefix) + SegmentName(checkpoint);
    PANTAU_RETURN_IF_ERROR(LoadCheckpoint(path, &refs, &series));
  }
  PANTAU_ASSIGN_OR_RETURN(std::vector<uint64_t> segments,
                          ListSegments(env_, dir));
  uint64_t last = have_checkpoint ? checkpoint : 0;
  std::vector<std::pair<SeriesRef, base::Labels>> series_buf;
  std::vector<RefSample> sample_buf;
  // This thread reads and decodes the segments; appending to the series
  // (chunk encoding) is shared out by series among the replay threads.
  // The reading thread counts as one of the replay threads.
  ShardedApplier applier(head_.get(), ReplayThreads() - 1, ReplayThreads() > 1);
  for (uint64_t n : segments) {
    last = std::max(last, n);
    if (have_checkpoint && n <= checkpoint) continue;
    const std::string path = dir + "/" + SegmentName(n);
    PANTAU_ASSIGN_OR_RETURN(std::string data, env_->ReadFileToString(path));
    ScanResult r =
        ScanRecords(data, [&](WalRecordType type, std::string_view payload) {
          if (type == WalRecordType::kSeries) {
            series_buf.clear();
            PANTAU_RETURN_IF_ERROR(DecodeSeries(payload, &series_buf));
            for (auto& [ref, labels] : series_buf) {
              MemSeries* s = head_->CreateForReplay(ref, labels);
              s->logged.store(true);
              if (s->ref != ref) refs[ref] = s;
              ++series;
            }
          } else if (type == WalRecordType::kSamples) {
            sample_buf.clear();
            PANTAU_RETURN_IF_ERROR(DecodeSamples(payload, &sample_buf));
            for (const RefSample& rs : sample_buf) {
              MemSeries* s = resolve(rs.ref);
              if (s == nullptr) {
                ++unknown;
                continue;
              }
              applier.Add(s, rs.t, rs.v);
              ++samples;
            }
          } else {
            return absl::DataLossError("checkpoint record in a segment");
          }
          return absl::OkStatus();
        });
    if (r.corrupt) {
      PANTAU_LOG(kWarn, "WAL segment truncated",
                 {{"segment", path},
                  {"offset", r.valid_bytes},
                  {"dropped_bytes", data.size() - r.valid_bytes},
                  {"reason", r.reason}});
      PANTAU_RETURN_IF_ERROR(env_->TruncateFile(path, r.valid_bytes));
      absl::MutexLock l(&stats_mu_);
      ++stats_.wal_corruptions;
    }
    PANTAU_LOG(kInfo, "WAL segment replayed",
               {{"segment", n},
                {"last", segments.back()},
                {"records", r.records},
                {"samples_so_far", samples}});
  }
  applier.Finish();
  if (unknown > 0) {
    PANTAU_LOG(kWarn, "WAL samples for unknown series dropped",
               {{"samples", unknown}});
  }
  const absl::Time sort_start = absl::Now();
  head_->postings().EndBulkLoad();
  const absl::Duration sort_took = absl::Now() - sort_start;
  // Duplicates seen while replaying a checkpoint's overlap are expected.
  head_->ResetRejects();
  *next_segment = last + 1;
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  PANTAU_LOG(kInfo, "WAL replay done",
             {{"series", head_->NumSeries()},
              {"samples", samples},
              {"segments", segments.size()},
              {"postings_sort_took", sort_took},
              {"took", absl::Now() - start}});
  absl::MutexLock l(&stats_mu_);
  stats_.wal_replay_seconds = secs;
  return absl::OkStatus();
}

int DB::ReplayThreads() const {
  if (options_.replay_threads > 0) return options_.replay_threads;
  return static_cast<int>(
      std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
}

absl::Status DB::LoadCheckpoint(
    const std::string& path,
    absl::flat_hash_map<SeriesRef, MemSeries*>* aliases, uint64_t* series) {
  const absl::Time start = absl::Now();
  // Mapped (pre-faulted from the page cache) rather than copied on the
  // local file system: reading it into a buffer was a quarter of loading
  // it. A checkpoint is never written to after it is renamed into place.
  PANTAU_ASSIGN_OR_RETURN(
      auto contents, base::MappedFile::Open(env_, path, /*populate=*/true));
  const std::string_view data = contents->data();
  const absl::Duration read_took = absl::Now() - start;
  // Pass 1, one thread: framing and checksums (CRC32C runs in hardware, so
  // this is a small part), which also tells where any damage starts.
  std::vector<std::string_view> payloads;
  ScanResult r =
      ScanRecords(data, [&](WalRecordType type, std::string_view payload) {
        if (type != WalRecordType::kSeriesChunks) {
          return absl::DataLossError("unexpected record in checkpoint");
        }
        payloads.push_back(payload);
        return absl::OkStatus();
      });
  PANTAU_LOG(kInfo, "loading WAL checkpoint",
             {{"file", path},
              {"bytes", data.size()},
              {"records", payloads.size()},
              {"read_took", read_took},
              {"scan_took", absl::Now() - start - read_took}});
  // Pass 2: records are decoded (labels parsed and checked, chunks checked
  // and copied) by helper threads, batches ahead, while this thread puts
  // the decoded series into the head in file order. One inserter: with
  // several, the head's postings lock made them queue behind each other,
  // and on a loaded machine a descheduled lock holder stalled the rest
  // (2 threads took 1-4x as long as 1).
  constexpr size_t kBatch = 256;
  constexpr size_t kAhead = 16;  // decoded batches waiting, at most
  struct Batch {
    std::vector<std::pair<SeriesRef, ChunkedSeries>> series;
    absl::Status status;  // of the record after the last decoded one
    bool ready = false;
  };
  const size_t n = payloads.size();
  const size_t nb = (n + kBatch - 1) / kBatch;
  std::vector<Batch> batches(nb);
  const int helpers = static_cast<int>(std::min<size_t>(
      static_cast<size_t>(ReplayThreads() - 1), nb > 1 ? nb - 1 : 0));
  auto decode = [&](size_t b) {
    Batch& batch = batches[b];
    const size_t e = std::min(n, (b + 1) * kBatch);
    batch.series.reserve(e - b * kBatch);
    for (size_t i = b * kBatch; i < e; ++i) {
      SeriesRef ref;
      ChunkedSeries cs;
      batch.status =
          DecodeSeriesChunks(payloads[i], &ref, &cs, ChunkCheck::kHeader);
      if (!batch.status.ok()) break;
      batch.series.emplace_back(ref, std::move(cs));
    }
  };
  struct Progress {  // guarded by mu, as are the batches' `ready`
    size_t next_decode = 0;
    size_t consumed = 0;
    bool stop = false;
    bool CanDecode() const { return stop || next_decode < consumed + kAhead; }
  };
  absl::Mutex mu;
  Progress pr;
  auto helper = [&] {
    while (true) {
      size_t b;
      {
        absl::MutexLock l(&mu);
        mu.Await(absl::Condition(&pr, &Progress::CanDecode));
        if (pr.stop || pr.next_decode >= nb) return;
        b = pr.next_decode++;
      }
      decode(b);
      absl::MutexLock l(&mu);
      batches[b].ready = true;
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < helpers; ++i) pool.emplace_back(helper);
  uint64_t loaded = 0;
  size_t bad = n;  // index of the first record that did not decode
  std::string bad_reason;
  absl::Time last_progress = absl::Now();
  for (size_t b = 0; b < nb; ++b) {
    bool mine = false;
    mu.Lock();
    while (true) {
      if (pr.next_decode <= b) {
        // No helper has taken it: decode it here.
        pr.next_decode = b + 1;
        mine = true;
        break;
      }
      if (batches[b].ready) break;
      if (pr.next_decode < nb && pr.CanDecode()) {
        // A helper is still on it (or was descheduled: the machine may be
        // busy): decode a later batch meanwhile instead of waiting.
        const size_t c = pr.next_decode++;
        mu.Unlock();
        decode(c);
        mu.Lock();
        batches[c].ready = true;
        continue;
      }
      mu.Await(absl::Condition(&batches[b].ready));
      break;
    }
    mu.Unlock();
    if (mine) decode(b);
    Batch& batch = batches[b];
    for (auto& [ref, cs] : batch.series) {
      MemSeries* s = head_->CreateForReplay(ref, cs.labels);
      if (s->ref != ref) (*aliases)[ref] = s;
      head_->LoadChunks(s, std::move(cs.chunks), std::move(cs.extra));
    }
    loaded += batch.series.size();
    const bool failed = !batch.status.ok();
    if (failed) {
      bad = b * kBatch + batch.series.size();
      bad_reason = std::string(batch.status.message());
    }
    batch = Batch();  // frees its memory
    {
      absl::MutexLock l(&mu);
      pr.consumed = b + 1;
      if (failed) pr.stop = true;
    }
    if (failed) break;
    if (absl::Now() - last_progress > absl::Seconds(5)) {
      last_progress = absl::Now();
      PANTAU_LOG(kInfo, "WAL checkpoint loading",
                 {{"series_so_far", loaded}, {"series", n}});
    }
  }
  {
    absl::MutexLock l(&mu);
    pr.stop = true;
  }
  for (std::thread& t : pool) t.join();
  *series += loaded;
  if (bad < n) {
    // A record with a good checksum that does not decode.
    r.corrupt = true;
    r.reason = bad_reason;
    r.valid_bytes = static_cast<uint64_t>(payloads[bad].data() - data.data()) -
                    kWalRecordHeaderSize;
  }
  if (r.corrupt) {
    PANTAU_LOG(
        kError, "WAL checkpoint is corrupt; data after the damage is lost",
        {{"file", path}, {"offset", r.valid_bytes}, {"reason", r.reason}});
    absl::MutexLock l(&stats_mu_);
    ++stats_.wal_corruptions;
  }
  PANTAU_LOG(kInfo, "WAL checkpoint loaded",
             {{"file", path},
              {"series", loaded},
              {"decode_helpers", helpers},
              {"took", absl::Now() - start}});
  return absl::OkStatus();
}

absl::Status DB::Checkpoint() {
  absl::MutexLock ml(&maintain_mu_);
  uint64_t upto;
  {
    absl::WriterMutexLock l(&apply_mu_);
    PANTAU_ASSIGN_OR_RETURN(upto, wal_->Rotate());
  }
  const std::string dir = options_.dir + "/wal";
  const std::string name = std::string(kCheckpointPrefix) + SegmentName(upto);
  const std::string tmp = dir + "/" + name + ".tmp";
  {
    PANTAU_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(tmp));
    std::string buf;
    absl::Status st;
    head_->ForEachSeries([&](SeriesRef ref, const ChunkedSeries& cs) {
      if (!st.ok()) return;
      AppendRecord(&buf, WalRecordType::kSeriesChunks,
                   EncodeSeriesChunks(ref, cs));
      if (buf.size() > (1 << 20)) {
        st = f->Append(buf);
        buf.clear();
      }
    });
    PANTAU_RETURN_IF_ERROR(st);
    PANTAU_RETURN_IF_ERROR(f->Append(buf));
    PANTAU_RETURN_IF_ERROR(f->Sync());
    PANTAU_RETURN_IF_ERROR(f->Close());
  }
  PANTAU_RETURN_IF_ERROR(env_->RenameFile(tmp, dir + "/" + name));
  PANTAU_RETURN_IF_ERROR(env_->SyncDir(dir));
  // Only now is it safe to drop what the checkpoint covers.
  PANTAU_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          env_->GetChildren(dir));
  for (const std::string& n : names) {
    uint64_t num;
    if (absl::StartsWith(n, kCheckpointPrefix) && n != name &&
        absl::SimpleAtoi(n.substr(kCheckpointPrefixLen), &num)) {
      PANTAU_RETURN_IF_ERROR(env_->DeleteFile(dir + "/" + n));
    } else if (n.size() == 8 && absl::SimpleAtoi(n, &num) && num <= upto) {
      PANTAU_RETURN_IF_ERROR(env_->DeleteFile(dir + "/" + n));
    }
  }
  absl::MutexLock l(&stats_mu_);
  ++stats_.checkpoints;
  return absl::OkStatus();
}

DB::~DB() { (void)Close(); }

absl::Status DB::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  {
    absl::MutexLock l(&stop_mu_);
    stop_ = true;
  }
  if (maintenance_.joinable()) maintenance_.join();
  absl::Status s;
  if (options_.snapshot_on_close && wal_ != nullptr) s = Checkpoint();
  if (wal_ != nullptr) {
    absl::Status c = wal_->Close();
    if (s.ok()) s = c;
  }
  lock_.reset();
  return s;
}

void DB::CrashForTesting() {
  closed_ = true;
  {
    absl::MutexLock l(&stop_mu_);
    stop_ = true;
  }
  if (maintenance_.joinable()) maintenance_.join();
  if (wal_ != nullptr) wal_->Abandon();
  lock_.reset();
}

void DB::MaintenanceLoop() {
  absl::MutexLock l(&stop_mu_);
  while (!stop_) {
    stop_mu_.AwaitWithTimeout(absl::Condition(&stop_),
                              options_.maintenance_interval);
    if (stop_) break;
    stop_mu_.Unlock();
    absl::Status s = Maintain();
    if (!s.ok()) PANTAU_LOG(kError, "tsdb maintenance failed", {{"err", s}});
    stop_mu_.Lock();
  }
}

std::vector<std::shared_ptr<Block>> DB::BlocksSnapshot() {
  absl::MutexLock l(&blocks_mu_);
  return blocks_;
}

absl::Status DB::CutRange(int64_t mint, int64_t maxt) {
  {
    // Wait for in-flight commits so the copy below sees all of them; later
    // samples before maxt are refused as out of bounds.
    absl::WriterMutexLock l(&apply_mu_);
    head_->SetMinValidTime(maxt);
  }
  auto parts = head_->Select({}, mint, maxt - 1);
  if (!parts.ok()) return parts.status();
  if (!parts->empty()) {
    auto set = NewMergedSeriesSet(std::move(*parts), mint, maxt - 1);
    PANTAU_ASSIGN_OR_RETURN(BlockMeta meta, WriteBlock(env_, options_.dir, *set,
                                                       mint, maxt, 1, {}));
    if (meta.num_series > 0) {
      PANTAU_ASSIGN_OR_RETURN(
          auto block, Block::Open(env_, options_.dir + "/" + meta.ulid));
      PANTAU_LOG(kInfo, "block cut from head",
                 {{"ulid", meta.ulid},
                  {"mint", mint},
                  {"maxt", maxt},
                  {"series", meta.num_series},
                  {"samples", meta.num_samples}});
      absl::MutexLock l(&blocks_mu_);
      blocks_.push_back(std::move(block));
    }
  }
  head_->Truncate(maxt);
  return absl::OkStatus();
}

absl::Status DB::CutBlocks(bool all) {
  bool cut = false;
  {
    absl::MutexLock ml(&maintain_mu_);
    const int64_t bd = options_.block_duration;
    while (true) {
      const int64_t hmin = head_->MinTime(), hmax = head_->MaxTime();
      if (hmin == kMaxT || hmax == kMinT) break;
      const int64_t start = FloorDiv(hmin, bd) * bd;
      const int64_t end = start + bd;
      if (!all && !(hmax - hmin >= bd * 3 / 2 && end <= hmax)) break;
      PANTAU_RETURN_IF_ERROR(CutRange(start, end));
      cut = true;
      if (all && head_->MinTime() == kMaxT) break;
    }
  }
  if (cut) PANTAU_RETURN_IF_ERROR(Checkpoint());
  return absl::OkStatus();
}

absl::Status DB::Maintain() {
  PANTAU_RETURN_IF_ERROR(CutBlocks(false));
  {
    absl::MutexLock ml(&maintain_mu_);
    PANTAU_RETURN_IF_ERROR(Compact());
    PANTAU_RETURN_IF_ERROR(ApplyRetention());
  }
  return absl::OkStatus();
}

Stats DB::GetStats() {
  Stats s;
  {
    absl::MutexLock l(&stats_mu_);
    s = stats_;
  }
  const HeadCounters& c = head_->counters();
  s.head_series = head_->NumSeries();
  s.head_min_time = head_->MinTime();
  s.head_max_time = head_->MaxTime();
  {
    // Walking every series is too slow for each /metrics scrape.
    absl::MutexLock l(&stats_mu_);
    const absl::Time now = absl::Now();
    if (now - memory_at_ > absl::Seconds(30)) {
      memory_bytes_ = head_->MemoryBytes();
      memory_at_ = now;
    }
    s.head_memory_bytes = memory_bytes_;
  }
  s.head_series_created = c.series_created.load();
  s.head_series_removed = c.series_removed.load();
  s.samples_appended = c.samples_appended.load();
  for (int i = 0; i < static_cast<int>(Reject::kCount); ++i) {
    s.rejected[RejectName(static_cast<Reject>(i))] = c.rejected[i].load();
  }
  if (wal_ != nullptr) s.wal = wal_->stats();
  for (const auto& b : BlocksSnapshot()) {
    ++s.blocks;
    s.block_bytes += b->size_bytes();
  }
  const std::string dir = options_.dir + "/wal";
  if (auto names = env_->GetChildren(dir); names.ok()) {
    for (const std::string& n : *names) {
      if (auto size = env_->GetFileSize(dir + "/" + n); size.ok()) {
        s.wal_bytes += *size;
      }
    }
  }
  return s;
}

}  // namespace pantau::metrics::tsdb
