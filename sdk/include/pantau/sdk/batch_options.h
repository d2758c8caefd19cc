// Options of the batching processors for spans and log records.
//
// Thread safety: a value type.
#ifndef PANTAU_SDK_BATCH_OPTIONS_H_
#define PANTAU_SDK_BATCH_OPTIONS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace pantau::sdk {

struct BatchOptions {
  // Items held while waiting for export; past it the oldest is dropped and
  // counted. Default 2048 (the OpenTelemetry default). Its slots (a
  // pointer each) are allocated when the processor is made.
  size_t max_queue_size = 2048;
  // Most items per export call. Default 512.
  size_t max_batch_size = 512;
  // Longest wait before a partial batch is exported. Default 5 s.
  absl::Duration schedule_delay = absl::Seconds(5);
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_BATCH_OPTIONS_H_
