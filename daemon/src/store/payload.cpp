#include "esrsync/store/payload.hpp"

#include <zstd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>

namespace esrsync::store {

namespace {

constexpr unsigned char kTagV1 = 0x01;
constexpr unsigned char kTagV2 = 0x02;

// Dictionary v1. NEVER EDIT: payloads already stored with tag 0x01 are only readable with exactly
// these bytes (PayloadTest.TheV1DictionaryNeverChanges pins them). Canonical JSON skeletons of
// clearance, immunisation, assignment and person (the commonest last: zstd reaches the end of a
// dictionary most cheaply), with values every trust's records share.
constexpr std::string_view kDictionaryV1 =
    R"({"entity":"clearance","fields":{"person_number":"","employee_number":"","nhs_number":"","ni_number":"",)"
    R"("surname":"","forenames":"","date_of_birth":"","assignment_number":"","clearance_type":"STANDARD",)"
    R"("outcome":"CLEARED","outcome_date":"","review_date":"","provider_code":""}})"
    R"({"entity":"immunisation","fields":{"event_id":"","provider_code":"","person_number":"",)"
    R"("employee_number":"","nhs_number":"","ni_number":"","surname":"","forenames":"","previous_surname":"",)"
    R"("date_of_birth":"","postcode":"","antigen":"MMR_MEASLES","snomed_code":"","kind":"vaccination",)"
    R"("status":"COMPLETED","event_date":"20","dose":"1","result":"","evidence":"RECORD","vaccine_code":"",)"
    R"("vaccine_name":""}})"
    R"({"entity":"assignment","fields":{"person_number":"1000","assignment_number":"1000","vpd":"",)"
    R"("org_code":"R","position_title":"Staff Nurse","staff_group":"Nursing and Midwifery Registered",)"
    R"("occupation_code":"","department":"","site":"","start_date":"20","end_date":"20","lead_employer":"N",)"
    R"("primary":"Y","trainee":"N","grade":"Band ","epp":"N"}})"
    R"({"entity":"person","fields":{"person_number":"1000","employee_number":"E","ni_number":"","nhs_number":"",)"
    R"("title":"M","surname":"","forenames":"","previous_surname":"","date_of_birth":"19","gender":"F",)"
    R"("email":"@nhs.net","mobile":"07","postcode":"","transfer_consent":"Y"}})";

struct FreeCCtx {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
struct FreeCDict {
  void operator()(ZSTD_CDict* d) const { ZSTD_freeCDict(d); }
};
struct FreeDDict {
  void operator()(ZSTD_DDict* d) const { ZSTD_freeDDict(d); }
};

// Digested once, shared read-only by every thread (libzstd allows it).
const ZSTD_CDict* compression_dictionary() {
  static const std::unique_ptr<ZSTD_CDict, FreeCDict> dict(
      ZSTD_createCDict(kDictionaryV1.data(), kDictionaryV1.size(), -1));
  if (!dict) std::abort();  // out of memory: unrecoverable (STYLE.md rule 7)
  return dict.get();
}

const ZSTD_DDict* decompression_dictionary() {
  static const std::unique_ptr<ZSTD_DDict, FreeDDict> dict(
      ZSTD_createDDict(kDictionaryV1.data(), kDictionaryV1.size()));
  if (!dict) std::abort();
  return dict.get();
}

// Layouts v2. NEVER EDIT: payloads already stored with tag 0x02 are read back with exactly these
// names in this order (PayloadTest.TheV2LayoutsNeverChange pins them). They are the canonical
// field order of the four stored entities when v2 was made; a record that does not follow its
// layout (a field added to the schema later, a field out of order) is packed with tag 0x01.
constexpr std::string_view kPersonV2[] = {"action",           "person_number", "employee_number", "ni_number",
                                          "nhs_number",       "title",         "surname",         "forenames",
                                          "previous_surname", "date_of_birth", "gender",          "email",
                                          "mobile",           "postcode",      "transfer_consent"};
constexpr std::string_view kAssignmentV2[] = {
    "action",        "person_number",   "assignment_number", "vpd",   "org_code",   "position_title",
    "staff_group",   "occupation_code", "department",        "site",  "start_date", "end_date",
    "lead_employer", "primary",         "trainee",           "grade", "epp"};
constexpr std::string_view kImmunisationV2[] = {
    "action",    "event_id",    "provider_code", "person_number",    "employee_number", "nhs_number",
    "ni_number", "surname",     "forenames",     "previous_surname", "date_of_birth",   "postcode",
    "antigen",   "snomed_code", "kind",          "status",           "event_date",      "dose",
    "result",    "evidence",    "vaccine_code",  "vaccine_name"};
constexpr std::string_view kClearanceV2[] = {"action",        "person_number", "employee_number",   "nhs_number",
                                             "ni_number",     "surname",       "forenames",         "previous_surname",
                                             "date_of_birth", "postcode",      "assignment_number", "clearance_type",
                                             "outcome",       "outcome_date",  "review_date",       "provider_code"};

struct Layout {
  std::string_view entity;
  std::span<const std::string_view> fields;
};
constexpr std::array<Layout, 4> kLayoutsV2{{
    {"person", kPersonV2},
    {"assignment", kAssignmentV2},
    {"immunisation", kImmunisationV2},
    {"clearance", kClearanceV2},
}};
constexpr std::size_t kMaxLayoutFields = 22;
constexpr bool layouts_fit() {
  for (const auto& l : kLayoutsV2) {
    if (l.fields.size() > kMaxLayoutFields) return false;
  }
  return true;
}
static_assert(layouts_fit(), "pack_v2 keeps a layout's values in arrays of kMaxLayoutFields");

constexpr std::string_view kEntityOpen = R"({"entity":")";
constexpr std::string_view kFieldsOpen = R"(","fields":{)";

// A 32-bit check of the JSON a v2 payload stands for (zstd's frames carry one of the same size):
// a damaged payload is an error, never another record. Little-endian words, whatever the machine.
std::uint32_t check_of(std::string_view bytes) noexcept {
  const auto word = [&](std::size_t at, std::size_t n) {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i)
      w |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    return w;
  };
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ bytes.size();
  std::size_t at = 0;
  for (; at + 8 <= bytes.size(); at += 8) {
    h = (h ^ word(at, 8)) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
  }
  h = (h ^ word(at, bytes.size() - at)) * 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 29;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

void put_varint(std::size_t v, std::string& out) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// Tag 0x02: the canonical JSON without what its layout implies (the braces, the entity, the field
// names, the quotes): [0x02][layout][check, 4 bytes LE] then per layout field a varint (0: absent,
// else 1 + the length) and the value's bytes as they stand between the JSON's quotes. Taken only
// when the JSON is exactly `{"entity":"E","fields":{"f":"v",...}}` with E's fields in layout
// order, so it is rebuilt byte for byte; false (nothing appended) otherwise.
bool pack_v2(std::string_view json, std::string& out) {
  if (!json.starts_with(kEntityOpen)) return false;
  std::size_t at = kEntityOpen.size();
  std::size_t layout = 0;
  while (layout < kLayoutsV2.size() && !(json.substr(at).starts_with(kLayoutsV2[layout].entity) &&
                                         json.substr(at + kLayoutsV2[layout].entity.size()).starts_with(kFieldsOpen))) {
    ++layout;
  }
  if (layout == kLayoutsV2.size()) return false;
  const auto fields = kLayoutsV2[layout].fields;
  at += kLayoutsV2[layout].entity.size() + kFieldsOpen.size();
  std::array<std::optional<std::string_view>, kMaxLayoutFields> values{};  // by layout field
  std::size_t next = 0;  // fields come in layout order: the next one is at or after this
  bool open = true;      // the fields' object, until its closing brace
  if (at < json.size() && json[at] == '}') {
    ++at;
    open = false;
  }
  while (open) {
    if (at >= json.size() || json[at] != '"') return false;
    const std::size_t name_end = json.find('"', at + 1);
    if (name_end == std::string_view::npos) return false;
    const std::string_view name = json.substr(at + 1, name_end - at - 1);
    while (next < fields.size() && fields[next] != name)
      ++next;
    if (next == fields.size()) return false;
    at = name_end + 1;
    if (json.substr(at, 2) != R"(:")") return false;
    at += 2;
    const std::size_t start = at;
    while (at < json.size() && json[at] != '"')
      at += json[at] == '\\' ? std::size_t{2} : std::size_t{1};
    if (at >= json.size()) return false;
    values[next] = json.substr(start, at - start);
    ++next;
    ++at;
    if (at < json.size() && json[at] == ',') {
      ++at;
    } else if (at < json.size() && json[at] == '}') {
      ++at;
      open = false;
    } else {
      return false;
    }
  }
  if (json.substr(at) != "}") return false;
  const std::uint32_t check = check_of(json);
  out += static_cast<char>(kTagV2);
  out += static_cast<char>(layout);
  for (int i = 0; i < 4; ++i)
    out += static_cast<char>((check >> (8 * i)) & 0xFF);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    put_varint(values[i] ? values[i]->size() + 1 : 0, out);
    if (values[i]) out.append(*values[i]);
  }
  return true;
}

Unexpected bad_payload(std::string message) {
  return fail(Errc::parse, "store.payload", std::move(message));
}

Result<std::string> unpack_v2(std::string_view stored) {
  if (stored.size() < 6 || static_cast<unsigned char>(stored[1]) >= kLayoutsV2.size()) {
    return bad_payload("the packed payload's header is damaged");
  }
  const Layout& layout = kLayoutsV2[static_cast<unsigned char>(stored[1])];
  std::uint32_t check = 0;
  for (std::size_t i = 0; i < 4; ++i)
    check |= std::uint32_t{static_cast<unsigned char>(stored[2 + i])} << (8 * i);
  std::string out;
  out.reserve(stored.size() * 3 + 64);
  out += kEntityOpen;
  out += layout.entity;
  out += kFieldsOpen;
  std::size_t at = 6;
  bool first = true;
  for (const auto field : layout.fields) {
    std::size_t n = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= stored.size() || shift > 28) return bad_payload("the packed payload is cut short or damaged");
      const auto byte = static_cast<unsigned char>(stored[at++]);
      n |= std::size_t{byte & 0x7FU} << shift;
      if ((byte & 0x80U) == 0) break;
    }
    if (n == 0) continue;
    if (n - 1 > stored.size() - at) return bad_payload("the packed payload is cut short or damaged");
    if (!first) out += ',';
    first = false;
    out += '"';
    out += field;
    out += R"(":")";
    out.append(stored.substr(at, n - 1));
    out += '"';
    at += n - 1;
  }
  out += "}}";
  if (at != stored.size() || check_of(out) != check) {
    return bad_payload("the packed payload is damaged (its check does not match)");
  }
  return out;
}

}  // namespace

