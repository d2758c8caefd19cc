#include "metrics/scrape/scrape_loop.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "metrics/scrape/exposition_parser.h"
#include "metrics/scrape/strings.h"

namespace pantau::metrics::scrape {
namespace {

// Prometheus 2.42's Accept header: OpenMetrics first, then text 0.0.4.
constexpr char kAccept[] =
    "application/openmetrics-text;version=1.0.0,application/"
    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
    "*;q=0.1";

// Per-sample append errors that are the data's fault (out of order,
// duplicate, too old, limits): counted and skipped, the scrape goes on.
bool IsSampleError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("unable to read secret file ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

std::string_view TargetHealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    default:
      return "unknown";
  }
}

ScrapeLoop::ScrapeLoop(Target target, ScrapeLoopOptions options,
                       Appendable* storage, Fetcher* fetcher,
                       base::Clock* clock)
    : target_(std::move(target)),
      options_(std::move(options)),
      storage_(storage),
      fetcher_(fetcher),
      clock_(clock) {
  public_labels_ = target_.PublicLabels();
  offset_seed_ = target_.labels.Hash();
  status_.job = options_.job;
  status_.scrape_url = target_.url;
  status_.labels = public_labels_;
  status_.discovered_labels = target_.discovered_labels;
  status_.interval = target_.interval;
  status_.timeout = target_.timeout;
}

absl::Time ScrapeLoop::NextScrapeTime(absl::Time now) const {
  int64_t interval = absl::ToInt64Nanoseconds(target_.interval);
  if (interval <= 0) return now;
  int64_t n = absl::ToUnixNanos(now);
  int64_t offset = static_cast<int64_t>(offset_seed_ % uint64_t(interval));
  int64_t base = n - (((n % interval) + interval) % interval) + offset;
  if (base < n) base += interval;
  return absl::FromUnixNanos(base);
}

TargetStatus ScrapeLoop::Status() const {
  absl::MutexLock l(&mu_);
  return status_;
}

absl::StatusOr<FetchRequest> ScrapeLoop::MakeRequest() const {
  FetchRequest req;
  req.url = target_.url;
  req.timeout = target_.timeout;
  req.max_body_bytes = options_.max_body_bytes;
  req.headers = {{"Accept", kAccept},
                 {"Accept-Encoding", "gzip"},
                 {"User-Agent", "pantau"},
                 {"X-Prometheus-Scrape-Timeout-Seconds",
                  absl::StrCat(absl::ToDoubleSeconds(target_.timeout))}};
  if (options_.basic_auth) {
    std::string password = options_.basic_auth->password;
    if (!options_.basic_auth->password_file.empty()) {
      PANTAU_ASSIGN_OR_RETURN(
          password, ReadSecretFile(options_.basic_auth->password_file));
    }
    req.headers.emplace_back(
        "Authorization",
        absl::StrCat("Basic ",
                     absl::Base64Escape(absl::StrCat(
                         options_.basic_auth->username, ":", password))));
  }
  if (options_.authorization) {
    std::string cred = options_.authorization->credentials;
    if (!options_.authorization->credentials_file.empty()) {
      PANTAU_ASSIGN_OR_RETURN(
          cred, ReadSecretFile(options_.authorization->credentials_file));
    }
    req.headers.emplace_back(
        "Authorization", absl::StrCat(options_.authorization->type, " ", cred));
  }
  return req;
}

base::Labels ScrapeLoop::BuildLabels(
    std::string_view name, const std::vector<base::LabelView>& scraped) {
  base::LabelsBuilder b;
  b.Set(base::kMetricName, name);
  for (const base::LabelView& l : scraped) b.Set(l.name, l.value);
  base::Labels exposed = b.Build();
  if (options_.honor_labels) {
    for (const base::LabelView& l : public_labels_) {
      if (!exposed.Has(l.name)) b.Set(l.name, l.value);
    }
  } else {
    std::vector<base::Label> conflicts;
    for (const base::LabelView& l : public_labels_) {
      std::string_view existing = exposed.Get(l.name);
      if (!existing.empty()) {
        conflicts.push_back({std::string(l.name), std::string(existing)});
      }
      b.Set(l.name, l.value);
    }
    // A scraped label that clashes with a target label is kept as
    // exported_<name> (prefix repeated until the name is free).
    std::stable_sort(conflicts.begin(), conflicts.end(),
                     [](const base::Label& a, const base::Label& c) {
                       return a.name.size() < c.name.size();
                     });
    for (size_t i = 0; i < conflicts.size(); ++i) {
      std::string n = conflicts[i].name;
      while (true) {
        n = "exported_" + n;
        bool taken = exposed.Has(n) || public_labels_.Has(n);
        for (size_t j = 0; j < i; ++j) taken = taken || conflicts[j].name == n;
        if (!taken) break;
      }
      conflicts[i].name = n;
    }
    for (const base::Label& c : conflicts) b.Set(c.name, c.value);
  }
  base::Labels lset = b.Build();
  if (options_.metric_relabeler && !options_.metric_relabeler->empty()) {
    std::optional<base::Labels> r = options_.metric_relabeler->Process(lset);
    if (!r) return base::Labels();
    lset = *std::move(r);
  }
  return lset;
}

absl::Status ScrapeLoop::AppendBody(Appender* app, std::string_view body,
                                    std::string_view content_type, int64_t ts,
                                    ScrapeCounts* counts) {
  ExpositionParser p(body, FormatFromContentType(content_type));
  while (true) {
    PANTAU_ASSIGN_OR_RETURN(ExpositionEntry e, p.Next());
    if (e == ExpositionEntry::kEof) break;
    if (e == ExpositionEntry::kHelp || e == ExpositionEntry::kType ||
        e == ExpositionEntry::kUnit) {
      FamilyMetadata& m = scrape_metadata_[Sv(p.metric_name())];
      if (e == ExpositionEntry::kHelp) {
        m.help.assign(p.help());
      } else if (e == ExpositionEntry::kType) {
        m.type.assign(MetricTypeName(p.type()));
      } else {
        m.unit.assign(p.unit());
      }
      continue;
    }
    if (e != ExpositionEntry::kSeries) continue;
    ++counts->scraped;
    auto it = cache_.find(Sv(p.series_text()));
    bool added = false;
    if (it == cache_.end()) {
      it = cache_.emplace(std::string(p.series_text()), CacheEntry{}).first;
      it->second.labels = BuildLabels(p.metric_name(), p.labels());
      added = true;
    }
    CacheEntry& entry = it->second;
    entry.last_seen = iteration_;
    if (entry.labels.empty()) continue;  // dropped by metric relabeling
    ++counts->post_relabel;
    if (options_.sample_limit > 0 &&
        counts->post_relabel > options_.sample_limit) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "sample limit exceeded (limit ", options_.sample_limit, ")"));
    }
    const bool explicit_ts =
        options_.honor_timestamps && p.timestamp_ms().has_value();
    const int64_t t = explicit_ts ? *p.timestamp_ms() : ts;
    absl::StatusOr<SeriesRef> ref =
        app->Append(entry.ref, entry.labels, t, p.value());
    if (!ref.ok()) {
      if (!IsSampleError(ref.status())) return ref.status();
      CountSampleError(ref.status());
      continue;
    }
    ++counts->appended;
    entry.ref = *ref;
    if (added) ++counts->added;
    if (!explicit_ts) seen_now_.push_back(&entry.labels);
    if (p.has_exemplar()) {
      base::LabelsBuilder eb;
      for (const base::LabelView& l : p.exemplar_labels()) {
        eb.Set(l.name, l.value);
      }
      Exemplar ex;
      ex.labels = eb.Build();
      ex.value = p.exemplar_value();
      ex.has_timestamp = p.exemplar_timestamp_ms().has_value();
      ex.t = ex.has_timestamp ? *p.exemplar_timestamp_ms() : t;
      // Exemplar errors never fail a scrape, as in Prometheus.
      (void)app->AppendExemplar(entry.ref, entry.labels, ex);
    }
  }
  return absl::OkStatus();
}

