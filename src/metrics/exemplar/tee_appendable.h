// An Appendable that passes samples to the TSDB and keeps exemplars in an
// ExemplarStorage, so every ingest path (scrape, remote_write, OTLP) stores
// exemplars without knowing where they go.
//
// Exemplars of a batch are stored only after the batch's samples have
// committed, so a rolled-back or failed batch leaves no exemplar behind.
//
// Thread safety: the Appendable may be shared; each Appender belongs to one
// thread, as the Appender contract says.
#ifndef PANTAU_METRICS_EXEMPLAR_TEE_APPENDABLE_H_
#define PANTAU_METRICS_EXEMPLAR_TEE_APPENDABLE_H_

#include <memory>

#include "metrics/exemplar/exemplar_storage.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::exemplar {

class TeeAppendable : public Appendable {
 public:
  // Neither is owned; both must outlive this and its appenders.
  TeeAppendable(Appendable* samples, ExemplarStorage* exemplars)
      : samples_(samples), exemplars_(exemplars) {}

  std::unique_ptr<Appender> NewAppender() override;

 private:
  Appendable* samples_;
  ExemplarStorage* exemplars_;
};

}  // namespace pantau::metrics::exemplar

#endif  // PANTAU_METRICS_EXEMPLAR_TEE_APPENDABLE_H_
