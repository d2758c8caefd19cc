#include "pantau/outbox/relay.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "background_job.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace pantau::outbox {
namespace {

// Cleanup deletes this many rows per transaction, and goes on for at most
// kCleanupSlice per Maintain (see there).
constexpr int64_t kCleanupChunk = 1000;
constexpr absl::Duration kCleanupSlice = absl::Milliseconds(20);

std::string DefaultRelayId(uint64_t r) {
  char host[64] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, "-", getpid(), "-", r % 100000);
}

}  // namespace

absl::Duration BackoffDelay(const RelayOptions& options, int attempts,
                            double u) {
  // Doubling from backoff_initial, computed in floating point so a large
  // attempt count cannot overflow before the cap applies.
  double factor = std::pow(2.0, std::max(0, attempts - 1));
  absl::Duration d = std::min(options.backoff_max,
                              options.backoff_initial * std::min(factor, 1e9));
  double jitter = std::clamp(options.jitter, 0.0, 1.0);
  return d * (1.0 - jitter * std::clamp(u, 0.0, 1.0));
}

Relay::Relay(RelayStore* store, Transport* transport, RelayOptions options,
             base::Clock* clock)
    : store_(store),
      transport_(transport),
      options_(std::move(options)),
      clock_(clock),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {
  if (options_.relay_id.empty()) options_.relay_id = DefaultRelayId(rng_());
  options_.batch_size = std::max(1, options_.batch_size);
  options_.max_attempts = std::max(1, options_.max_attempts);
  store_->SetKeepDelivered(options_.retention > absl::ZeroDuration());
}

absl::StatusOr<int> Relay::RunOnce() {
  absl::Time now = clock_->Now();
  PANTAU_ASSIGN_OR_RETURN(std::vector<Message> batch,
                          store_->Claim(options_.relay_id, options_.batch_size,
                                        now, options_.lease));
  if (batch.empty()) return 0;
  int n = static_cast<int>(batch.size());
  std::vector<Outcome> outcomes = Publish(std::move(batch), now);
  PANTAU_RETURN_IF_ERROR(
      store_->Complete(options_.relay_id, outcomes, clock_->Now()));
  return n;
}

