// The version of this build, for --version, /api/v1/status/buildinfo and
// the pantau_build_info metric. kRevision is the git commit at configure
// time ("unknown" outside a checkout).
#ifndef PANTAU_SERVER_VERSION_H_
#define PANTAU_SERVER_VERSION_H_

namespace pantau::server {

extern const char kVersion[];
extern const char kRevision[];
extern const char kBuildDate[];

}  // namespace pantau::server

#endif  // PANTAU_SERVER_VERSION_H_
