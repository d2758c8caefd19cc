#include "metrics/ingest/remote_write.h"

#include <cmath>

#include "base/compression.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/ingest/metadata_store.h"
#include "metrics/scrape/fake_appendable.h"
#include "prometheus/remote.pb.h"

namespace pantau::metrics::ingest {
namespace {

using base::Labels;
using ::testing::HasSubstr;

void AddSeries(prometheus::WriteRequest* req,
               std::vector<std::pair<std::string, std::string>> labels,
               std::vector<std::pair<int64_t, double>> samples) {
  prometheus::TimeSeries* ts = req->add_timeseries();
  for (auto& [n, v] : labels) {
    prometheus::Label* l = ts->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (auto [t, v] : samples) {
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
}

std::string Body(const prometheus::WriteRequest& req) {
  return *base::Compress(base::Codec::kSnappy, req.SerializeAsString());
}

class RemoteWriteTest : public ::testing::Test {
 protected:
  testing::FakeAppendable store_;
  IngestCounters counters_;
  RemoteWriteReceiver rx_{&store_, &counters_};
};

TEST_F(RemoteWriteTest, StoresSamplesAndExemplars) {
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "up"}, {"job", "a"}}, {{1000, 1}, {2000, 0}});
  AddSeries(&req, {{"__name__", "x"}, {"z", "1"}, {"a", "2"}},  // unsorted
            {{1000, NAN}, {2000, INFINITY}, {3000, -INFINITY}});
  prometheus::Exemplar* e = req.mutable_timeseries(0)->add_exemplars();
  e->set_value(0.5);
  e->set_timestamp(1500);
  prometheus::Label* el = e->add_labels();
  el->set_name("trace_id");
  el->set_value("abc");

  PushResult r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 204) << r.message;
  EXPECT_EQ(r.samples_accepted, 5u);
  EXPECT_EQ(counters_.samples_accepted.load(), 5u);
  auto up = store_.Series(Labels::Of({{"__name__", "up"}, {"job", "a"}}));
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[1].t, 2000);
  auto x =
      store_.Series(Labels::Of({{"__name__", "x"}, {"a", "2"}, {"z", "1"}}));
  ASSERT_EQ(x.size(), 3u);
  EXPECT_TRUE(std::isnan(x[0].v));
  EXPECT_EQ(x[1].v, INFINITY);
  EXPECT_EQ(x[2].v, -INFINITY);
  ASSERT_EQ(store_.exemplars().size(), 1u);
  EXPECT_EQ(store_.exemplars()[0].exemplar.labels.Get("trace_id"), "abc");
}

TEST_F(RemoteWriteTest, CorruptSnappyIs400AndCounted) {
  PushResult r = rx_.Handle("definitely not snappy \xff\xff\xff", "snappy");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.message, HasSubstr("snappy"));
  EXPECT_EQ(counters_.Rejected(RejectReason::kCorruptCompression), 1u);
  EXPECT_TRUE(store_.samples().empty());
}

TEST_F(RemoteWriteTest, BadProtobufIs400) {
  std::string body =
      *base::Compress(base::Codec::kSnappy, "\x0a\xff\xff\xff\xff\x0f");
  PushResult r = rx_.Handle(body, "snappy");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(counters_.Rejected(RejectReason::kBadProtobuf), 1u);
}

TEST_F(RemoteWriteTest, OversizedBodyIs413) {
  IngestCounters c;
  RemoteWriteReceiver small(&store_, &c, {.max_body_bytes = 100});
  PushResult r = small.Handle(std::string(101, 'x'), "snappy");
  EXPECT_EQ(r.http_status, 413);
  // A small body that decompresses past the limit (a "zip bomb").
  RemoteWriteReceiver bomb(&store_, &c, {.max_decompressed_bytes = 1000});
  std::string big =
      *base::Compress(base::Codec::kSnappy, std::string(1 << 20, 0));
  r = bomb.Handle(big, "snappy");
  EXPECT_EQ(r.http_status, 413);
  EXPECT_EQ(c.Rejected(RejectReason::kTooLarge), 2u);
}

TEST_F(RemoteWriteTest, InvalidLabelsRejectedRestStored) {
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "ok"}}, {{1000, 1}});
  AddSeries(&req, {{"__name__", "bad-name"}}, {{1000, 1}});
  AddSeries(&req, {{"__name__", "m"}, {"l", "\xff\xfe"}}, {{1000, 1}});
  AddSeries(&req, {{"__name__", "m"}, {"a", "1"}, {"a", "2"}}, {{1000, 1}});
  AddSeries(&req, {{"__name__", "m"}, {"0a", "1"}}, {{1000, 1}});
  AddSeries(&req, {}, {{1000, 1}});
  PushResult r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.message, HasSubstr("5 of 6 samples rejected"));
  EXPECT_THAT(r.message, HasSubstr("invalid metric name \"bad-name\""));
  EXPECT_EQ(counters_.Rejected(RejectReason::kInvalidLabels), 5u);
  // The good series is stored and committed.
  EXPECT_EQ(store_.Series(Labels::Of({{"__name__", "ok"}})).size(), 1u);
}

