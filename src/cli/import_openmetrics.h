// `pantau import openmetrics FILE OUTDIR`: builds TSDB blocks from an
// OpenMetrics text file, as `promtool tsdb create-blocks-from openmetrics`
// does. OUTDIR takes the layout of a pantau data dir's metrics folder
// (<storage.path>/metrics), so `pantau serve --storage.path=P` over
// OUTDIR=P/metrics loads the blocks at start-up.
//
// Every sample needs an explicit timestamp (promtool requires the same);
// samples of one series must be in time order. Exemplars are ignored.
// The samples go through a scratch DB in OUTDIR/.import-<pid> (head, then
// blocks cut on 2 h boundaries); only the finished blocks are moved into
// OUTDIR, so a failed import leaves OUTDIR's existing blocks as they were.
//
// Thread safety: a function; run one import per OUTDIR at a time.
#ifndef PANTAU_CLI_IMPORT_OPENMETRICS_H_
#define PANTAU_CLI_IMPORT_OPENMETRICS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pantau::cli {

struct ImportOptions {
  std::string file;
  std::string out_dir;
  // Width of the blocks written (ms); Prometheus's 2 h by default.
  int64_t block_duration = 2 * 3600 * 1000;
  // Progress output; nullptr for none. A bar when it is a terminal, one
  // summary line at the end otherwise.
  FILE* progress = nullptr;
};

struct ImportResult {
  uint64_t samples = 0;
  uint64_t series = 0;
  uint64_t blocks = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
};

// Errors: NOT_FOUND / INTERNAL for the file or OUTDIR, INVALID_ARGUMENT
// naming the line for a parse error, a sample without a timestamp, or a
// sample older than its series' previous one.
absl::StatusOr<ImportResult> ImportOpenMetrics(const ImportOptions& options);

}  // namespace pantau::cli

#endif  // PANTAU_CLI_IMPORT_OPENMETRICS_H_
