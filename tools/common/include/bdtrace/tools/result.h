// Status and Result<T>: error-or-value returns for the host tools.
//
// The tools talk to C libraries (liblttng-ctl, libc) and must never let an
// exception escape across them, so failures travel as values. Every message
// says what failed and, where we know it, what the user should do next.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace bdtrace::tools {

// A failure description. Wrapping the string keeps `Result<std::string>`
// unambiguous: a plain string is a value, an Error is a failure.
struct Error {
  std::string message;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

// Success, or an Error with a message.
class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  Status(Error e) : error_(std::move(e.message)), failed_(true) {}  // NOLINT: implicit on purpose

  static Status ok_status() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

// A value of T, or an Error with a message.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                  // NOLINT: implicit on purpose
  Result(Error e) : error_(std::move(e.message)) {}              // NOLINT: implicit on purpose

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  // Only valid when ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

  // Only meaningful when !ok().
  const std::string& error() const { return error_; }
  Status status() const { return ok() ? Status() : Status(Error{error_}); }

 private:
  std::optional<T> value_;
  std::string error_;
};

}  // namespace bdtrace::tools