TEST_F(RemoteWriteTest, OutOfOrderAndDuplicatesAre400ButKeepTheRest) {
  prometheus::WriteRequest first;
  AddSeries(&first, {{"__name__", "m"}}, {{2000, 1}});
  ASSERT_EQ(rx_.Handle(Body(first), "snappy").http_status, 204);

  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "m"}},
            {{1000, 1},    // out of order
             {2000, 5},    // duplicate timestamp, other value
             {2000, 1},    // the same sample again: fine
             {3000, 3}});  // new
  PushResult r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.message, HasSubstr("out of order"));
  EXPECT_EQ(counters_.Rejected(RejectReason::kOutOfOrder), 1u);
  EXPECT_EQ(counters_.Rejected(RejectReason::kDuplicate), 1u);
  auto m = store_.Series(Labels::Of({{"__name__", "m"}}));
  ASSERT_EQ(m.back().t, 3000);
}

TEST_F(RemoteWriteTest, StorageFailureIs500AndRolledBack) {
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "m"}}, {{1000, 1}});
  store_.FailAppends(absl::UnavailableError("disk full"));
  PushResult r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 500);
  EXPECT_EQ(store_.rollbacks(), 1);
  store_.FailAppends(absl::OkStatus());
  store_.FailCommits(absl::DataLossError("fsync failed"));
  r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 500);
  EXPECT_TRUE(store_.samples().empty());
  EXPECT_EQ(counters_.Rejected(RejectReason::kStorage), 2u);
}

TEST_F(RemoteWriteTest, NativeHistogramsRejectedAsUnsupported) {
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "h"}}, {});
  req.mutable_timeseries(0)->add_histograms()->set_count_int(3);
  PushResult r = rx_.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(counters_.Rejected(RejectReason::kUnsupported), 1u);
}

TEST_F(RemoteWriteTest, UnknownEncodingIs400) {
  EXPECT_EQ(rx_.Handle("x", "gzip").http_status, 400);
}

TEST_F(RemoteWriteTest, AlreadyDecodedBodyAndMissingHeader) {
  // pantau::net's server undoes Content-Encoding before the handler runs.
  prometheus::WriteRequest req;
  AddSeries(&req, {{"__name__", "a"}}, {{1000, 1}});
  EXPECT_EQ(rx_.Handle(req.SerializeAsString(), "identity").http_status, 204);
  // A sender that omits Content-Encoding but snappy-compresses anyway.
  prometheus::WriteRequest req2;
  AddSeries(&req2, {{"__name__", "a"}}, {{2000, 1}});
  EXPECT_EQ(rx_.Handle(Body(req2), "").http_status, 204);
  EXPECT_EQ(store_.Series(Labels::Of({{"__name__", "a"}})).size(), 2u);
  PushResult r = rx_.Handle("\xff\xff garbage", "");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(counters_.Rejected(RejectReason::kBadProtobuf), 1u);
}

TEST(RemoteWriteMetadata, RecordsMetadataAndSkipsBadEntries) {
  testing::FakeAppendable store;
  IngestCounters counters;
  MetadataStore metadata;
  RemoteWriteOptions opts;
  opts.metadata = &metadata;
  RemoteWriteReceiver rx(&store, &counters, opts);
  // Prometheus sends metadata in requests of its own, without samples.
  prometheus::WriteRequest req;
  prometheus::MetricMetadata* m = req.add_metadata();
  m->set_type(prometheus::MetricMetadata::COUNTER);
  m->set_metric_family_name("http_requests_total");
  m->set_help("Requests served.");
  m = req.add_metadata();
  m->set_type(prometheus::MetricMetadata::HISTOGRAM);
  m->set_metric_family_name("rpc_duration_seconds");
  m->set_unit("seconds");
  m = req.add_metadata();
  m->set_metric_family_name("bad name");  // skipped, not an error
  PushResult r = rx.Handle(Body(req), "snappy");
  EXPECT_EQ(r.http_status, 204) << r.message;
  auto all = metadata.Get("");
  EXPECT_EQ(all.size(), 2u);
  auto one = metadata.Get("http_requests_total");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].second, (PushedMetadata{"counter", "Requests served.", ""}));
  EXPECT_EQ(metadata.Get("rpc_duration_seconds")[0].second.type, "histogram");
  EXPECT_EQ(metadata.Get("rpc_duration_seconds")[0].second.unit, "seconds");
  EXPECT_TRUE(metadata.Get("missing").empty());

  // A truncated metadata entry makes the body malformed, as protobuf says.
  std::string raw = req.SerializeAsString();
  raw.push_back(0x1a);  // field 3, length-delimited
  raw.push_back(0x05);  // 5 bytes that are not there
  EXPECT_EQ(rx.Handle(*base::Compress(base::Codec::kSnappy, raw), "snappy")
                .http_status,
            400);
}

TEST(RemoteWriteMetadata, StoreIsBounded) {
  MetadataStore metadata(2);
  metadata.Set("a", {"counter", "", ""});
  metadata.Set("b", {"gauge", "", ""});
  metadata.Set("c", {"gauge", "", ""});             // over the limit: dropped
  metadata.Set("a", {"gauge", "now a gauge", ""});  // updates are fine
  EXPECT_EQ(metadata.Get("").size(), 2u);
  EXPECT_EQ(metadata.dropped(), 1u);
  EXPECT_EQ(metadata.Get("a")[0].second.help, "now a gauge");
}

}  // namespace
}  // namespace pantau::metrics::ingest
