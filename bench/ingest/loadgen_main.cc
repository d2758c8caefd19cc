// ingest_loadgen: the ingest benchmark's load generator.
//
//   ingest_loadgen --url=http://127.0.0.1:9090/api/v1/write
//       --series=100000 --scrapes=60 --senders=4 --batch=2000
//       sends remote_write (snappy protobuf v1) with every series sampled
//       once per simulated scrape, `--interval` (15 s) of simulated time
//       apart, as fast as the receiver accepts; prints one result line:
//       samples=.. seconds=.. samples_per_sec=.. requests=.. errors=..
//   ingest_loadgen --openmetrics=FILE --series=2000 --scrapes=480
//       writes the same kind of data as an OpenMetrics file with
//       timestamps (for promtool tsdb create-blocks-from / pantau import).
//
// Senders own disjoint shards of the series, and all of them finish a
// scrape before any starts the next, so every series' samples arrive in
// order and the servers' head windows see one moving time.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/clock.h"
#include "base/compression.h"
#include "net/http_client.h"
#include "prometheus/remote.pb.h"
#include "workload.h"

namespace {

using pantau::bench::BuildCatalog;
using pantau::bench::Kind;
using pantau::bench::SeriesSpec;
using pantau::bench::SeriesState;

struct Flags {
  std::string url;
  std::string openmetrics;
  int64_t series = 100000;
  int scrapes = 60;
  int senders = 4;
  int batch = 2000;
  double interval = 15;
  int64_t start_ms = 0;  // 0: aligned so the last scrape is about now
};

std::string FormatValue(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip
  return std::string(buf, r.ptr);
}

int WriteOpenMetrics(const Flags& f, const std::vector<SeriesSpec>& cat,
                     int64_t start_ms) {
  FILE* out = std::fopen(f.openmetrics.c_str(), "w");
  if (out == nullptr) {
    std::perror(f.openmetrics.c_str());
    return 1;
  }
  const int64_t step = static_cast<int64_t>(f.interval * 1000);
  // Families must be contiguous in OpenMetrics: group series by family.
  std::vector<size_t> order(cat.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return cat[a].family < cat[b].family;
  });
  std::string prev_family;
  int64_t samples = 0;
  for (size_t i : order) {
    const SeriesSpec& s = cat[i];
    if (s.family != prev_family) {
      const char* type = s.kind == Kind::kGauge    ? "gauge"
                         : s.kind == Kind::kBucket ? "histogram"
                                                   : "counter";
      if (s.family == "http_request_duration_seconds") type = "histogram";
      std::fprintf(out, "# TYPE %s %s\n", s.family.c_str(), type);
      prev_family = s.family;
    }
    std::string name, labels;
    for (const auto& [k, v] : s.labels) {
      if (k == "__name__") {
        name = v;
        continue;
      }
      labels += labels.empty() ? "{" : ",";
      labels += k + "=\"" + v + "\"";
    }
    if (!labels.empty()) labels += "}";
    const std::string prefix = name + labels + " ";
    SeriesState st(s, i);
    for (int r = 0; r < f.scrapes; ++r) {
      const int64_t t = start_ms + r * step;
      // OpenMetrics timestamps are seconds; ms precision is exact here.
      std::fprintf(out, "%s%s %lld.%03lld\n", prefix.c_str(),
                   FormatValue(st.Next(f.interval)).c_str(),
                   static_cast<long long>(t / 1000),
                   static_cast<long long>(t % 1000));
      ++samples;
    }
  }
  std::fprintf(out, "# EOF\n");
  std::fclose(out);
  std::printf("samples=%lld series=%zu\n", static_cast<long long>(samples),
              cat.size());
  return 0;
}

