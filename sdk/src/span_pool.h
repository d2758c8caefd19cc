// A process-wide pool of SpanData objects, so that a sampled span costs no
// heap allocation once the pool is warm: the batch processor's worker
// hands exported spans back, and Tracer::StartSpan takes them out again,
// reset but keeping the capacity of their name, attribute and event
// storage.
//
// Producers take spans from a small per-thread cache that refills in
// chunks from the shared pool under one lock, so the lock is paid once
// per kChunk spans, not per span. The pool is bounded; beyond that,
// returned spans are freed.
//
// Thread safety: all functions are safe to call from any thread.
#ifndef PANTAU_SDK_SRC_SPAN_POOL_H_
#define PANTAU_SDK_SRC_SPAN_POOL_H_

#include <memory>
#include <vector>

#include "pantau/sdk/span_data.h"

namespace pantau::sdk::internal {

// A SpanData with every field at its default value (a recycled one when
// there is one).
std::unique_ptr<SpanData> NewSpanData();

// Hands spans that nobody references any more back for reuse; `spans` is
// left empty. Only moves pointers: a span is reset when it is taken out
// again, by the thread that fills it.
void RecycleSpanData(std::vector<std::unique_ptr<SpanData>>& spans);

// As above, for one span (into this thread's cache when there is room).
void RecycleSpanData(std::unique_ptr<SpanData> span);

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_SPAN_POOL_H_
