#include "metrics/ingest/write_request_reader.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "prometheus/remote.pb.h"

namespace pantau::metrics::ingest {
namespace {

// The hand-written reader must see exactly what libprotobuf encodes.
TEST(WriteRequestReader, MatchesLibprotobufEncoding) {
  std::mt19937_64 rng(42);
  prometheus::WriteRequest req;
  for (int i = 0; i < 200; ++i) {
    auto* ts = req.add_timeseries();
    int nl = static_cast<int>(rng() % 6);
    for (int j = 0; j < nl; ++j) {
      auto* l = ts->add_labels();
      l->set_name("l" + std::to_string(j));
      l->set_value(std::string(rng() % 40, 'a' + j));
    }
    int ns = static_cast<int>(rng() % 4);
    for (int j = 0; j < ns; ++j) {
      auto* s = ts->add_samples();
      s->set_timestamp(static_cast<int64_t>(rng()) >> (rng() % 60));
      s->set_value(j == 0 ? -0.0 : std::ldexp(double(rng() % 1000), j * 100));
    }
    if (i % 7 == 0) {
      auto* e = ts->add_exemplars();
      e->set_value(1.5);
      e->set_timestamp(-5);
      auto* el = e->add_labels();
      el->set_name("trace_id");
      el->set_value("abc");
    }
    if (i % 11 == 0) ts->add_histograms()->set_count_int(3);
  }
  auto* md = req.add_metadata();
  md->set_metric_family_name("x");
  md->set_help("h");
  std::string wire = req.SerializeAsString();
  EXPECT_TRUE(WriteRequestReader::LooksLikeWriteRequest(wire));

  WriteRequestReader r(wire);
  WriteRequestReader::Series s;
  int i = 0;
  while (r.Next(&s)) {
    ASSERT_LT(i, req.timeseries_size());
    const auto& want = req.timeseries(i);
    ASSERT_EQ(s.labels.size(), static_cast<size_t>(want.labels_size()));
    for (int j = 0; j < want.labels_size(); ++j) {
      EXPECT_EQ(s.labels[j].first, want.labels(j).name());
      EXPECT_EQ(s.labels[j].second, want.labels(j).value());
    }
    ASSERT_EQ(s.samples.size(), static_cast<size_t>(want.samples_size()));
    for (int j = 0; j < want.samples_size(); ++j) {
      EXPECT_EQ(s.samples[j].timestamp, want.samples(j).timestamp());
      EXPECT_EQ(std::signbit(s.samples[j].value),
                std::signbit(want.samples(j).value()));
      EXPECT_EQ(s.samples[j].value, want.samples(j).value());
    }
    ASSERT_EQ(s.num_exemplars, static_cast<size_t>(want.exemplars_size()));
    if (s.num_exemplars > 0) {
      EXPECT_EQ(s.exemplars[0].timestamp, -5);
      EXPECT_EQ(s.exemplars[0].value, 1.5);
      EXPECT_EQ(s.exemplars[0].labels[0].second, "abc");
    }
    EXPECT_EQ(s.num_histograms, static_cast<size_t>(want.histograms_size()));
    ++i;
  }
  EXPECT_TRUE(r.status().ok()) << r.status();
  EXPECT_EQ(i, req.timeseries_size());
}

TEST(WriteRequestReader, SkipsUnknownFieldsAndRejectsTruncation) {
  prometheus::WriteRequest req;
  auto* ts = req.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value("m");
  ts->add_samples()->set_value(1);
  std::string wire = req.SerializeAsString();
  // An unknown top-level varint field (number 9) before the series.
  std::string with_unknown = std::string("\x48\x05", 2) + wire;
  WriteRequestReader r(with_unknown);
  WriteRequestReader::Series s;
  ASSERT_TRUE(r.Next(&s));
  EXPECT_EQ(s.labels[0].second, "m");
  EXPECT_FALSE(r.Next(&s));
  EXPECT_TRUE(r.status().ok());
  EXPECT_FALSE(WriteRequestReader::LooksLikeWriteRequest(with_unknown));

  for (size_t cut = 1; cut < wire.size(); ++cut) {
    WriteRequestReader t(std::string_view(wire).substr(0, cut));
    while (t.Next(&s)) {
    }
    EXPECT_FALSE(t.status().ok()) << cut;
  }
  // Group wire types are not valid here.
  const std::string group("\x0b\x0c", 2);
  WriteRequestReader g(group);
  EXPECT_FALSE(g.Next(&s));
  EXPECT_FALSE(g.status().ok());
}

}  // namespace
}  // namespace pantau::metrics::ingest
