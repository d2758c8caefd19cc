// The exemplar log: an append-only file of checksummed exemplar records
// under <storage.path>/exemplars/, replayed into the ring on start. The
// format is in docs/format/exemplar-log.md.
//
// Thread safety: none; ExemplarStorage serialises access under its mutex.
#ifndef PANTAU_METRICS_EXEMPLAR_EXEMPLAR_LOG_H_
#define PANTAU_METRICS_EXEMPLAR_EXEMPLAR_LOG_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/labels.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::exemplar {

inline constexpr std::string_view kLogMagic = "PNTEXL1\n";
inline constexpr char kLogFileName[] = "exemplars.log";
// A record larger than this is corruption, not data: labels are capped at
// 128 characters for the exemplar and a series' labels are bounded by the
// ingest paths' own limits.
inline constexpr size_t kMaxRecordBytes = 1 << 20;

using LoggedExemplar = std::pair<base::Labels, Exemplar>;

// Appends one record for `e` of `series` to *out.
void EncodeRecord(const base::Labels& series, const Exemplar& e,
                  std::string* out);

// Decodes the records in `data` (the file after its magic) into *out and
// returns the length of the valid prefix; decoding stops at the first
// torn, oversized or corrupt record.
size_t DecodeRecords(std::string_view data, std::vector<LoggedExemplar>* out);

class ExemplarLog {
 public:
  // Opens (or creates) dir/exemplars.log and returns it with the exemplars
  // it holds, oldest first. A damaged tail is cut off (and logged); a file
  // that is not an exemplar log is an error.
  static absl::StatusOr<std::unique_ptr<ExemplarLog>> Open(
      const std::string& dir, std::vector<LoggedExemplar>* replayed);
  ~ExemplarLog();

  // Appends `count` encoded records with one write(2): once it returns they
  // survive a crash of the process (the OS has them).
  absl::Status Append(std::string_view records, size_t count);
  // Replaces the log by one holding exactly `items` (written to a temporary
  // file, fsynced, renamed over the old one).
  absl::Status Rewrite(const std::vector<LoggedExemplar>& items);
  // Records in the file now.
  size_t records() const { return records_; }

 private:
  ExemplarLog(std::string dir, int fd, size_t records);

  std::string dir_;
  int fd_;
  size_t records_;
};

}  // namespace pantau::metrics::exemplar

#endif  // PANTAU_METRICS_EXEMPLAR_EXEMPLAR_LOG_H_
