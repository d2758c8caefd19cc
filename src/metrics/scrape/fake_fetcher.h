// A scriptable Fetcher for tests: answers each URL with a set response or
// error and records the requests it saw.
//
// Thread safety: safe for concurrent use.
#ifndef PANTAU_METRICS_SCRAPE_FAKE_FETCHER_H_
#define PANTAU_METRICS_SCRAPE_FAKE_FETCHER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "metrics/scrape/fetcher.h"

namespace pantau::metrics::testing {

class FakeFetcher : public scrape::Fetcher {
 public:
  void Set(const std::string& url, scrape::FetchResponse r) {
    absl::MutexLock l(&mu_);
    responses_[url] = std::move(r);
  }
  void SetBody(const std::string& url, std::string body,
               std::string content_type = "text/plain; version=0.0.4") {
    scrape::FetchResponse r;
    r.status = 200;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    Set(url, std::move(r));
  }
  void SetError(const std::string& url, absl::Status s) {
    absl::MutexLock l(&mu_);
    responses_.erase(url);
    errors_[url] = std::move(s);
  }
  // Notified after the first fetch (for tests of real threads).
  absl::Notification& first_fetch() { return first_fetch_; }
  std::vector<scrape::FetchRequest> requests() const {
    absl::MutexLock l(&mu_);
    return requests_;
  }

  absl::StatusOr<scrape::FetchResponse> Fetch(
      const scrape::FetchRequest& req) override {
    absl::MutexLock l(&mu_);
    requests_.push_back(req);
    if (!first_fetch_.HasBeenNotified()) first_fetch_.Notify();
    auto e = errors_.find(req.url);
    if (e != errors_.end() && !responses_.count(req.url)) return e->second;
    auto it = responses_.find(req.url);
    if (it == responses_.end()) {
      return absl::UnavailableError("connection refused");
    }
    return it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, scrape::FetchResponse> responses_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<scrape::FetchRequest> requests_ ABSL_GUARDED_BY(mu_);
  absl::Notification first_fetch_;
};

}  // namespace pantau::metrics::testing

#endif  // PANTAU_METRICS_SCRAPE_FAKE_FETCHER_H_