std::string_view payload_dictionary_v1() noexcept {
  return kDictionaryV1;
}

void pack_payload(std::string_view json, std::string& out) {
  if (pack_v2(json, out)) return;
  // One context per thread, set up once: the dictionary, a content checksum, and no dictionary ID
  // in the frame (a raw-content dictionary has none: the tag says which one).
  thread_local const std::unique_ptr<ZSTD_CCtx, FreeCCtx> ctx = [] {
    std::unique_ptr<ZSTD_CCtx, FreeCCtx> c(ZSTD_createCCtx());
    if (!c || ZSTD_isError(ZSTD_CCtx_refCDict(c.get(), compression_dictionary())) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_dictIDFlag, 0))) {
      std::abort();  // out of memory, or a libzstd without these parameters: unrecoverable (rule 7)
    }
    return c;
  }();
  const std::size_t start = out.size();
  out.resize(start + 1 + ZSTD_compressBound(json.size()));
  out[start] = static_cast<char>(kTagV1);
  const std::size_t n =
      ZSTD_compress2(ctx.get(), out.data() + start + 1, out.size() - start - 1, json.data(), json.size());
  if (ZSTD_isError(n)) std::abort();  // the output is sized by ZSTD_compressBound: cannot fail
  out.resize(start + 1 + n);
}

