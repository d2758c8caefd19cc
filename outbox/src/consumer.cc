#include "pantau/outbox/consumer.h"

#include <optional>

#include "background_job.h"
#include "base/log.h"
#include "pantau/outbox/instrumentation.h"

namespace pantau::outbox {

Consumer::Consumer(Source* source, std::string name, InboxFn inbox,
                   ConsumerOptions options, InboxBatchFn batch)
    : source_(source),
      name_(std::move(name)),
      inbox_(std::move(inbox)),
      options_(options),
      batch_(std::move(batch)) {
  if (source_->CanFetchAhead()) {
    ahead_ = std::make_unique<internal::BackgroundJob<FetchResult>>();
  }
}

Consumer::~Consumer() {
  if (ahead_ == nullptr) return;
  // Fetched but never handled: back to the broker at once rather than
  // after its ack wait. A fetch not yet begun is dropped.
  std::optional<FetchResult> unhandled = ahead_->Cancel();
  if (unhandled.has_value() && unhandled->ok()) {
    for (auto& d : **unhandled) d->Nak(absl::ZeroDuration()).IgnoreError();
  }
}

absl::StatusOr<int> Consumer::PollOnce() {
  FetchResult batch =
      ahead_ != nullptr && ahead_->Busy()
          ? ahead_->Take()
          : source_->Fetch(options_.batch_size, options_.fetch_timeout);
  if (!batch.ok()) return batch.status();
  // The next batch comes in while this one is handled. Not after an
  // error: Run waits retry_delay before fetching again.
  if (ahead_ != nullptr && !stop_.load()) {
    ahead_->Start([this] {
      return source_->Fetch(options_.batch_size, options_.fetch_timeout);
    });
  }
  return Handle(*batch);
}

int Consumer::Handle(Batch& batch) {
  Instrumentation* inst = GetInstrumentation();
  int handled = 0;
  if (batch_ && batch.size() > 1) {
    std::vector<const Message*> msgs;
    std::vector<std::unique_ptr<SpanScope>> spans;
    for (auto& d : batch) {
      msgs.push_back(&d->message());
      spans.push_back(
          inst->StartProcess(d->message(), source_->system(), name_));
    }
    absl::StatusOr<std::vector<InboxResult>> r = batch_(msgs);
    bool ok = r.ok() && r->size() == msgs.size();
    absl::Status result =
        ok ? absl::OkStatus()
           : (!r.ok() ? r.status()
                      : absl::InternalError("inbox batch result count"));
    if (ok) {
      for (size_t i = 0; i < batch.size(); ++i) {
        absl::Status ack = batch[i]->Ack();
        if (!ack.ok()) {
          PANTAU_LOG(
              kWarn, "outbox consumer ack failed",
              {{"consumer", name_}, {"id", msgs[i]->id}, {"error", ack}});
        }
        if ((*r)[i] == InboxResult::kDuplicate) {
          inst->OnInboxDuplicate(name_);
        } else {
          inst->OnInboxProcessed(name_);
        }
      }
    }
    // Spans activated in order end in reverse, restoring each scope.
    for (size_t i = spans.size(); i-- > 0;) {
      if (spans[i] != nullptr) spans[i]->End(result);
    }
    if (ok) return static_cast<int>(batch.size());
    // Fall through: one by one, so only a failing message is naked.
  }
  for (auto& d : batch) {
    const Message& m = d->message();
    std::unique_ptr<SpanScope> span =
        inst->StartProcess(m, source_->system(), name_);
    absl::StatusOr<InboxResult> r = inbox_(m);
    absl::Status ack;
    if (r.ok()) {
      ack = d->Ack();
      ++handled;
      if (*r == InboxResult::kDuplicate) {
        inst->OnInboxDuplicate(name_);
      } else {
        inst->OnInboxProcessed(name_);
      }
    } else {
      PANTAU_LOG(kWarn, "outbox consumer handler failed",
                 {{"consumer", name_}, {"id", m.id}, {"error", r.status()}});
      ack = d->Nak(options_.retry_delay);
    }
    if (!ack.ok()) {
      // The broker redelivers an unacked message; the inbox makes that safe.
      PANTAU_LOG(kWarn, "outbox consumer ack failed",
                 {{"consumer", name_}, {"id", m.id}, {"error", ack}});
    }
    if (span != nullptr) span->End(r.ok() ? ack : r.status());
  }
  return handled;
}

void Consumer::Run() {
  while (!stop_.load()) {
    absl::StatusOr<int> n = PollOnce();
    if (!n.ok()) {
      PANTAU_LOG(kWarn, "outbox consumer fetch failed",
                 {{"consumer", name_}, {"error", n.status()}});
      absl::SleepFor(options_.retry_delay);
    }
  }
}

}  // namespace pantau::outbox