std::vector<Outcome> Relay::Publish(std::vector<Message> batch,
                                    absl::Time claimed_at) {
  Instrumentation* inst = GetInstrumentation();
  // A batch may hold several messages of one key (in order). They go out
  // in waves, the w-th message of each key in wave w, each wave waiting
  // for its acks, so a key's messages reach the broker in order and a
  // failure stops the rest of its key for this round.
  std::vector<int> wave(batch.size());
  int waves = 0;
  {
    absl::flat_hash_map<std::string_view, int> seen;
    for (size_t i = 0; i < batch.size(); ++i) {
      wave[i] = seen[batch[i].key]++;
      waves = std::max(waves, wave[i] + 1);
    }
  }
  std::vector<absl::Status> results(batch.size());
  std::vector<bool> skipped(batch.size(), false);
  absl::flat_hash_set<std::string> failed_keys;
  std::vector<absl::Time> done_at(batch.size());
  // Past this point another relay may own the rows; publishing them then
  // could overtake its copies, so later waves are left to the next owner.
  absl::Time wave_deadline =
      claimed_at + options_.lease - options_.publish_timeout;
  for (int w = 0; w < waves; ++w) {
    bool expired = w > 0 && clock_->Now() > wave_deadline;
    std::vector<size_t> idx;
    std::vector<Message> out;
    std::vector<std::unique_ptr<SpanScope>> spans;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (wave[i] != w) continue;
      if (expired || failed_keys.contains(batch[i].key)) {
        skipped[i] = true;
        continue;
      }
      spans.push_back(inst->StartPublish(batch[i], transport_->system()));
      idx.push_back(i);
      out.push_back(std::move(batch[i]));
    }
    if (idx.empty()) continue;
    std::vector<absl::Status> r =
        transport_->Publish(out, options_.publish_timeout);
    if (r.size() != out.size()) {
      // A transport bug; treat every message as failed rather than guess.
      r.assign(out.size(),
               absl::InternalError("transport returned wrong result count"));
    }
    absl::Time now_done = clock_->Now();
    for (size_t j = 0; j < idx.size(); ++j) {
      batch[idx[j]] = std::move(out[j]);
      results[idx[j]] = r[j];
      done_at[idx[j]] = now_done;
      if (!r[j].ok()) failed_keys.insert(batch[idx[j]].key);
      if (spans[j] != nullptr) spans[j]->End(r[j]);
    }
  }

  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<Outcome> outcomes;
  outcomes.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const Message& m = batch[i];
    Outcome o;
    if (skipped[i]) {
      o.skipped = true;
    } else if (results[i].ok()) {
      o.delivered = true;
      inst->OnPublished(m, done_at[i] - m.created_at);
    } else {
      int attempts = m.attempts + 1;
      o.error = std::string(results[i].message()).substr(0, 1000);
      // InvalidArgument means the broker will never take this message;
      // retrying would only hold its key back longer.
      o.dead = attempts >= options_.max_attempts ||
               results[i].code() == absl::StatusCode::kInvalidArgument;
      o.next_attempt_at =
          done_at[i] + BackoffDelay(options_, attempts, uniform(rng_));
      inst->OnPublishFailed(m, results[i]);
      if (o.dead) {
        inst->OnDeadLettered(m);
        PANTAU_LOG(kWarn, "outbox message dead-lettered",
                   {{"id", m.id},
                    {"topic", m.topic},
                    {"attempts", attempts},
                    {"error", o.error}});
      }
    }
    // The batch is not used after this: its ids move into the outcomes.
    o.id = std::move(batch[i].id);
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

absl::Status Relay::Maintain() {
  absl::Time now = clock_->Now();
  if (now >= next_stats_) {
    next_stats_ = now + options_.stats_interval;
    PANTAU_ASSIGN_OR_RETURN(OutboxStats st, store_->Stats(now));
    GetInstrumentation()->OnStats(st);
  }
  if (now >= next_cleanup_) {
    // A minute of deliveries at 10k msg/s is 600k rows: deleted in one
    // transaction, that held SQLite's write lock (every producer) for
    // seconds, or this relay's thread on PostgreSQL. So cleanup goes in
    // chunks of kCleanupChunk rows, for at most kCleanupSlice per call;
    // what is left goes on at the next call, not a cleanup_interval later.
    // A failing cleanup waits for the next interval, as before.
    next_cleanup_ = now + options_.cleanup_interval;
    bool more = true;
    int64_t n = 0;
    while (more && clock_->Now() - now < kCleanupSlice) {
      PANTAU_ASSIGN_OR_RETURN(
          int64_t d,
          store_->CleanupDelivered(now - options_.retention, kCleanupChunk));
      int64_t k = 0;
      if (options_.inbox_window > absl::ZeroDuration()) {
        PANTAU_ASSIGN_OR_RETURN(
            k,
            store_->CleanupInbox(now - options_.inbox_window, kCleanupChunk));
      }
      n += d + k;
      more = d >= kCleanupChunk || k >= kCleanupChunk;
    }
    if (more) next_cleanup_ = now;
    if (n > 0) {
      PANTAU_LOG(kDebug, "outbox cleanup", {{"deleted", n}, {"more", more}});
    }
  }
  return absl::OkStatus();
}