bool is_packed_payload(std::string_view stored) noexcept {
  return !stored.empty() &&
         (static_cast<unsigned char>(stored.front()) == kTagV1 || static_cast<unsigned char>(stored.front()) == kTagV2);
}

Result<std::string> unpack_payload(std::string_view stored) {
  if (stored.empty() || stored.front() == '{') return std::string(stored);  // plain JSON, as stored before packing
  if (!is_packed_payload(stored)) {
    return bad_payload("unknown payload format (first byte " +
                       std::to_string(static_cast<unsigned char>(stored.front())) + ")");
  }
  if (static_cast<unsigned char>(stored.front()) == kTagV2) return unpack_v2(stored);
  const std::string_view frame = stored.substr(1);
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  // A record is a few hundred bytes; 16 MiB is far beyond any, and bounds what a damaged header
  // could make us allocate.
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (std::size_t{1} << 24)) {
    return bad_payload("the packed payload's header is damaged");
  }
  thread_local const std::unique_ptr<ZSTD_DCtx, FreeDCtx> ctx(ZSTD_createDCtx());
  if (!ctx) std::abort();
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompress_usingDDict(ctx.get(), out.data(), out.size(), frame.data(), frame.size(),
                                                   decompression_dictionary());
  if (ZSTD_isError(n)) return bad_payload(std::string("the packed payload is damaged: ") + ZSTD_getErrorName(n));
  if (n != size) return bad_payload("the packed payload holds fewer bytes than its header says");
  return out;
}

}  // namespace esrsync::store
