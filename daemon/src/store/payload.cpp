#include "esrsync/store/payload.hpp"

#include <zstd.h>

#include <cstdlib>
#include <memory>

namespace esrsync::store {

namespace {

constexpr unsigned char kTagV1 = 0x01;

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

Unexpected bad_payload(std::string message) {
  return fail(Errc::parse, "store.payload", std::move(message));
}

}  // namespace

std::string_view payload_dictionary_v1() noexcept {
  return kDictionaryV1;
}

void pack_payload(std::string_view json, std::string& out) {
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
  return !stored.empty() && static_cast<unsigned char>(stored.front()) == kTagV1;
}

Result<std::string> unpack_payload(std::string_view stored) {
  if (stored.empty() || stored.front() == '{') return std::string(stored);  // plain JSON, as stored before packing
  if (!is_packed_payload(stored)) {
    return bad_payload("unknown payload format (first byte " +
                       std::to_string(static_cast<unsigned char>(stored.front())) + ")");
  }
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
