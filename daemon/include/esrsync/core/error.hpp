#pragma once
// Error values for every I/O, parsing and validation edge (STYLE.md rule 5).
//
// An Error says what went wrong (code + rule), in words an operator can act on (message), and where
// (Origin: file, line, column, field). Errors never carry personal data in `message` beyond the
// offending record key or code: a bad NHS number is reported by rule and position, not by value.

#include <cstdint>
#include <string>
#include <string_view>

namespace esrsync {

// The kind of failure. The fine-grained reason is `Error::rule` (e.g. "nhs_number.check_digit").
enum class Errc : std::uint8_t {
  io,          // the environment: open, read, write, fsync, rename
  parse,       // the bytes do not form the expected structure (CSV quoting, XML, delimiters)
  validation,  // a value breaks a DOMAIN.md validation rule
  limit,       // a line, field, record or file over its configured size
  encoding,    // invalid byte sequence for the declared encoding
  lookup,      // a code not found in a lookup table
  structure,   // file-level rule: HDR/TRL missing or wrong, counts, record types
  mapping,     // the mapping definition itself is invalid
  config,      // configuration or command-line error
};

std::string_view to_string(Errc code) noexcept;

// Where an error was found. `line` and `column` are 1-based; 0 means "not applicable".
struct Origin {
  std::string file;
  std::uint64_t line = 0;
  std::uint32_t column = 0;
  std::string field;  // canonical or source field name, empty when the error is not about one field
};

struct Error {
  Errc code = Errc::parse;
  std::string rule;     // stable machine-readable rule id, e.g. "ni_number.prefix"
  std::string message;  // human-readable, no personal data
  Origin origin;

  // "file:line[:column]: rule: message [field]" — the format `esrsync map` prints on stderr.
  [[nodiscard]] std::string to_string() const;
};

[[nodiscard]] Error make_error(Errc code, std::string rule, std::string message, Origin origin = {});

}  // namespace esrsync
