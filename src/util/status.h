// The one error model of backspan: every fallible function returns a Status
// or a Result<T>. No exceptions cross module boundaries.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace backspan {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // the caller (usually the user) asked for something malformed
  kNotFound,
  kAlreadyExists,
  kAmbiguous,        // e.g. a snapshot id prefix that matches several snapshots
  kIOError,
  kNoSpace,
  kCorruption,       // data failed authentication, hashing or decoding
  kWrongPassword,
  kNotARepository,
  kUnsupported,
  kLocked,           // another job holds a conflicting repository lock
  kUnauthenticated,  // a credential (a token) is missing, malformed, expired or not trusted
  kPermissionDenied,  // the credential is good but does not allow this (e.g. append-only storage keys)
  kInterrupted,      // a signal (SIGINT, SIGTERM) stopped the job (util/interrupt.h)
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Status Ambiguous(std::string m) { return {ErrorCode::kAmbiguous, std::move(m)}; }
  static Status IOError(std::string m) { return {ErrorCode::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {ErrorCode::kCorruption, std::move(m)}; }
  static Status WrongPassword(std::string m) { return {ErrorCode::kWrongPassword, std::move(m)}; }
  static Status NotARepository(std::string m) { return {ErrorCode::kNotARepository, std::move(m)}; }
  static Status Unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }
  static Status Locked(std::string m) { return {ErrorCode::kLocked, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {ErrorCode::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {ErrorCode::kPermissionDenied, std::move(m)}; }
  static Status Interrupted(std::string m) { return {ErrorCode::kInterrupted, std::move(m)}; }
  static Status Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  // Builds a status from an errno value; `what` names the operation and path,
  // e.g. "open /data/x". ENOSPC maps to kNoSpace, ENOENT to kNotFound.
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  // A stable lower-case name of the code, e.g. "corruption"; used as error.type later.
  const char* CodeName() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace backspan

#define BACKSPAN_CONCAT_INNER(a, b) a##b
#define BACKSPAN_CONCAT(a, b) BACKSPAN_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::backspan::Status _st = (expr);           \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BACKSPAN_CONCAT(_res_, __LINE__), lhs, expr)
