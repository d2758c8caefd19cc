#include "metrics/scrape/scrape_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "metrics/scrape/strings.h"

namespace pantau::metrics::scrape {
namespace {

// Everything in a scrape config that changes how its loops behave, apart
// from which targets exist (those are compared by their labels).
std::string ConfigKey(const ScrapeConfig& c) {
  std::string k = absl::StrCat(
      c.job_name, "|", absl::FormatDuration(c.scrape_interval), "|",
      absl::FormatDuration(c.scrape_timeout), "|", c.metrics_path, "|",
      c.scheme, "|", c.honor_labels, c.honor_timestamps, "|", c.sample_limit);
  for (const auto& [name, values] : c.params) {
    absl::StrAppend(&k, "|p:", name);
    for (const auto& v : values) absl::StrAppend(&k, "=", v);
  }
  for (const auto* list : {&c.relabel_configs, &c.metric_relabel_configs}) {
    absl::StrAppend(&k, "|r");
    for (const RelabelConfig& r : *list) {
      absl::StrAppend(&k, "|", Sv(RelabelActionName(r.action)), ",", r.regex,
                      ",", r.separator, ",", r.target_label, ",", r.replacement,
                      ",", r.modulus);
      for (const auto& s : r.source_labels) absl::StrAppend(&k, ",", s);
    }
  }
  if (c.basic_auth) {
    absl::StrAppend(&k, "|ba:", c.basic_auth->username, ":",
                    c.basic_auth->password, ":", c.basic_auth->password_file);
  }
  if (c.authorization) {
    absl::StrAppend(&k, "|az:", c.authorization->type, ":",
                    c.authorization->credentials, ":",
                    c.authorization->credentials_file);
  }
  return k;
}

}  // namespace

ScrapeManager::ScrapeManager(ScrapeManagerOptions options)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : base::Clock::Real()) {}

ScrapeManager::~ScrapeManager() { Stop(); }

void ScrapeManager::SyncPool(Pool* pool, std::map<uint64_t, Entry>* reuse,
                             std::vector<std::shared_ptr<LoopSlot>>* to_stop) {
  std::vector<TargetGroup> groups = pool->config.static_configs;
  for (const auto& sd : pool->file_sds) {
    std::vector<TargetGroup> g = sd->Groups();
    groups.insert(groups.end(), g.begin(), g.end());
  }
  std::map<uint64_t, Entry> loops;
  pool->dropped.clear();
  const absl::Time now = clock_->Now();
  for (const TargetGroup& g : groups) {
    for (const std::string& addr : g.targets) {
      absl::StatusOr<PopulateResult> r =
          PopulateTarget(pool->config, *pool->relabeler, g.labels, addr);
      if (!r.ok()) {
        pool->dropped.push_back(
            {pool->config.job_name,
             base::LabelsBuilder(g.labels).Set("__address__", addr).Build(),
             std::string(r.status().message())});
        continue;
      }
      if (!r->target) {
        pool->dropped.push_back(
            {pool->config.job_name, r->discovered_labels, ""});
        continue;
      }
      const uint64_t key = r->target->labels.Hash();
      if (loops.count(key)) continue;  // the same target twice
      auto old = reuse->find(key);
      if (old != reuse->end()) {
        loops.emplace(key, std::move(old->second));
        reuse->erase(old);
        continue;
      }
      ScrapeLoopOptions lo;
      lo.job = pool->config.job_name;
      lo.honor_labels = pool->config.honor_labels;
      lo.honor_timestamps = pool->config.honor_timestamps;
      lo.sample_limit = pool->config.sample_limit;
      lo.metric_relabeler = pool->metric_relabeler;
      lo.basic_auth = pool->config.basic_auth;
      lo.authorization = pool->config.authorization;
      lo.timestamp_tolerance = options_.timestamp_tolerance;
      lo.counters = &counters_;
      auto slot = std::make_shared<LoopSlot>();
      Entry e;
      {
        absl::MutexLock l(&slot->run_mu);
        slot->loop = std::make_unique<ScrapeLoop>(
            *std::move(r->target), std::move(lo), options_.storage,
            options_.fetcher, clock_);
        e.view = slot->loop.get();
      }
      e.slot = std::move(slot);
      e.next = e.view->NextScrapeTime(now);
      loops.emplace(key, std::move(e));
    }
  }
  for (auto& [key, e] : *reuse) to_stop->push_back(e.slot);
  reuse->clear();
  pool->loops = std::move(loops);
}