void Relay::Run() {
  if (store_->CanClaimAhead()) {
    RunPipelined();
    return;
  }
  while (!stop_.load()) {
    absl::StatusOr<int> n = RunOnce();
    absl::Status m = Maintain();
    if (!n.ok() || !m.ok()) {
      PANTAU_LOG(
          kWarn, "outbox relay round failed",
          {{"relay", options_.relay_id}, {"error", !n.ok() ? n.status() : m}});
      store_->WaitForWork(options_.poll_interval).IgnoreError();
      continue;
    }
    // A full batch suggests more is waiting: go again at once.
    if (*n < options_.batch_size && !stop_.load()) {
      absl::Status w = store_->WaitForWork(options_.poll_interval);
      if (!w.ok()) {
        PANTAU_LOG(kWarn, "outbox relay wait failed", {{"error", w}});
        absl::SleepFor(options_.poll_interval);
      }
    }
  }
}

// While one batch is being published (on the worker thread, waiting for
// broker acks), this thread claims the next one and records the previous
// one, so the database work and the broker round trips overlap. The next
// claim cannot take a key that has a message in flight: those rows are
// still pending and leased, which blocks their keys (store.h), so per-key
// order is the same as one round at a time.
void Relay::RunPipelined() {
  // worker.Busy(): a batch is in flight (started, outcomes not yet taken).
  internal::BackgroundJob<std::vector<Outcome>> worker;
  auto start = [&](std::vector<Message> batch, absl::Time claimed_at) {
    worker.Start([this, b = std::move(batch), claimed_at]() mutable {
      // The batch waited for the previous one to be published. If its
      // lease could now run out during the first wave, another relay may
      // own the rows by then: publish nothing, release them.
      if (options_.lease > options_.publish_timeout &&
          clock_->Now() >
              claimed_at + options_.lease - options_.publish_timeout) {
        std::vector<Outcome> released(b.size());
        for (size_t i = 0; i < b.size(); ++i) {
          released[i].id = b[i].id;
          released[i].skipped = true;
        }
        return released;
      }
      return Publish(std::move(b), claimed_at);
    });
  };
  auto complete = [&](const std::vector<Outcome>& outcomes) {
    absl::Status s =
        store_->Complete(options_.relay_id, outcomes, clock_->Now());
    if (!s.ok()) {
      // The leases run out and the messages go out again (dedup absorbs
      // the copies); nothing else to do here.
      PANTAU_LOG(kWarn, "outbox relay round failed",
                 {{"relay", options_.relay_id}, {"error", s}});
    }
  };
  while (!stop_.load()) {
    absl::Time now = clock_->Now();
    absl::StatusOr<std::vector<Message>> next = store_->Claim(
        options_.relay_id, options_.batch_size, now, options_.lease);
    bool completed = false;
    std::vector<Outcome> previous;
    if (worker.Busy()) {
      previous = worker.Take();
      completed = true;
    }
    bool claimed = next.ok() && !next->empty();
    bool full =
        claimed && static_cast<int>(next->size()) >= options_.batch_size;
    if (claimed) start(*std::move(next), now);
    if (completed) complete(previous);
    absl::Status m = Maintain();
    if (!next.ok() || !m.ok()) {
      PANTAU_LOG(kWarn, "outbox relay round failed",
                 {{"relay", options_.relay_id},
                  {"error", !next.ok() ? next.status() : m}});
      if (!worker.Busy()) {
        store_->WaitForWork(options_.poll_interval).IgnoreError();
      }
      continue;
    }
    // Go again at once while there is a batch in flight (it has to be
    // recorded), after a full batch, or after recording one (that may have
    // unblocked keys the last claim had to leave out). Otherwise wait.
    if (worker.Busy() || full || completed || stop_.load()) continue;
    absl::Status w = store_->WaitForWork(options_.poll_interval);
    if (!w.ok()) {
      PANTAU_LOG(kWarn, "outbox relay wait failed", {{"error", w}});
      absl::SleepFor(options_.poll_interval);
    }
  }
  if (worker.Busy()) complete(worker.Take());
}

void Relay::Stop() {
  stop_.store(true);
  store_->Wake();
}

}  // namespace pantau::outbox
