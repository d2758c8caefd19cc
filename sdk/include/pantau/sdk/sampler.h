// Samplers decide at span start whether a span is recorded and exported.
//
//   ParentBased(TraceIdRatio(0.1))   // follow the caller; 10% of new traces
//
// TraceIdRatio keeps a trace when the low 63 bits of its trace id's last 8
// bytes fall below ratio * 2^63, so every service with the same ratio makes
// the same decision for the same trace.
//
// Thread safety: samplers are immutable and safe to share.
#ifndef PANTAU_SDK_SAMPLER_H_
#define PANTAU_SDK_SAMPLER_H_

#include <memory>
#include <string>
#include <string_view>

#include "pantau/sdk/span_context.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk {

struct SamplingParams {
  // The parent's context, or nullptr for a root span.
  const SpanContext* parent;
  const TraceId& trace_id;
  std::string_view name;
  SpanKind kind;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual bool ShouldSample(const SamplingParams& params) const = 0;
  virtual std::string Description() const = 0;
};

std::unique_ptr<Sampler> AlwaysOnSampler();
std::unique_ptr<Sampler> AlwaysOffSampler();
// `ratio` is clamped to [0, 1].
std::unique_ptr<Sampler> TraceIdRatioSampler(double ratio);
// Follows a valid parent's sampled flag; asks `root` for new traces.
std::unique_ptr<Sampler> ParentBasedSampler(std::unique_ptr<Sampler> root);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_SAMPLER_H_
