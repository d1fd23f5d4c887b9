// Error results for the analyzer: no exceptions cross its API.
//
// An Error is a top-level message ("what failed, what to do next") plus the
// causes gathered below it, root cause first (e.g. babeltrace2's error
// causes). Expected<T> holds either a T or an Error; Status is
// Expected<void>'s stand-in.
#ifndef BDTRACE_ANALYZER_STATUS_H
#define BDTRACE_ANALYZER_STATUS_H

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace bdtrace::analyzer {

struct Error {
  std::string message;
  std::vector<std::string> causes;

  // "message" then one "  caused by: cause" line per cause.
  std::string ToString() const;
};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}    // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const Error &error() const { return std::get<1>(v_); }
  Error &&take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error &error() const { return *error_; }
  Error &&take_error() { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_STATUS_H
