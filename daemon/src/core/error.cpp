#include "esrsync/core/error.hpp"

namespace esrsync {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::io:
      return "io";
    case Errc::parse:
      return "parse";
    case Errc::validation:
      return "validation";
    case Errc::limit:
      return "limit";
    case Errc::encoding:
      return "encoding";
    case Errc::lookup:
      return "lookup";
    case Errc::structure:
      return "structure";
    case Errc::mapping:
      return "mapping";
    case Errc::config:
      return "config";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out;
  out.reserve(origin.file.size() + rule.size() + message.size() + 32);
  if (!origin.file.empty()) {
    out += origin.file;
    if (origin.line != 0) {
      out += ':';
      out += std::to_string(origin.line);
      if (origin.column != 0) {
        out += ':';
        out += std::to_string(origin.column);
      }
    }
    out += ": ";
  }
  out += rule.empty() ? std::string(esrsync::to_string(code)) : rule;
  out += ": ";
  out += message;
  if (!origin.field.empty()) {
    out += " [field ";
    out += origin.field;
    out += ']';
  }
  return out;
}

Error make_error(Errc code, std::string rule, std::string message, Origin origin) {
  return Error{code, std::move(rule), std::move(message), std::move(origin)};
}

}  // namespace esrsync
