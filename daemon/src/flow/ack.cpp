#include "esrsync/flow/ack.hpp"

#include <algorithm>

#include "esrsync/codec/encoder.hpp"

namespace esrsync::flow {
namespace {

std::string clean(std::string text, char separator) {
  std::replace_if(
      text.begin(), text.end(), [separator](char c) { return c == separator || c == '\n' || c == '\r'; }, ' ');
  return text;
}

}  // namespace

Result<std::optional<std::string>> make_ack(const InboundResult& result, const std::string& file_name,
                                            const model::DateTime& created,
                                            std::shared_ptr<const mapping::Mapping> ack_mapping) {
  if (result.outcome == Outcome::held) return std::optional<std::string>{};
  const char separator = ack_mapping->separator;
  auto encoder = codec::Encoder::create(std::move(ack_mapping));
  if (!encoder) return fail(std::move(encoder).error());
  std::string out;
  model::Record ack;
  ack.reset(model::Entity::ack);
  ack.set("file_name", file_name);
  ack.set("status", result.outcome == Outcome::applied   ? "ACCEPTED"
                    : result.outcome == Outcome::partial ? "PARTIAL"
                                                         : "REJECTED");
  ack.set("records_read", std::to_string(result.records_read));
  ack.set("accepted", std::to_string(result.accepted));
  ack.set("rejected", std::to_string(result.rejected));
  ack.set("created", model::to_iso(created));
  if (auto ok = (*encoder)->append(ack, out); !ok) return fail(std::move(ok).error());

  model::Record err;
  const auto add_err = [&](std::uint64_t line, const std::string& type, const std::string& key, const std::string& code,
                           const std::string& message) -> Status {
    err.reset(model::Entity::ack_error);
    err.set("line", std::to_string(line));
    err.set("record_type", clean(type, separator));
    err.set("record_key", clean(key, separator));
    err.set("error_code", clean(code, separator));
    err.set("message", clean(message, separator));
    return (*encoder)->append(err, out);
  };
  for (const auto& r : result.rejections) {
    if (auto ok = add_err(r.line, r.record_type, r.record_key, r.error_code, r.message); !ok)
      return fail(std::move(ok).error());
  }
  if (result.outcome == Outcome::rejected || result.outcome == Outcome::duplicate) {
    for (const auto& e : result.file_errors) {
      if (auto ok =
              add_err(e.origin.line, "FILE", result.vpd.empty() ? "" : result.vpd + ":" + std::to_string(result.seq),
                      e.rule, e.message + (e.origin.field.empty() ? "" : " [" + e.origin.field + "]"));
          !ok) {
        return fail(std::move(ok).error());
      }
    }
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace esrsync::flow
