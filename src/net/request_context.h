// RequestContext: per-request state the server shares with the handler:
// cancellation, the start time, and values middleware hands down.
//
// Thread safety: Cancelled() and Cancel() may be called from any thread
// (the server cancels from its IO threads while the handler polls from a
// pool thread). The value slots are for the thread running the handler
// chain only.
#ifndef PANTAU_NET_REQUEST_CONTEXT_H_
#define PANTAU_NET_REQUEST_CONTEXT_H_

#include <any>
#include <atomic>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pantau::net {

class RequestContext {
 public:
  // `start` is when the request's first byte arrived (the server passes
  // it); tests may construct a context directly.
  explicit RequestContext(absl::Time start = absl::Now()) : start_(start) {}

  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  // True once the client has gone away while the handler runs, or the
  // server is shutting down past its grace period. Long-running handlers
  // (queries) poll this and give up early; their response is discarded.
  bool Cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Called by the server; idempotent.
  void Cancel() { cancelled_.store(true, std::memory_order_release); }

  absl::Time start_time() const { return start_; }

  // Values middleware passes to handlers (e.g. the active trace span). Keys
  // belong to the module that sets them; prefix them with its name
  // ("sdk.span"). Get returns nullptr when absent.
  void SetValue(std::string key, std::any value) {
    values_[std::move(key)] = std::move(value);
  }
  const std::any* GetValue(std::string_view key) const {
    auto it = values_.find(absl::string_view(key.data(), key.size()));
    return it == values_.end() ? nullptr : &it->second;
  }

 private:
  std::atomic<bool> cancelled_{false};
  absl::Time start_;
  absl::flat_hash_map<std::string, std::any> values_;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_REQUEST_CONTEXT_H_
