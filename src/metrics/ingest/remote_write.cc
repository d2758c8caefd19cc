#include "metrics/ingest/remote_write.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "base/log.h"
#include "base/strings.h"
#include "metrics/ingest/metadata_store.h"
#include "metrics/ingest/series_labels.h"
#include "metrics/ingest/write_request_reader.h"
#include "metrics/scrape/exposition_parser.h"

namespace pantau::metrics::ingest {

using base::Sv;

RemoteWriteReceiver::RemoteWriteReceiver(Appendable* storage,
                                         IngestCounters* counters,
                                         RemoteWriteOptions options)
    : storage_(storage), counters_(counters), options_(options) {}

namespace {

PushResult Fail(IngestCounters* c, RejectReason r, int status,
                std::string message) {
  c->Reject(r);
  PushResult out;
  out.http_status = status;
  out.message = std::move(message);
  return out;
}

}  // namespace

PushResult RemoteWriteReceiver::Handle(std::string_view body,
                                       std::string_view content_encoding) {
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
  if (body.size() > options_.max_body_bytes) {
    return Fail(
        counters_, RejectReason::kTooLarge, 413,
        absl::StrCat("request body of ", body.size(),
                     " bytes exceeds the limit of ", options_.max_body_bytes));
  }
  const bool snappy = content_encoding == "snappy";
  if (!snappy && !content_encoding.empty() && content_encoding != "identity") {
    return Fail(
        counters_, RejectReason::kCorruptCompression, 400,
        absl::StrCat("unsupported Content-Encoding \"", Sv(content_encoding),
                     "\"; remote_write bodies are snappy"));
  }
  std::string raw;
  std::string_view request = body;
  if (snappy || !WriteRequestReader::LooksLikeWriteRequest(body)) {
    absl::StatusOr<std::string> d = base::Decompress(
        base::Codec::kSnappy, body, options_.max_decompressed_bytes);
    if (!d.ok()) {
      if (d.status().code() == absl::StatusCode::kResourceExhausted) {
        return Fail(counters_, RejectReason::kTooLarge, 413,
                    std::string(d.status().message()));
      }
      if (snappy) {
        return Fail(
            counters_, RejectReason::kCorruptCompression, 400,
            absl::StrCat("corrupt snappy body: ", d.status().message()));
      }
      return Fail(counters_, RejectReason::kBadProtobuf, 400,
                  "body is neither a prometheus.WriteRequest protobuf nor "
                  "a snappy-compressed one");
    }
    raw = *std::move(d);
    request = raw;
  }

  PushResult result;
  std::string first_error;
  auto note = [&](RejectReason r, uint64_t n, std::string_view msg) {
    counters_->Reject(r, n);
    result.samples_rejected += n;
    if (first_error.empty()) first_error = std::string(msg);
  };

  std::unique_ptr<Appender> app = storage_->NewAppender();
  WriteRequestReader reader(request);
  WriteRequestReader::Series ts;
  while (reader.Next(&ts)) {
    absl::StatusOr<base::Labels> labels = ValidatedLabels(ts.labels);
    if (!labels.ok() || labels->empty()) {
      std::string msg = labels.ok() ? std::string("series without labels")
                                    : std::string(labels.status().message());
      note(RejectReason::kInvalidLabels, ts.samples.size() + ts.num_histograms,
           msg);
      continue;
    }
    if (ts.num_histograms > 0) {
      note(RejectReason::kUnsupported, ts.num_histograms,
           absl::StrCat("native histograms are not supported (series ",
                        labels->ToString(), ")"));
    }
    SeriesRef ref = 0;
    for (const WriteRequestReader::SampleView& s : ts.samples) {
      absl::StatusOr<SeriesRef> r =
          app->Append(ref, *labels, s.timestamp, s.value);
      if (r.ok()) {
        ref = *r;
        ++result.samples_accepted;
        continue;
      }
      RejectReason reason = ClassifyAppendError(r.status());
      if (!IsClientError(reason)) {
        (void)app->Rollback();
        counters_->Reject(RejectReason::kStorage, ts.samples.size());
        PANTAU_LOG(kError, "remote_write append failed", {{"err", r.status()}});
        PushResult fail;
        fail.http_status = 500;
        fail.message = absl::StrCat("storage error: ", r.status().message());
        return fail;
      }
      note(reason, 1,
           absl::StrCat(r.status().message(), " (series ", labels->ToString(),
                        ")"));
    }
    for (size_t i = 0; i < ts.num_exemplars; ++i) {
      const WriteRequestReader::ExemplarView& e = ts.exemplars[i];
      absl::StatusOr<base::Labels> el = ValidatedLabels(e.labels);
      if (!el.ok()) {
        counters_->exemplars_rejected.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      Exemplar ex;
      ex.labels = *std::move(el);
      ex.value = e.value;
      ex.t = e.timestamp;
      // Exemplar problems (out of order, storage without exemplar support)
      // never fail the request, as in Prometheus.
      if (app->AppendExemplar(ref, *labels, ex).ok()) {
        ++result.exemplars_accepted;
      } else {
        counters_->exemplars_rejected.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (!reader.status().ok()) {
    // A malformed body is refused whole, as a protobuf parse failure is.
    (void)app->Rollback();
    return Fail(counters_, RejectReason::kBadProtobuf, 400,
                absl::StrCat("body is not a valid prometheus.WriteRequest "
                             "protobuf: ",
                             reader.status().message()));
  }
  absl::Status commit = app->Commit();
  if (!commit.ok()) {
    counters_->Reject(RejectReason::kStorage, result.samples_accepted);
    PANTAU_LOG(kError, "remote_write commit failed", {{"err", commit}});
    PushResult fail;
    fail.http_status = 500;
    fail.message = absl::StrCat("storage error: ", commit.message());
    return fail;
  }
  if (options_.metadata != nullptr) {
    // Metadata is advisory: an entry with a bad name or text is skipped,
    // never a reason to refuse the samples.
    for (const WriteRequestReader::MetadataView& m : reader.metadata()) {
      if (!scrape::IsValidMetricName(m.family) ||
          !scrape::IsValidUtf8(m.help) || !scrape::IsValidUtf8(m.unit)) {
        continue;
      }
      options_.metadata->Set(
          m.family, PushedMetadata{std::string(RemoteWriteTypeName(m.type)),
                                   std::string(m.help), std::string(m.unit)});
    }
  }
  counters_->samples_accepted.fetch_add(result.samples_accepted,
                                        std::memory_order_relaxed);
  counters_->exemplars_accepted.fetch_add(result.exemplars_accepted,
                                          std::memory_order_relaxed);
  if (result.samples_rejected > 0) {
    result.http_status = 400;
    result.message = absl::StrCat(
        result.samples_rejected, " of ",
        result.samples_accepted + result.samples_rejected,
        " samples rejected (the rest were stored); first error: ", first_error);
  }
  return result;
}

}  // namespace pantau::metrics::ingest
