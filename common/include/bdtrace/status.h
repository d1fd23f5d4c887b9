/* SPDX-License-Identifier: MIT */
// Error, Expected<T> and Status: the one way bdtrace's host code reports
// failure (tools, analyzer, plugin setup, ring, filter, handlers).
//
// No exception crosses the C boundaries bdtrace lives between (QEMU plugin
// callbacks, babeltrace2 component methods, liblttng-ctl), so failures travel
// as values. An Error is a top-level message that says what failed and, where
// we know it, what to do next, plus the causes gathered below it, root cause
// first (babeltrace2's error causes, or lower layers' messages added with
// Wrap() as the error travels up).
#ifndef BDTRACE_STATUS_H
#define BDTRACE_STATUS_H

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace bdtrace {

struct Error {
  std::string message;
  std::vector<std::string> causes;

  // "message" then one "  caused by: cause" line per cause.
  std::string ToString() const {
    std::string out = message;
    for (const std::string &cause : causes) {
      out += "\n  caused by: ";
      out += cause;
    }
    return out;
  }

  // The error as seen one layer up: `outer` says what that layer was doing,
  // and this error's message becomes the newest cause.
  Error Wrap(std::string outer) && {
    causes.push_back(std::move(message));
    message = std::move(outer);
    return std::move(*this);
  }
};

inline Error make_error(std::string message) { return Error{std::move(message), {}}; }

// Prints the whole chain (ToString()): what users and test failures see.
inline std::ostream &operator<<(std::ostream &os, const Error &error) { return os << error.ToString(); }

// A T, or the Error that kept us from making one. Implicit from both, so a
// function returns either `value` or `make_error("...")`.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Only valid when ok().
  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  // Only valid when !ok().
  const Error &error() const & { return std::get<1>(v_); }
  Error take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Success, or an Error: Expected<void>'s stand-in.
class [[nodiscard]] Status {
 public:
  Status() = default;                                // success
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  // Only valid when !ok().
  const Error &error() const & { return *error_; }
  Error take_error() { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

}  // namespace bdtrace

#endif  // BDTRACE_STATUS_H
