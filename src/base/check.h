// CHECK for states that cannot be recovered from, and DCHECK for internal
// invariants (compiled out with NDEBUG). Debian's Abseil (20220623) has no
// absl/log, so pantau defines its own. Never use these on input from the
// network, disk or a user: return a Status instead (STYLE.md rule 5).
//
//   PANTAU_CHECK(fd >= 0) << "open failed: " << path;
//   PANTAU_CHECK_OK(status);
//
// Thread safety: safe anywhere; a failure prints one line and aborts.
#ifndef PANTAU_BASE_CHECK_H_
#define PANTAU_BASE_CHECK_H_

#include <sstream>
#include <string_view>

#include "absl/status/status.h"

namespace pantau::base::internal {

// Collects the streamed message and aborts in its destructor.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, std::string_view condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets `cond ? (void)0 : Voidify() & stream` type-check.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace pantau::base::internal

#define PANTAU_CHECK(cond)                                                    \
  (cond)                                                                      \
      ? (void)0                                                               \
      : ::pantau::base::internal::Voidify() &                                 \
            ::pantau::base::internal::CheckFailure(__FILE__, __LINE__, #cond) \
                .stream()

#define PANTAU_CHECK_OK(expr)                                        \
  do {                                                               \
    const ::absl::Status pantau_check_status_ = (expr);              \
    PANTAU_CHECK(pantau_check_status_.ok()) << pantau_check_status_; \
  } while (0)

#ifdef NDEBUG
#define PANTAU_DCHECK(cond) \
  while (false) PANTAU_CHECK(cond)
#else
#define PANTAU_DCHECK(cond) PANTAU_CHECK(cond)
#endif

#endif  // PANTAU_BASE_CHECK_H_
