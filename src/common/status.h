// Status and Result<T>: how every fallible call across a module boundary reports failure.
//
// A Status is a canonical code plus a message written for the operator or user who will
// read it at the edge (api/ turns it into an HTTP fault, cli/ into one line). No exception
// crosses a module boundary; inside a module, code may throw only if it catches before
// returning. Result<T> holds either a value or a non-OK Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace scoria {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the request is malformed or a value is out of range (HTTP 400)
  kPermissionDenied,    // the caller is known but policy forbids the operation (403)
  kNotFound,            // the named thing does not exist (404)
  kAlreadyExists,       // a unique name or id is taken (409)
  kFailedPrecondition,  // the state of a resource forbids the operation (400)
  kConflict,            // a concurrent change or conflicting request (409)
  kResourceExhausted,   // quota or capacity exceeded (413)
  kUnavailable,         // a service is down or the backend is unreachable; retryable (503)
  kUnauthenticated,     // the caller's credentials are missing, invalid or expired (401)
  kNotImplemented,      // the feature exists in Cinder but not here (501)
  kUnsupportedVersion,  // microversion outside the supported range (406)
  kInternal,            // a bug or an unexpected OS error (500)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: volume 123 not found"; for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status NotImplemented(std::string m) { return {StatusCode::kNotImplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a T or a non-OK Status. Constructing from an OK Status is a bug (becomes Internal).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                      // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Internal("Result constructed from OK status") : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace scoria

#define SCORIA_CONCAT_INNER(a, b) a##b
#define SCORIA_CONCAT(a, b) SCORIA_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::scoria::Status _st = (expr);             \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(SCORIA_CONCAT(_res_, __LINE__), lhs, expr)
