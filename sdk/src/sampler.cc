#include "pantau/sdk/sampler.h"

#include <algorithm>
#include <cmath>

#include "sampler_internal.h"

namespace pantau::sdk {
namespace {

class AlwaysOn : public Sampler {
 public:
  bool ShouldSample(const SamplingParams&) const override { return true; }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOff : public Sampler {
 public:
  bool ShouldSample(const SamplingParams&) const override { return false; }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

class Ratio : public Sampler {
 public:
  explicit Ratio(double ratio) : ratio_(std::clamp(ratio, 0.0, 1.0)) {
    // 2^63 as a double is exact; the product rounds down when converted.
    bound_ = ratio_ >= 1.0
                 ? UINT64_MAX
                 : static_cast<uint64_t>(ratio_ * 9223372036854775808.0);
  }
  bool ShouldSample(const SamplingParams& p) const override {
    uint64_t low = 0;
    for (int i = 8; i < 16; ++i) low = low << 8 | p.trace_id.bytes[i];
    return (low >> 1) < bound_;
  }
  std::string Description() const override {
    return "TraceIdRatioBased{" + std::to_string(ratio_) + "}";
  }

 private:
  double ratio_;
  uint64_t bound_;
};

class ParentBased : public Sampler {
 public:
  explicit ParentBased(std::unique_ptr<Sampler> root)
      : root_(std::move(root)) {}
  bool ShouldSample(const SamplingParams& p) const override {
    if (p.parent != nullptr && p.parent->IsValid()) {
      return p.parent->IsSampled();
    }
    return root_->ShouldSample(p);
  }
  std::string Description() const override {
    return "ParentBased{root=" + root_->Description() + "}";
  }
  const Sampler& root() const { return *root_; }

 private:
  std::unique_ptr<Sampler> root_;
};

}  // namespace

namespace internal {

SamplerShortcut ShortcutOf(const Sampler& sampler) {
  if (dynamic_cast<const AlwaysOn*>(&sampler) != nullptr) {
    return SamplerShortcut::kAlwaysOn;
  }
  if (dynamic_cast<const AlwaysOff*>(&sampler) != nullptr) {
    return SamplerShortcut::kAlwaysOff;
  }
  if (const auto* p = dynamic_cast<const ParentBased*>(&sampler)) {
    switch (ShortcutOf(p->root())) {
      case SamplerShortcut::kAlwaysOn:
        return SamplerShortcut::kParentOrOn;
      case SamplerShortcut::kAlwaysOff:
        return SamplerShortcut::kParentOrOff;
      default:
        break;
    }
  }
  return SamplerShortcut::kNone;
}

}  // namespace internal

std::unique_ptr<Sampler> AlwaysOnSampler() {
  return std::make_unique<AlwaysOn>();
}
std::unique_ptr<Sampler> AlwaysOffSampler() {
  return std::make_unique<AlwaysOff>();
}
std::unique_ptr<Sampler> TraceIdRatioSampler(double ratio) {
  if (std::isnan(ratio)) ratio = 0;
  return std::make_unique<Ratio>(ratio);
}
std::unique_ptr<Sampler> ParentBasedSampler(std::unique_ptr<Sampler> root) {
  return std::make_unique<ParentBased>(std::move(root));
}

}  // namespace pantau::sdk
