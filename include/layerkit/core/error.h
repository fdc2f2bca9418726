// The one exception type of layerkit, its codes, and the check/assert macros that throw it.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace layerkit {

enum class ErrorCode {
  kINVALID_ARGUMENT,  // the caller's fault: bad shapes, dtypes, attributes, names
  kUNSUPPORTED,       // valid request that this build or device cannot serve
  kINTERNAL,          // a broken invariant inside layerkit (a bug)
  kIO,                // files and streams
  kOUT_OF_MEMORY,
  kRUNTIME,  // failure while executing an engine (e.g. data-dependent bounds)
};

std::string_view error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

namespace detail {
// Concatenates stream-printable values; used by the macros below so call sites stay one line.
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
[[noreturn]] void throw_error(ErrorCode code, const std::string& message);
[[noreturn]] void throw_internal(const char* file, int line, const char* cond,
                                 const std::string& message);
}  // namespace detail

}  // namespace layerkit

// User-facing check: throws kINVALID_ARGUMENT with the concatenated message.
#define LK_CHECK(cond, ...)                                                     \
  do {                                                                          \
    if (!(cond))                                                                \
      ::layerkit::detail::throw_error(::layerkit::ErrorCode::kINVALID_ARGUMENT, \
                                      ::layerkit::detail::cat(__VA_ARGS__));    \
  } while (0)

// Throws an error with an explicit code.
#define LK_FAIL(code, ...) \
  ::layerkit::detail::throw_error(::layerkit::ErrorCode::code, ::layerkit::detail::cat(__VA_ARGS__))

// Internal invariant: a failure is a layerkit bug; it throws kINTERNAL instead of aborting.
#define LK_ASSERT(cond, ...)                                                                      \
  do {                                                                                            \
    if (!(cond))                                                                                  \
      ::layerkit::detail::throw_internal(__FILE__, __LINE__, #cond,                               \
                                         ::layerkit::detail::cat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
