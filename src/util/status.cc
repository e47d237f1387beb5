#include "util/status.h"

#include <cerrno>
#include <cstring>

namespace backspan {

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return {ErrorCode::kNoSpace, std::move(msg)};
    case ENOENT:
      return {ErrorCode::kNotFound, std::move(msg)};
    case EEXIST:
      return {ErrorCode::kAlreadyExists, std::move(msg)};
    default:
      return {ErrorCode::kIOError, std::move(msg)};
  }
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return {code_, std::string(context) + ": " + message_};
}

const char* Status::CodeName() const {
  switch (code_) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kAmbiguous: return "ambiguous";
    case ErrorCode::kIOError: return "io_error";
    case ErrorCode::kNoSpace: return "no_space";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kWrongPassword: return "wrong_password";
    case ErrorCode::kNotARepository: return "not_a_repository";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kLocked: return "locked";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kInterrupted: return "interrupted";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace backspan