int Send(const Flags& f, const std::vector<SeriesSpec>& cat, int64_t start_ms) {
  const int64_t step = static_cast<int64_t>(f.interval * 1000);
  std::barrier sync(f.senders);
  std::atomic<int64_t> samples{0}, requests{0}, errors{0};
  std::atomic<bool> first_error_printed{false};
  pantau::net::HttpClient::Options copts;
  copts.max_idle_per_host = f.senders;
  copts.accept_gzip = false;
  pantau::net::HttpClient client(copts);
  const absl::Time begin = absl::Now();
  auto sender = [&](int k) {
    std::vector<size_t> mine;
    for (size_t i = k; i < cat.size(); i += f.senders) mine.push_back(i);
    std::vector<SeriesState> states;
    states.reserve(mine.size());
    for (size_t i : mine) states.emplace_back(cat[i], i);
    prometheus::WriteRequest req;
    std::string raw;
    auto flush = [&]() {
      if (req.timeseries_size() == 0) return;
      int n = req.timeseries_size();
      req.SerializeToString(&raw);
      req.Clear();
      auto body = pantau::base::Compress(pantau::base::Codec::kSnappy, raw);
      pantau::net::HttpClientRequest hr;
      hr.method = "POST";
      hr.url = f.url;
      hr.headers.Set("Content-Type", "application/x-protobuf");
      hr.headers.Set("Content-Encoding", "snappy");
      hr.headers.Set("X-Prometheus-Remote-Write-Version", "0.1.0");
      hr.body = std::move(*body);
      auto resp = client.Do(hr);
      requests.fetch_add(1);
      if (!resp.ok() || resp->status / 100 != 2) {
        errors.fetch_add(1);
        if (!first_error_printed.exchange(true)) {
          std::fprintf(stderr, "first error: %s\n",
                       resp.ok() ? (std::to_string(resp->status) + " " +
                                    resp->body.substr(0, 300))
                                       .c_str()
                                 : resp.status().ToString().c_str());
        }
      } else {
        samples.fetch_add(n);
      }
    };
    for (int r = 0; r < f.scrapes; ++r) {
      const int64_t t = start_ms + r * step;
      for (size_t j = 0; j < mine.size(); ++j) {
        prometheus::TimeSeries* ts = req.add_timeseries();
        for (const auto& [k, v] : cat[mine[j]].labels) {
          prometheus::Label* l = ts->add_labels();
          l->set_name(k);
          l->set_value(v);
        }
        prometheus::Sample* s = ts->add_samples();
        s->set_timestamp(t);
        s->set_value(states[j].Next(f.interval));
        if (req.timeseries_size() >= f.batch) flush();
      }
      flush();
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < f.senders; ++k) threads.emplace_back(sender, k);
  for (auto& t : threads) t.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - begin);
  std::printf(
      "samples=%lld seconds=%.3f samples_per_sec=%.0f requests=%lld "
      "errors=%lld series=%zu\n",
      static_cast<long long>(samples.load()), secs, samples.load() / secs,
      static_cast<long long>(requests.load()),
      static_cast<long long>(errors.load()), cat.size());
  return errors.load() == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"Remote-write load generator for the ingest benchmark."};
  app.add_option("--url", f.url, "remote_write URL");
  app.add_option("--openmetrics", f.openmetrics,
                 "write an OpenMetrics file instead of sending");
  app.add_option("--series", f.series, "active series")->capture_default_str();
  app.add_option("--scrapes", f.scrapes, "samples per series")
      ->capture_default_str();
  app.add_option("--senders", f.senders, "concurrent senders")
      ->capture_default_str();
  app.add_option("--batch", f.batch, "samples per request")
      ->capture_default_str();
  app.add_option("--interval", f.interval, "simulated scrape interval (s)")
      ->capture_default_str();
  app.add_option("--start-ms", f.start_ms,
                 "first timestamp (ms); default: the last scrape is now");
  CLI11_PARSE(app, argc, argv);
  if (f.url.empty() == f.openmetrics.empty()) {
    std::fprintf(stderr, "give exactly one of --url and --openmetrics\n");
    return 1;
  }
  const std::vector<SeriesSpec> cat = BuildCatalog(f.series);
  int64_t start = f.start_ms;
  if (start == 0) {
    const int64_t step = static_cast<int64_t>(f.interval * 1000);
    start = absl::ToUnixMillis(absl::Now()) - (f.scrapes - 1) * step;
    start -= start % step;
  }
  return f.openmetrics.empty() ? Send(f, cat, start)
                               : WriteOpenMetrics(f, cat, start);
}