void ScrapeLoop::CountSampleError(const absl::Status& s) {
  if (options_.counters == nullptr) return;
  switch (s.code()) {
    case absl::StatusCode::kOutOfRange:
      options_.counters->samples_out_of_bounds.fetch_add(1);
      break;
    case absl::StatusCode::kAlreadyExists:
      options_.counters->samples_duplicate.fetch_add(1);
      break;
    case absl::StatusCode::kResourceExhausted:
      options_.counters->samples_series_limit.fetch_add(1);
      break;
    default:
      options_.counters->samples_out_of_order.fetch_add(1);
      break;
  }
}

void ScrapeLoop::AppendStaleMarkers(Appender* app, int64_t ts, bool all) {
  for (auto it = seen_.begin(); it != seen_.end();) {
    if (all || it->second != iteration_) {
      // Errors (e.g. a newer explicit sample) just mean no marker needed.
      if (app->Append(0, it->first, ts, StaleNaN()).ok() &&
          options_.counters != nullptr) {
        options_.counters->stale_markers.fetch_add(1);
      }
      seen_.erase(it++);
    } else {
      ++it;
    }
  }
}

void ScrapeLoop::AppendReport(Appender* app, int64_t ts, bool up,
                              absl::Duration took, const ScrapeCounts& counts) {
  auto put = [&](std::string_view name, double v) {
    base::Labels l = base::LabelsBuilder(public_labels_)
                         .Set(base::kMetricName, name)
                         .Build();
    (void)app->Append(0, l, ts, v);
  };
  put("up", up ? 1 : 0);
  put("scrape_duration_seconds", absl::ToDoubleSeconds(took));
  put("scrape_samples_scraped", static_cast<double>(counts.scraped));
  put("scrape_samples_post_metric_relabeling",
      static_cast<double>(counts.post_relabel));
  put("scrape_series_added", static_cast<double>(counts.added));
  reported_ = true;
  last_report_ts_ = ts;
}

