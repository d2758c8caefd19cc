// Compaction of adjacent blocks and retention by time and size.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "metrics/tsdb/block.h"
#include "metrics/tsdb/db.h"

namespace pantau::metrics::tsdb {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

absl::Status DB::DeleteBlock(const std::string& id) {
  const std::string dir = options_.dir + "/" + id;
  // Renamed first, so a crash never leaves half a block that looks whole.
  PANTAU_RETURN_IF_ERROR(env_->RenameFile(dir, dir + ".deleted"));
  PANTAU_RETURN_IF_ERROR(env_->SyncDir(options_.dir));
  return env_->DeleteRecursively(dir + ".deleted");
}

absl::Status DB::Compact() {
  int64_t max_range = options_.max_block_duration;
  if (max_range <= 0) {
    max_range =
        std::min<int64_t>(options_.retention_ms > 0 ? options_.retention_ms / 10
                                                    : 31LL * 24 * 3600 * 1000,
                          31LL * 24 * 3600 * 1000);
  }
  std::vector<int64_t> ranges;
  for (int64_t r = options_.block_duration * options_.compaction_factor;
       options_.compaction_factor > 1 && r <= max_range;
       r *= options_.compaction_factor) {
    ranges.push_back(r);
  }
  for (int64_t range : ranges) {
    while (true) {
      std::vector<std::shared_ptr<Block>> blocks = BlocksSnapshot();
      int64_t newest = std::numeric_limits<int64_t>::min();
      for (const auto& b : blocks)
        newest = std::max(newest, b->meta().max_time);
      // Group blocks lying wholly inside one aligned range; only ranges
      // that are complete (the newest data is past them) are compacted.
      std::map<int64_t, std::vector<std::shared_ptr<Block>>> groups;
      for (const auto& b : blocks) {
        const int64_t start = FloorDiv(b->meta().min_time, range) * range;
        if (b->meta().max_time > start + range) continue;
        if (start + range > newest) continue;
        groups[start].push_back(b);
      }
      auto it = std::find_if(groups.begin(), groups.end(),
                             [](const auto& g) { return g.second.size() > 1; });
      if (it == groups.end()) break;
      const int64_t start = it->first;
      std::vector<std::shared_ptr<Block>>& group = it->second;
      std::vector<std::shared_ptr<const ChunkedSeries>> parts;
      std::vector<std::string> sources;
      int level = 0;
      for (const auto& b : group) {
        PANTAU_ASSIGN_OR_RETURN(auto p,
                                b->Select({}, start, start + range - 1));
        for (auto& s : p) parts.push_back(std::move(s));
        for (const auto& s : b->meta().sources) sources.push_back(s);
        level = std::max(level, b->meta().level);
      }
      std::sort(sources.begin(), sources.end());
      auto set = NewMergedSeriesSet(std::move(parts), start, start + range - 1);
      int64_t mint = group.front()->meta().min_time, maxt = 0;
      for (const auto& b : group) {
        mint = std::min(mint, b->meta().min_time);
        maxt = std::max(maxt, b->meta().max_time);
      }
      PANTAU_ASSIGN_OR_RETURN(
          BlockMeta meta,
          WriteBlock(env_, options_.dir, *set, mint, maxt, level + 1, sources));
      std::shared_ptr<Block> merged;
      if (meta.num_series > 0) {
        PANTAU_ASSIGN_OR_RETURN(
            merged, Block::Open(env_, options_.dir + "/" + meta.ulid));
      }
      {
        absl::MutexLock l(&blocks_mu_);
        std::vector<std::shared_ptr<Block>> next;
        for (auto& b : blocks_) {
          if (std::find(group.begin(), group.end(), b) == group.end()) {
            next.push_back(b);
          }
        }
        if (merged) next.push_back(merged);
        std::sort(next.begin(), next.end(), [](const auto& a, const auto& b) {
          return a->meta().min_time < b->meta().min_time;
        });
        blocks_ = std::move(next);
      }
      for (const auto& b : group) {
        PANTAU_RETURN_IF_ERROR(DeleteBlock(b->meta().ulid));
      }
      PANTAU_LOG(kInfo, "blocks compacted",
                 {{"ulid", meta.ulid},
                  {"sources", group.size()},
                  {"level", level + 1},
                  {"series", meta.num_series}});
      absl::MutexLock l(&stats_mu_);
      ++stats_.compactions;
    }
  }
  return absl::OkStatus();
}

absl::Status DB::ApplyRetention() {
  std::vector<std::shared_ptr<Block>> blocks = BlocksSnapshot();
  if (blocks.empty()) return absl::OkStatus();
  std::vector<std::shared_ptr<Block>> doomed;
  if (options_.retention_ms > 0) {
    int64_t newest = std::numeric_limits<int64_t>::min();
    for (const auto& b : blocks) newest = std::max(newest, b->meta().max_time);
    newest = std::max(newest, head_->MaxTime());
    for (const auto& b : blocks) {
      if (b->meta().max_time <= newest - options_.retention_ms) {
        doomed.push_back(b);
      }
    }
  }
  if (options_.retention_bytes > 0) {
    uint64_t total = 0;
    const std::string dir = options_.dir + "/wal";
    if (auto names = env_->GetChildren(dir); names.ok()) {
      for (const std::string& n : *names) {
        if (auto size = env_->GetFileSize(dir + "/" + n); size.ok())
          total += *size;
      }
    }
    for (const auto& b : blocks) total += b->size_bytes();
    // blocks are sorted oldest first
    for (const auto& b : blocks) {
      if (total <= options_.retention_bytes) break;
      if (std::find(doomed.begin(), doomed.end(), b) == doomed.end()) {
        doomed.push_back(b);
      }
      total -= b->size_bytes();
    }
  }
  if (doomed.empty()) return absl::OkStatus();
  {
    absl::MutexLock l(&blocks_mu_);
    std::vector<std::shared_ptr<Block>> next;
    for (auto& b : blocks_) {
      if (std::find(doomed.begin(), doomed.end(), b) == doomed.end()) {
        next.push_back(b);
      }
    }
    blocks_ = std::move(next);
  }
  for (const auto& b : doomed) {
    PANTAU_LOG(kInfo, "block deleted by retention",
               {{"ulid", b->meta().ulid}, {"maxt", b->meta().max_time}});
    PANTAU_RETURN_IF_ERROR(DeleteBlock(b->meta().ulid));
  }
  absl::MutexLock l(&stats_mu_);
  stats_.blocks_deleted_retention += doomed.size();
  return absl::OkStatus();
}

}  // namespace pantau::metrics::tsdb
