// OpenTelemetry semantic-convention attribute names the SDK sets, as
// constexpr arrays so they are attribute keys without a copy
// (attributes.h).
//
// Thread safety: constants.
#ifndef PANTAU_SDK_SEMCONV_H_
#define PANTAU_SDK_SEMCONV_H_

namespace pantau::sdk::semconv {

// Resource.
inline constexpr char kServiceName[] = "service.name";
inline constexpr char kServiceVersion[] = "service.version";
inline constexpr char kServiceNamespace[] = "service.namespace";
inline constexpr char kServiceInstanceId[] = "service.instance.id";
inline constexpr char kDeploymentEnvironment[] = "deployment.environment";
inline constexpr char kHostName[] = "host.name";
inline constexpr char kProcessPid[] = "process.pid";
inline constexpr char kTelemetrySdkName[] = "telemetry.sdk.name";
inline constexpr char kTelemetrySdkLanguage[] = "telemetry.sdk.language";
inline constexpr char kTelemetrySdkVersion[] = "telemetry.sdk.version";

// HTTP spans.
inline constexpr char kHttpRequestMethod[] = "http.request.method";
inline constexpr char kHttpResponseStatusCode[] = "http.response.status_code";
inline constexpr char kHttpRoute[] = "http.route";
inline constexpr char kUrlPath[] = "url.path";
inline constexpr char kUrlQuery[] = "url.query";
inline constexpr char kUrlFull[] = "url.full";
inline constexpr char kUrlScheme[] = "url.scheme";
inline constexpr char kServerAddress[] = "server.address";
inline constexpr char kServerPort[] = "server.port";
inline constexpr char kClientAddress[] = "client.address";
inline constexpr char kNetworkPeerAddress[] = "network.peer.address";
inline constexpr char kUserAgentOriginal[] = "user_agent.original";
inline constexpr char kErrorType[] = "error.type";

// Exceptions (span events named "exception").
inline constexpr char kExceptionType[] = "exception.type";
inline constexpr char kExceptionMessage[] = "exception.message";

}  // namespace pantau::sdk::semconv

#endif  // PANTAU_SDK_SEMCONV_H_