absl::Status ScrapeManager::ApplyConfig(const ScrapeSettings& settings) {
  std::vector<Pool> fresh;
  for (const ScrapeConfig& c : settings.scrape_configs) {
    Pool p;
    p.config = c;
    p.config_key = ConfigKey(c);
    absl::StatusOr<Relabeler> r = Relabeler::Create(c.relabel_configs);
    if (!r.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "job \"", c.job_name, "\" relabel_configs: ", r.status().message()));
    }
    p.relabeler = std::make_shared<const Relabeler>(*std::move(r));
    r = Relabeler::Create(c.metric_relabel_configs);
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job \"", c.job_name,
                       "\" metric_relabel_configs: ", r.status().message()));
    }
    p.metric_relabeler = std::make_shared<const Relabeler>(*std::move(r));
    for (const FileSdConfig& f : c.file_sd_configs) {
      p.file_sds.push_back(std::make_unique<FileSd>(f));
    }
    fresh.push_back(std::move(p));
  }

  std::vector<std::shared_ptr<LoopSlot>> to_stop;
  std::vector<std::shared_ptr<LoopSlot>> replaced;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = clock_->Now();
    std::map<std::string, Pool> pools;
    for (Pool& p : fresh) {
      for (auto& sd : p.file_sds) sd->Poll(now);
      auto old = pools_.find(p.config.job_name);
      if (old != pools_.end() && old->second.config_key == p.config_key) {
        SyncPool(&p, &old->second.loops, &to_stop);
      } else {
        std::map<uint64_t, Entry> none;
        SyncPool(&p, &none, &to_stop);
        if (old != pools_.end()) {
          // Targets that stay get a new loop (new settings) and keep their
          // series: no staleness markers for them, as in Prometheus.
          for (auto& [key, e] : old->second.loops) {
            (p.loops.count(key) ? replaced : to_stop).push_back(e.slot);
          }
          old->second.loops.clear();
        }
      }
      std::string job = p.config.job_name;
      pools.emplace(std::move(job), std::move(p));
    }
    for (auto& [job, pool] : pools_) {
      for (auto& [key, e] : pool.loops) to_stop.push_back(e.slot);
    }
    pools_ = std::move(pools);
    next_sd_poll_ = now + options_.sd_poll_interval;
    wake_.SignalAll();
  }
  for (const auto& slot : replaced) {
    absl::MutexLock l(&slot->run_mu);
    slot->stopped = true;
  }
  StopSlots(to_stop);
  return absl::OkStatus();
}

void ScrapeManager::StopSlots(
    const std::vector<std::shared_ptr<LoopSlot>>& slots) {
  for (const auto& slot : slots) {
    absl::MutexLock l(&slot->run_mu);
    if (slot->stopped) continue;
    slot->stopped = true;
    slot->loop->Stop();
  }
}

void ScrapeManager::PollDiscovery(
    absl::Time now, std::vector<std::shared_ptr<LoopSlot>>* to_stop) {
  if (now < next_sd_poll_) return;
  next_sd_poll_ = now + options_.sd_poll_interval;
  for (auto& [job, pool] : pools_) {
    bool changed = false;
    for (auto& sd : pool.file_sds) changed = sd->Poll(now) || changed;
    if (!changed) continue;
    std::map<uint64_t, Entry> old = std::move(pool.loops);
    SyncPool(&pool, &old, to_stop);
  }
}

