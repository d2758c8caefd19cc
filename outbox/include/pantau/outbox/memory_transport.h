// An in-process transport and source, for applications' tests and the
// outbox's own: published messages queue in memory and can be fetched,
// acked and naked like a broker's. Failures are injected per topic or key.
//
// Thread safety: all methods are thread-safe.
#ifndef PANTAU_OUTBOX_MEMORY_TRANSPORT_H_
#define PANTAU_OUTBOX_MEMORY_TRANSPORT_H_

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pantau/outbox/transport.h"

namespace pantau::outbox {

class MemoryTransport : public Transport, public Source {
 public:
  std::string_view system() const override { return "memory"; }
  std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                    absl::Duration timeout) override;
  absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> Fetch(
      int max, absl::Duration timeout) override;

  // Decides each publish: return non-OK to fail it. Default: all succeed.
  void SetPublishHook(std::function<absl::Status(const Message&)> hook);
  // Every message ever published successfully, in publish order
  // (duplicates included).
  std::vector<Message> published() const;
  // Messages waiting to be fetched (including naked ones).
  size_t queued() const;
  // Whether CanFetchAhead says yes (it is thread-safe either way); off by
  // default, so a test sees exactly one Fetch per Consumer::PollOnce.
  void SetFetchAhead(bool on) { fetch_ahead_ = on; }
  bool CanFetchAhead() const override { return fetch_ahead_.load(); }

 private:
  class MemoryDelivery;
  mutable absl::Mutex mu_;
  std::function<absl::Status(const Message&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<Message> published_ ABSL_GUARDED_BY(mu_);
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> fetch_ahead_{false};
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_MEMORY_TRANSPORT_H_
