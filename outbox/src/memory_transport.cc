#include "pantau/outbox/memory_transport.h"

namespace pantau::outbox {

class MemoryTransport::MemoryDelivery : public Delivery {
 public:
  MemoryDelivery(MemoryTransport* t, Message m) : t_(t), m_(std::move(m)) {}
  const Message& message() const override { return m_; }
  absl::Status Ack() override { return absl::OkStatus(); }
  absl::Status Nak(absl::Duration delay) override {
    absl::MutexLock lock(&t_->mu_);
    t_->queue_.push_back(m_);
    return absl::OkStatus();
  }

 private:
  MemoryTransport* t_;
  Message m_;
};

std::vector<absl::Status> MemoryTransport::Publish(
    const std::vector<Message>& batch, absl::Duration timeout) {
  std::function<absl::Status(const Message&)> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = hook_;
  }
  std::vector<absl::Status> out;
  out.reserve(batch.size());
  for (const Message& m : batch) {
    absl::Status s = hook ? hook(m) : absl::OkStatus();
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      published_.push_back(m);
      queue_.push_back(m);
    }
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> MemoryTransport::Fetch(
    int max, absl::Duration timeout) {
  std::vector<std::unique_ptr<Delivery>> out;
  absl::MutexLock lock(&mu_);
  auto has = [this]()
                 ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&has), timeout);
  while (!queue_.empty() && static_cast<int>(out.size()) < max) {
    out.push_back(std::make_unique<MemoryDelivery>(this, queue_.front()));
    queue_.pop_front();
  }
  return out;
}

void MemoryTransport::SetPublishHook(
    std::function<absl::Status(const Message&)> hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

std::vector<Message> MemoryTransport::published() const {
  absl::MutexLock lock(&mu_);
  return published_;
}

size_t MemoryTransport::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace pantau::outbox
