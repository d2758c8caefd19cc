// Short call sites for functions that return absl::Status or StatusOr<T>.
//
//   PANTAU_RETURN_IF_ERROR(file->Sync());
//   PANTAU_ASSIGN_OR_RETURN(auto block, OpenBlock(dir));
//
// Both evaluate their argument once and return the error unchanged.
#ifndef PANTAU_BASE_STATUS_MACROS_H_
#define PANTAU_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PANTAU_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status pantau_status_ = (expr);          \
    if (!pantau_status_.ok()) return pantau_status_; \
  } while (0)

#define PANTAU_STATUS_CONCAT_INNER_(a, b) a##b
#define PANTAU_STATUS_CONCAT_(a, b) PANTAU_STATUS_CONCAT_INNER_(a, b)

#define PANTAU_ASSIGN_OR_RETURN(lhs, expr) \
  PANTAU_ASSIGN_OR_RETURN_IMPL_(           \
      PANTAU_STATUS_CONCAT_(pantau_statusor_, __LINE__), lhs, expr)

#define PANTAU_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // PANTAU_BASE_STATUS_MACROS_H_
