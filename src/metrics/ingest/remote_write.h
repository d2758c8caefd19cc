// The Prometheus remote_write v1 receiver's logic, apart from HTTP: the
// server's handler for POST /api/v1/write passes the body here and answers
// with the returned status code and message.
//
//   body (snappy block) -> prometheus.WriteRequest -> Appender -> Commit
//
// Status codes are the ones senders act on (Prometheus retries 5xx and
// drops 4xx):
//   204  everything was stored;
//   400  bad data: corrupt snappy, bad protobuf, invalid labels, out of
//        order / duplicate / too old samples, limits, native histograms.
//        The valid rest of the request IS stored and committed, so nothing
//        good is lost and a retry could not succeed anyway;
//   413  body or decompressed body over the configured limit;
//   500  storage failure (Append error other than the above, or Commit):
//        nothing from the request is kept (Rollback), so the retry is clean.
//
// Thread safety: Handle may be called concurrently; the counters are
// atomics.
#ifndef PANTAU_METRICS_INGEST_REMOTE_WRITE_H_
#define PANTAU_METRICS_INGEST_REMOTE_WRITE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/ingest/ingest_counters.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::ingest {

class MetadataStore;

struct PushResult {
  int http_status = 204;
  std::string message;  // the response body for errors; empty on success
  uint64_t samples_accepted = 0;
  uint64_t samples_rejected = 0;
  uint64_t exemplars_accepted = 0;
};

struct RemoteWriteOptions {
  // Limits against hostile bodies. Prometheus sends at most a few MB.
  size_t max_body_bytes = 32 << 20;
  size_t max_decompressed_bytes = 128 << 20;
  // Where the request's metric metadata goes; null ignores it.
  MetadataStore* metadata = nullptr;
};

class RemoteWriteReceiver {
 public:
  // `storage` and `counters` must outlive the receiver.
  RemoteWriteReceiver(Appendable* storage, IngestCounters* counters,
                      RemoteWriteOptions options = {});

  // `content_encoding` describes `body`: "snappy" (as senders send it), or
  // "" / "identity" when the HTTP layer has already undone the encoding
  // (pantau::net's server does, and drops the header). An unencoded body
  // that does not parse is also tried as snappy, for senders that omit
  // the header. When the HTTP layer itself rejects a corrupt body, it
  // should count it with counters->Reject(kCorruptCompression).
  PushResult Handle(std::string_view body, std::string_view content_encoding);

 private:
  Appendable* storage_;
  IngestCounters* counters_;
  RemoteWriteOptions options_;
};

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_REMOTE_WRITE_H_
