#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace pantau::base::internal {

CheckFailure::CheckFailure(const char* file, int line,
                           std::string_view condition) {
  stream_ << file << ":" << line << ": check failed: " << condition << " ";
}

CheckFailure::~CheckFailure() {
  std::string msg = stream_.str();
  std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace pantau::base::internal
