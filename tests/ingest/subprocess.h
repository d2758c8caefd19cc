// Starting a peer server for an integration test: fork/exec with output to
// a log file, a free port from the kernel, and a wait until it answers.
//
// Thread safety: not thread-safe; one test thread.
#ifndef PANTAU_TESTS_INGEST_SUBPROCESS_H_
#define PANTAU_TESTS_INGEST_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace pantau::testing {

// A port that was free a moment ago (bound to 0, then released).
int FreePort();

class Subprocess {
 public:
  // Starts argv[0] (absolute path) with stdout/stderr to `log_path`.
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& log_path);
  // Polls http://127.0.0.1:port/path until it answers 200 or `timeout`.
  absl::Status WaitHttpOk(int port, const std::string& path,
                          absl::Duration timeout);
  ~Subprocess();  // SIGTERM, then wait

 private:
  pid_t pid_ = -1;
};

}  // namespace pantau::testing

#endif  // PANTAU_TESTS_INGEST_SUBPROCESS_H_