void ScrapeLoop::ScrapeOnce(absl::Time scheduled) {
  ++iteration_;
  seen_now_.clear();
  const absl::Duration mono_start = clock_->Monotonic();
  const absl::Time start = clock_->Now();
  const absl::Time stamp =
      absl::AbsDuration(start - scheduled) <= options_.timestamp_tolerance
          ? scheduled
          : start;
  const int64_t ts = base::ToMillis(stamp);

  std::unique_ptr<Appender> app = storage_->NewAppender();
  ScrapeCounts counts;
  absl::Status err;
  absl::StatusOr<FetchRequest> req = MakeRequest();
  if (!req.ok()) {
    err = req.status();
  } else {
    absl::StatusOr<FetchResponse> resp = fetcher_->Fetch(*req);
    if (!resp.ok()) {
      err = resp.status();
    } else if (resp->status != 200) {
      err = absl::UnavailableError(
          absl::StrCat("server returned HTTP status ", resp->status));
    } else {
      std::string decoded;
      std::string_view body = resp->body;
      if (EqualsIgnoreCase(resp->content_encoding, "gzip")) {
        absl::StatusOr<std::string> d = base::Decompress(
            base::Codec::kGzip, resp->body, options_.max_body_bytes);
        if (d.ok()) {
          decoded = *std::move(d);
          body = decoded;
        } else {
          err = d.status();
        }
      }
      if (err.ok()) {
        err = AppendBody(app.get(), body, resp->content_type, ts, &counts);
      }
    }
  }
  const absl::Duration took = clock_->Monotonic() - mono_start;
  if (!err.ok()) {
    // Nothing of a failed scrape is kept; everything it would have
    // refreshed goes stale, as if the target had returned no samples.
    (void)app->Rollback();
    app = storage_->NewAppender();
    AppendStaleMarkers(app.get(), ts, /*all=*/true);
    counts = ScrapeCounts{};
  } else {
    for (const base::Labels* l : seen_now_) {
      seen_.insert_or_assign(*l, iteration_);
    }
    AppendStaleMarkers(app.get(), ts, /*all=*/false);
  }
  AppendReport(app.get(), ts, err.ok(), took, counts);
  absl::Status commit = app->Commit();
  if (!commit.ok() && err.ok()) err = commit;
  if (options_.counters != nullptr) {
    ScrapeCounters& c = *options_.counters;
    c.scrapes.fetch_add(1);
    if (!err.ok()) c.failed_scrapes.fetch_add(1);
    if (err.code() == absl::StatusCode::kResourceExhausted &&
        err.message().find("sample limit") != absl::string_view::npos) {
      c.exceeded_sample_limit.fetch_add(1);
    }
    if (commit.ok()) c.samples_appended.fetch_add(counts.appended);
  }
  seen_now_.clear();
  // Forget cache entries not seen for a while (series that went away).
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.last_seen + 2 < iteration_) {
      cache_.erase(it++);
    } else {
      ++it;
    }
  }
  absl::MutexLock l(&mu_);
  if (err.ok()) {
    // A failed scrape keeps the metadata of the last good one, as the
    // target most likely still exposes the same families.
    if (scrape_metadata_ != metadata_) metadata_.swap(scrape_metadata_);
  }
  scrape_metadata_.clear();
  status_.health = err.ok() ? TargetHealth::kUp : TargetHealth::kDown;
  status_.last_error = err.ok() ? "" : std::string(err.message());
  status_.last_scrape = start;
  status_.last_scrape_duration = took;
}

std::vector<std::pair<std::string, FamilyMetadata>> ScrapeLoop::Metadata()
    const {
  absl::MutexLock l(&mu_);
  return {metadata_.begin(), metadata_.end()};
}

void ScrapeLoop::Stop() {
  const int64_t ts =
      std::max(base::ToMillis(clock_->Now()), last_report_ts_ + 1);
  std::unique_ptr<Appender> app = storage_->NewAppender();
  AppendStaleMarkers(app.get(), ts, /*all=*/true);
  if (reported_) {
    for (std::string_view name :
         {"up", "scrape_duration_seconds", "scrape_samples_scraped",
          "scrape_samples_post_metric_relabeling", "scrape_series_added"}) {
      base::Labels l = base::LabelsBuilder(public_labels_)
                           .Set(base::kMetricName, name)
                           .Build();
      (void)app->Append(0, l, ts, StaleNaN());
    }
  }
  absl::Status s = app->Commit();
  if (!s.ok()) {
    PANTAU_LOG(kWarn, "writing staleness markers for a removed target failed",
               {{"target", target_.url}, {"err", s}});
  }
}

}  // namespace pantau::metrics::scrape