std::vector<ScrapeManager::Due> ScrapeManager::CollectDue(absl::Time now) {
  std::vector<Due> due;
  for (auto& [job, pool] : pools_) {
    for (auto& [key, e] : pool.loops) {
      if (e.running || e.next > now) continue;
      due.push_back({job, key, e.slot, e.next});
      e.running = true;
      // Missed slots are skipped, not caught up.
      e.next =
          e.view->NextScrapeTime(std::max(now, e.next) + absl::Nanoseconds(1));
    }
  }
  return due;
}

void ScrapeManager::RunOne(const Due& d) {
  {
    absl::MutexLock l(&d.slot->run_mu);
    if (!d.slot->stopped) d.slot->loop->ScrapeOnce(d.scheduled);
  }
  absl::MutexLock l(&mu_);
  auto pool = pools_.find(d.job);
  if (pool == pools_.end()) return;
  auto it = pool->second.loops.find(d.key);
  if (it != pool->second.loops.end() && it->second.slot == d.slot) {
    it->second.running = false;
  }
}

void ScrapeManager::RunPending() {
  std::vector<Due> due;
  std::vector<std::shared_ptr<LoopSlot>> to_stop;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = clock_->Now();
    PollDiscovery(now, &to_stop);
    due = CollectDue(now);
  }
  StopSlots(to_stop);
  for (const Due& d : due) RunOne(d);
}

void ScrapeManager::Start() {
  absl::MutexLock l(&mu_);
  if (started_ || stopped_) return;
  started_ = true;
  workers_ = std::make_unique<base::ThreadPool>(std::max(1, options_.threads),
                                                "scrape");
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

void ScrapeManager::SchedulerLoop() {
  while (true) {
    std::vector<Due> due;
    std::vector<std::shared_ptr<LoopSlot>> to_stop;
    absl::Time wake;
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      const absl::Time now = clock_->Now();
      PollDiscovery(now, &to_stop);
      due = CollectDue(now);
      wake = next_sd_poll_;
      for (auto& [job, pool] : pools_) {
        for (auto& [key, e] : pool.loops) {
          if (!e.running) wake = std::min(wake, e.next);
        }
      }
    }
    StopSlots(to_stop);
    for (Due& d : due) {
      workers_->Schedule([this, d = std::move(d)] { RunOne(d); });
    }
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    absl::Duration wait = wake - clock_->Now();
    if (wait > absl::ZeroDuration()) {
      wake_.WaitWithTimeout(&mu_, std::min(wait, absl::Seconds(1)));
    }
  }
}

void ScrapeManager::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    wake_.SignalAll();
  }
  if (scheduler_.joinable()) scheduler_.join();
  if (workers_) workers_->Shutdown();
  std::vector<std::shared_ptr<LoopSlot>> all;
  {
    absl::MutexLock l(&mu_);
    for (auto& [job, pool] : pools_) {
      for (auto& [key, e] : pool.loops) all.push_back(e.slot);
    }
  }
  StopSlots(all);
}

std::vector<TargetStatus> ScrapeManager::ActiveTargets() const {
  absl::MutexLock l(&mu_);
  std::vector<TargetStatus> out;
  for (const auto& [job, pool] : pools_) {
    for (const auto& [key, e] : pool.loops) out.push_back(e.view->Status());
  }
  return out;
}

std::vector<std::pair<std::string, FamilyMetadata>> ScrapeManager::Metadata(
    std::string_view metric) const {
  absl::MutexLock l(&mu_);
  std::vector<std::pair<std::string, FamilyMetadata>> out;
  for (const auto& [job, pool] : pools_) {
    for (const auto& [key, e] : pool.loops) {
      for (auto& m : e.view->Metadata()) {
        if (metric.empty() || m.first == metric) out.push_back(std::move(m));
      }
    }
  }
  return out;
}

std::vector<DroppedTarget> ScrapeManager::DroppedTargets() const {
  absl::MutexLock l(&mu_);
  std::vector<DroppedTarget> out;
  for (const auto& [job, pool] : pools_) {
    out.insert(out.end(), pool.dropped.begin(), pool.dropped.end());
  }
  return out;
}

}  // namespace pantau::metrics::scrape
