// layerkit::Error and the helpers behind the LK_CHECK / LK_ASSERT macros.
#include "layerkit/core/error.h"

namespace layerkit {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kINVALID_ARGUMENT:
      return "kINVALID_ARGUMENT";
    case ErrorCode::kUNSUPPORTED:
      return "kUNSUPPORTED";
    case ErrorCode::kINTERNAL:
      return "kINTERNAL";
    case ErrorCode::kIO:
      return "kIO";
    case ErrorCode::kOUT_OF_MEMORY:
      return "kOUT_OF_MEMORY";
    case ErrorCode::kRUNTIME:
      return "kRUNTIME";
  }
  return "?";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(message), code_(code) {}

namespace detail {
void throw_error(ErrorCode code, const std::string& message) {
  throw Error(code, message);
}
void throw_internal(const char* file, int line, const char* cond, const std::string& message) {
  throw Error(ErrorCode::kINTERNAL, cat("internal error at ", file, ":", line, ": ", cond,
                                        message.empty() ? "" : ": ", message));
}
}  // namespace detail

}  // namespace layerkit
