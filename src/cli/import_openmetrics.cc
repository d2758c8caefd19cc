#include "cli/import_openmetrics.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "base/env.h"
#include "base/labels.h"
#include "base/status_macros.h"
#include "metrics/scrape/exposition_parser.h"
#include "metrics/tsdb/db.h"

namespace pantau::cli {
namespace {

namespace fs = std::filesystem;
using metrics::scrape::ExpositionEntry;
using metrics::scrape::ExpositionFormat;
using metrics::scrape::ExpositionParser;

// Samples per WAL commit: big enough to amortise the commit, small enough
// that the batch buffers stay small.
constexpr int kCommitEvery = 20000;

// A bar redrawn in place on a terminal; nothing until Finish otherwise.
class Progress {
 public:
  Progress(FILE* out, size_t total_bytes)
      : out_(out),
        tty_(out != nullptr && isatty(fileno(out))),
        total_(std::max<size_t>(total_bytes, 1)),
        start_(absl::Now()) {}

  void Update(size_t done_bytes, uint64_t samples) {
    if (!tty_) return;
    const int pct = static_cast<int>(done_bytes * 100 / total_);
    if (pct == last_pct_) return;
    last_pct_ = pct;
    constexpr int kWidth = 40;
    const int fill = pct * kWidth / 100;
    absl::FPrintF(out_, "\r[%s%s] %3d%%  %d samples", std::string(fill, '#'),
                  std::string(kWidth - fill, ' '), pct, samples);
    fflush(out_);
  }

  void Finish(const ImportResult& r) {
    if (out_ == nullptr) return;
    if (tty_) absl::FPrintF(out_, "\n");
    const double secs = absl::ToDoubleSeconds(absl::Now() - start_);
    absl::FPrintF(out_,
                  "imported %d samples of %d series into %d blocks "
                  "(%d..%d ms) in %.1f s\n",
                  r.samples, r.series, r.blocks, r.min_time, r.max_time, secs);
  }

 private:
  FILE* out_;
  bool tty_;
  size_t total_;
  absl::Time start_;
  int last_pct_ = -1;
};

// A block directory's name: a 26-character ULID.
bool IsBlockDirName(std::string_view name) {
  return name.size() == 26 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
         });
}

absl::Status ParseInto(std::string_view body, metrics::tsdb::DB* db,
                       Progress* progress, ImportResult* result) {
  ExpositionParser parser(body, ExpositionFormat::kOpenMetrics);
  // Series text -> ref, so each series' labels are built once.
  absl::flat_hash_map<std::string, metrics::SeriesRef> refs;
  std::unique_ptr<metrics::Appender> app = db->NewAppender();
  int pending = 0;
  base::LabelsBuilder builder;
  size_t lines_since_update = 0;
  while (true) {
    PANTAU_ASSIGN_OR_RETURN(ExpositionEntry e, parser.Next());
    if (e == ExpositionEntry::kEof) break;
    if (e != ExpositionEntry::kSeries) continue;
    if (!parser.timestamp_ms().has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", parser.line(),
                       ": sample without a timestamp (import needs one on "
                       "every sample)"));
    }
    const int64_t t = *parser.timestamp_ms();
    // Debian's Abseil has its own string_view, not std's.
    const absl::string_view key(parser.series_text().data(),
                                parser.series_text().size());
    auto it = refs.find(key);
    if (it == refs.end()) {
      it = refs.emplace(std::string(key), 0).first;
    }
    metrics::SeriesRef& ref = it->second;
    absl::StatusOr<metrics::SeriesRef> got;
    if (ref != 0) {
      got = app->Append(ref, base::Labels(), t, parser.value());
    } else {
      builder.Reset(base::Labels());
      builder.Set(base::kMetricName, parser.metric_name());
      for (const base::LabelView& l : parser.labels()) {
        builder.Set(l.name, l.value);
      }
      got = app->Append(0, builder.Build(), t, parser.value());
    }
    if (!got.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", parser.line(), ": ", got.status().message()));
    }
    ref = *got;
    if (result->samples == 0) {
      result->min_time = result->max_time = t;
    } else {
      result->min_time = std::min(result->min_time, t);
      result->max_time = std::max(result->max_time, t);
    }
    ++result->samples;
    if (++pending == kCommitEvery) {
      PANTAU_RETURN_IF_ERROR(app->Commit());
      app = db->NewAppender();
      pending = 0;
    }
    if (++lines_since_update == 65536) {
      lines_since_update = 0;
      // series_text() views the body, so its end is how far the parse got.
      progress->Update(parser.series_text().data() - body.data(),
                       result->samples);
    }
  }
  PANTAU_RETURN_IF_ERROR(app->Commit());
  progress->Update(body.size(), result->samples);
  result->series = refs.size();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportResult> ImportOpenMetrics(const ImportOptions& options) {
  base::Env* env = base::Env::Default();
  PANTAU_ASSIGN_OR_RETURN(std::string body,
                          env->ReadFileToString(options.file));
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("creating ", options.out_dir, ": ", ec.message()));
  }
  const std::string scratch =
      absl::StrCat(options.out_dir, "/.import-", getpid());
  fs::remove_all(scratch, ec);

  metrics::tsdb::Options db_options;
  db_options.dir = scratch;
  db_options.block_duration = options.block_duration;
  // The scratch DB is thrown away: its WAL needs no fsync, its blocks no
  // retention, and no background maintenance may race the final cut.
  db_options.wal.fsync = metrics::tsdb::FsyncPolicy::kNever;
  db_options.retention_ms = 0;
  db_options.snapshot_on_close = false;
  db_options.maintenance_interval = absl::ZeroDuration();

  ImportResult result;
  Progress progress(options.progress, body.size());
  absl::Status status = [&]() -> absl::Status {
    PANTAU_ASSIGN_OR_RETURN(std::unique_ptr<metrics::tsdb::DB> db,
                            metrics::tsdb::DB::Open(db_options));
    absl::Status s = ParseInto(body, db.get(), &progress, &result);
    if (s.ok()) s = db->CutBlocks(/*all=*/true);
    absl::Status c = db->Close();
    PANTAU_RETURN_IF_ERROR(s);
    PANTAU_RETURN_IF_ERROR(c);
    for (const auto& entry : fs::directory_iterator(scratch)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory() || !IsBlockDirName(name)) continue;
      fs::rename(entry.path(), fs::path(options.out_dir) / name, ec);
      if (ec) {
        return absl::InternalError(absl::StrCat("moving block ", name, " into ",
                                                options.out_dir, ": ",
                                                ec.message()));
      }
      ++result.blocks;
    }
    return absl::OkStatus();
  }();
  fs::remove_all(scratch, ec);
  PANTAU_RETURN_IF_ERROR(status);
  progress.Finish(result);
  return result;
}

}  // namespace pantau::cli
