#include "span_pool.h"

#include <mutex>

namespace pantau::sdk::internal {
namespace {

// Spans moved between a thread's cache and the shared pool at a time.
constexpr size_t kChunk = 64;
// Most spans kept in the shared pool (about 1 KiB each when warm).
constexpr size_t kMaxPooled = 8192;
// A span that grew past these is freed rather than pooled, so one huge
// span does not pin its memory forever.
constexpr size_t kMaxPooledAttributes = 32;
constexpr size_t kMaxPooledNameBytes = 256;

// A plain std::mutex: Debian's Abseil is built without NDEBUG, so an
// absl::Mutex would run deadlock detection on every refill unless the
// program turned it off.
struct SharedPool {
  std::mutex mu;
  std::vector<SpanData*> free;  // guarded by mu
};

SharedPool& Shared() {
  // Leaked on purpose: threads may return spans during static destruction.
  static SharedPool* const pool = new SharedPool;
  return *pool;
}

// The per-thread cache. Trivially initialised initial-exec TLS, so the hot
// path is a %fs-relative load with no init guard.
__attribute__((
    tls_model("initial-exec"))) thread_local SpanData* tls_cache[kChunk];
__attribute__((tls_model("initial-exec"))) thread_local size_t tls_cached = 0;

// Registered on a thread's first refill; gives the cache back when the
// thread exits (else those spans would leak).
struct CacheOwner {
  ~CacheOwner() {
    SharedPool& pool = Shared();
    std::lock_guard<std::mutex> lock(pool.mu);
    while (tls_cached > 0) {
      SpanData* s = tls_cache[--tls_cached];
      if (pool.free.size() < kMaxPooled) {
        pool.free.push_back(s);
      } else {
        delete s;
      }
    }
  }
};

void EnsureCacheOwner() {
  thread_local CacheOwner owner;
  (void)owner;
}

void Refill() {
  EnsureCacheOwner();
  SharedPool& pool = Shared();
  std::lock_guard<std::mutex> lock(pool.mu);
  while (tls_cached < kChunk && !pool.free.empty()) {
    tls_cache[tls_cached++] = pool.free.back();
    pool.free.pop_back();
  }
}

// Back to defaults, keeping the storage of strings and vectors.
// Returns false when the span is too big to reuse.
bool Reset(SpanData& s) {
  if (s.attributes.capacity() > kMaxPooledAttributes ||
      s.name.capacity() > kMaxPooledNameBytes ||
      s.events.capacity() > kMaxPooledAttributes ||
      s.links.capacity() > kMaxPooledAttributes) {
    return false;
  }
  s.context.trace_id = TraceId();
  s.context.span_id = SpanId();
  s.context.trace_flags = 0;
  s.context.trace_state.clear();
  s.context.is_remote = false;
  s.parent_span_id = SpanId();
  s.parent_is_remote = false;
  s.name.clear();
  s.kind = SpanKind::kInternal;
  s.start_time_unix_nano = 0;
  s.end_time_unix_nano = 0;
  s.attributes.clear();
  s.events.clear();
  s.links.clear();
  s.status_code = StatusCode::kUnset;
  s.status_message.clear();
  s.dropped_attributes = 0;
  s.dropped_events = 0;
  s.dropped_links = 0;
  s.resource = nullptr;
  s.scope = nullptr;
  s.max_attributes = 128;
  s.max_events = 128;
  s.max_links = 128;
  return true;
}

}  // namespace

std::unique_ptr<SpanData> NewSpanData() {
  if (tls_cached == 0) Refill();
  while (tls_cached > 0) {
    // Reset here, not when recycled: the export worker then never writes
    // to a span, so its cache lines need not travel back to this core.
    std::unique_ptr<SpanData> s(tls_cache[--tls_cached]);
    if (Reset(*s)) return s;
  }
  return std::make_unique<SpanData>();
}

void RecycleSpanData(std::vector<std::unique_ptr<SpanData>>& spans) {
  {
    SharedPool& pool = Shared();
    std::lock_guard<std::mutex> lock(pool.mu);
    while (!spans.empty() && pool.free.size() < kMaxPooled) {
      pool.free.push_back(spans.back().release());
      spans.pop_back();
    }
  }
  spans.clear();  // frees what did not fit
}

void RecycleSpanData(std::unique_ptr<SpanData> span) {
  if (span == nullptr) return;
  if (tls_cached < kChunk) {
    // The cache must be returned when the thread exits.
    if (tls_cached == 0) EnsureCacheOwner();
    tls_cache[tls_cached++] = span.release();
    return;
  }
  std::vector<std::unique_ptr<SpanData>> one;
  one.push_back(std::move(span));
  RecycleSpanData(one);
}

}  // namespace pantau::sdk::internal
