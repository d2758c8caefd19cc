// Lets the tracer decide for the SDK's own samplers without a virtual call
// (two, for ParentBased): Tracer::StartSpan runs for every span, sampled or
// not, and an unsampled span must cost only a few nanoseconds.
//
// Thread safety: pure functions.
#ifndef PANTAU_SDK_SRC_SAMPLER_INTERNAL_H_
#define PANTAU_SDK_SRC_SAMPLER_INTERNAL_H_

#include <cstdint>

#include "pantau/sdk/sampler.h"

namespace pantau::sdk::internal {

enum class SamplerShortcut : uint8_t {
  kNone,         // call ShouldSample
  kAlwaysOn,     // AlwaysOnSampler()
  kAlwaysOff,    // AlwaysOffSampler()
  kParentOrOn,   // ParentBasedSampler(AlwaysOnSampler())
  kParentOrOff,  // ParentBasedSampler(AlwaysOffSampler())
};

// What `sampler` decides, when it is one of the above.
SamplerShortcut ShortcutOf(const Sampler& sampler);

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_SAMPLER_INTERNAL_H_
