#pragma once
// esrsync::Result<T>: a value or an Error (STYLE.md rule 5).
//
// The API is the subset of tl::expected / std::expected we use (has_value, value, error, *, ->,
// explicit bool, value_or), so moving to std::expected later is an alias. Results are [[nodiscard]]:
// ignoring one is a compile warning, and CI builds with warnings as errors.

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "esrsync/core/error.hpp"

namespace esrsync {

// Wraps an Error so `return Unexpected{err};` is unambiguous for Result<Error-like T>.
struct Unexpected {
  Error error;
};

[[nodiscard]] inline Unexpected fail(Error e) {
  return Unexpected{std::move(e)};
}
[[nodiscard]] inline Unexpected fail(Errc code, std::string rule, std::string message, Origin origin = {}) {
  return Unexpected{make_error(code, std::move(rule), std::move(message), std::move(origin))};
}

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_pointer_v<T>, "Result<T*> hides ownership; return a reference wrapper or a value");

 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  Error& error() & {
    assert(!has_value());
    return std::get<1>(v_);
  }
  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const { assert(has_value()); }

  Error& error() & {
    assert(!has_value());
    return *error_;
  }
  const Error& error() const& {
    assert(!has_value());
    return *error_;
  }
  Error&& error() && {
    assert(!has_value());
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;  // empty on success: a success costs no string construction
};

using Status = Result<void>;

}  // namespace esrsync
