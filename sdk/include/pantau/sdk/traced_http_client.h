// TracedHttpClient: wraps net::HttpClient so each outgoing request gets a
// CLIENT span (a child of the active span), carries traceparent/tracestate,
// and is timed in http_client_request_duration_seconds. See
// http_instrumentation.h for the attributes.
//
// Thread safety: Do may be called concurrently.
#ifndef PANTAU_SDK_TRACED_HTTP_CLIENT_H_
#define PANTAU_SDK_TRACED_HTTP_CLIENT_H_

#include "absl/status/statusor.h"
#include "net/http_client.h"
#include "pantau/sdk/http_instrumentation.h"

namespace pantau::sdk {

class TracedHttpClient {
 public:
  // `client` is not owned and must outlive this wrapper.
  explicit TracedHttpClient(net::HttpClient* client,
                            HttpInstrumentationOptions options = {});

  // As net::HttpClient::Do, traced. A transport error marks the span as an
  // error with error.type set to the status code name.
  absl::StatusOr<net::HttpClientResponse> Do(net::HttpClientRequest request);

 private:
  net::HttpClient* client_;
  Tracer* tracer_;
  Family<Histogram>* duration_;
  bool propagate_;
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_TRACED_HTTP_CLIENT_H_
