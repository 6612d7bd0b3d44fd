#include "esrsync/fhir/staff_history.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include "esrsync/core/checksum.hpp"
#include "esrsync/model/fields.hpp"

namespace esrsync::fhir {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;  // written in FHIR's customary order: resourceType first

constexpr std::string_view kSnomed = "http://snomed.info/sct";
constexpr std::string_view kStatusSystem = "urn:esrsync:status";
constexpr std::string_view kTestSystem = "urn:esrsync:antigen-test";  // code "<ANTIGEN>:<kind>"
constexpr std::string_view kEventSystemPrefix = "urn:esrsync:oh-event:";
constexpr std::string_view kProviderSystem = "urn:esrsync:oh-provider";
constexpr std::string_view kInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
constexpr std::string_view kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr std::string_view kCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr std::string_view kProfile = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-";

// A stable UUID-shaped id for a resource (RFC 4122 layout, version nibble 5-like, from SHA-256).
std::string uuid_for(std::string_view seed) {
  Sha256 h;
  h.update(seed);
  std::string hex = h.hex_digest().substr(0, 32);
  hex[12] = '5';
  hex[16] = "89ab"[static_cast<unsigned char>(hex[16]) % 4];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

std::string str(std::string_view v) {
  return std::string(v);
}

ojson profile(std::string_view resource) {
  return ojson{{"profile", ojson::array({std::string(kProfile) + std::string(resource)})}};
}

ojson patient(const model::Record& p, const std::string& id) {
  ojson identifiers = ojson::array();
  if (!p.get("nhs_number").empty()) {
    identifiers.push_back({{"system", str(kNhsNumberSystem)}, {"value", str(p.get("nhs_number"))}});
  }
  if (!p.get("person_number").empty()) {
    identifiers.push_back({{"system", str(kPersonNumberSystem)}, {"value", str(p.get("person_number"))}});
  }
  if (!p.get("ni_number").empty()) {
    identifiers.push_back({{"system", str(kNiNumberSystem)}, {"value", str(p.get("ni_number"))}});
  }
  ojson r{{"resourceType", "Patient"}, {"id", id}, {"meta", profile("Patient")}};
  if (!identifiers.empty()) r["identifier"] = identifiers;
  ojson name{{"use", "official"}};
  if (!p.get("surname").empty()) name["family"] = str(p.get("surname"));
  ojson given = ojson::array();
  const std::string forenames(p.get("forenames"));
  for (std::size_t at = 0; at < forenames.size();) {
    const auto end = std::min(forenames.find(' ', at), forenames.size());
    if (end > at) given.push_back(forenames.substr(at, end - at));
    at = end + 1;
  }
  if (!given.empty()) name["given"] = given;
  r["name"] = ojson::array({name});
  if (!p.get("previous_surname").empty()) {
    r["name"].push_back({{"use", "maiden"}, {"family", str(p.get("previous_surname"))}});
  }
  const auto gender = p.get("gender");
  if (!gender.empty()) {
    r["gender"] = gender == "M" ? "male" : gender == "F" ? "female" : gender == "X" ? "other" : "unknown";
  }
  if (!p.get("date_of_birth").empty()) r["birthDate"] = str(p.get("date_of_birth"));
  return r;
}

ojson performer(std::string_view provider) {
  return ojson{{"identifier", {{"system", str(kProviderSystem)}, {"value", str(provider)}}},
               {"display", str(provider)}};
}

ojson identifier(const model::Record& e) {
  return ojson::array(
      {{{"system", std::string(kEventSystemPrefix) + str(e.get("provider_code"))}, {"value", str(e.get("event_id"))}}});
}

ojson immunization(const model::Record& e, const std::string& id, const std::string& patient_ref) {
  const auto status = e.get("status");
  ojson r{
      {"resourceType", "Immunization"}, {"id", id}, {"meta", profile("Immunization")}, {"identifier", identifier(e)}};
  r["status"] = status == "COMPLETED" ? "completed" : "not-done";
  if (status != "COMPLETED") {
    const std::string_view reason = status == "DECLINED" ? "PATOBJ" : status == "CONTRAINDICATED" ? "MEDPREC" : "";
    ojson why{{"text", str(status)}};
    if (!reason.empty()) why["coding"] = ojson::array({{{"system", str(kActReason)}, {"code", str(reason)}}});
    r["statusReason"] = why;
  }
  ojson vaccine{{"text", str(e.get("vaccine_name").empty() ? e.get("antigen") : e.get("vaccine_name"))}};
  if (!e.get("vaccine_code").empty()) {
    vaccine["coding"] = ojson::array({{{"system", str(kSnomed)}, {"code", str(e.get("vaccine_code"))}}});
  }
  r["vaccineCode"] = vaccine;
  r["patient"] = {{"reference", patient_ref}};
  r["occurrenceDateTime"] = str(e.get("event_date"));
  r["primarySource"] = e.get("evidence") == "RECORD";
  r["performer"] = ojson::array({{{"actor", performer(e.get("provider_code"))}}});
  ojson applied = ojson::object();
  if (!e.get("snomed_code").empty()) {
    applied["targetDisease"] =
        ojson::array({{{"coding", ojson::array({{{"system", str(kSnomed)}, {"code", str(e.get("snomed_code"))}}})}}});
  }
  int dose = 0;
  const auto d = e.get("dose");
  std::from_chars(d.data(), d.data() + d.size(), dose);
  if (dose > 0) {
    applied["doseNumberPositiveInt"] = dose;
  } else {
    applied["doseNumberString"] = "not recorded";
  }
  r["protocolApplied"] = ojson::array({applied});
  return r;
}

ojson observation(const model::Record& e, const std::string& id, const std::string& patient_ref) {
  const auto status = e.get("status");
  ojson r{{"resourceType", "Observation"}, {"id", id}, {"meta", profile("Observation")}, {"identifier", identifier(e)}};
  r["status"] = "final";
  r["category"] =
      ojson::array({{{"coding", ojson::array({{{"system", str(kCategory)},
                                               {"code", e.get("kind") == "serology" ? "laboratory" : "exam"}}})}}});
  r["code"] = {
      {"coding",
       ojson::array({{{"system", str(kTestSystem)}, {"code", str(e.get("antigen")) + ":" + str(e.get("kind"))}}})},
      {"text", str(e.get("vaccine_name").empty() ? e.get("antigen") : e.get("vaccine_name"))}};
  r["subject"] = {{"reference", patient_ref}};
  r["effectiveDateTime"] = str(e.get("event_date"));
  r["performer"] = ojson::array({performer(e.get("provider_code"))});
  if (!e.get("result").empty()) r["valueString"] = str(e.get("result"));
  ojson interpretation = ojson::array({{{"system", str(kStatusSystem)}, {"code", str(status)}}});
  const std::string_view hl7 = status == "IMMUNE"       ? "POS"
                               : status == "NON_IMMUNE" ? "NEG"
                               : status == "EQUIVOCAL"  ? "IND"
                                                        : "";
  if (!hl7.empty()) interpretation.push_back({{"system", str(kInterpretation)}, {"code", str(hl7)}});
  r["interpretation"] = ojson::array({{{"coding", interpretation}}});
  return r;
}

// ---- reading ----

const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string text_of(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m != nullptr && m->is_string() ? m->get<std::string>() : std::string();
}

// The code of the first coding of `codeable` under `system` ("" when none).
std::string code_in(const json* codeable, std::string_view system) {
  if (codeable == nullptr) return {};
  const json* codings = member(*codeable, "coding");
  if (codings == nullptr || !codings->is_array()) return {};
  for (const auto& c : *codings) {
    if (text_of(c, "system") == system) return text_of(c, "code");
  }
  return {};
}

void read_patient(const json& p, model::Record& ref) {
  if (const json* ids = member(p, "identifier"); ids != nullptr && ids->is_array()) {
    for (const auto& id : *ids) {
      const auto system = text_of(id, "system");
      if (system == kNhsNumberSystem) ref.set("nhs_number", text_of(id, "value"));
      if (system == kPersonNumberSystem) ref.set("person_number", text_of(id, "value"));
      if (system == kNiNumberSystem) ref.set("ni_number", text_of(id, "value"));
    }
  }
  if (const json* names = member(p, "name"); names != nullptr && names->is_array()) {
    for (const auto& n : *names) {
      const auto use = text_of(n, "use");
      if (use == "maiden") {
        ref.set("previous_surname", text_of(n, "family"));
        continue;
      }
      if (!ref.get("surname").empty()) continue;
      ref.set("surname", text_of(n, "family"));
      std::string given;
      if (const json* g = member(n, "given"); g != nullptr && g->is_array()) {
        for (const auto& part : *g) {
          if (!part.is_string()) continue;
          if (!given.empty()) given += ' ';
          given += part.get<std::string>();
        }
      }
      ref.set("forenames", given);
    }
  }
  ref.set("date_of_birth", text_of(p, "birthDate"));
}

Error entry_error(const std::string& file, std::uint64_t entry, std::string rule, std::string message,
                  std::string field = {}) {
  return make_error(Errc::validation, std::move(rule), std::move(message), Origin{file, entry, 0, std::move(field)});
}

}  // namespace

std::string to_bundle(const model::Record& person, const std::vector<model::Record>& events,
                      const BundleOptions& options) {
  const std::string person_id = uuid_for("patient:" + str(person.get("person_number")));
  const std::string patient_ref = "urn:uuid:" + person_id;
  ojson entries = ojson::array({{{"fullUrl", patient_ref}, {"resource", patient(person, person_id)}}});
  for (const auto& e : events) {
    const std::string id = uuid_for("event:" + str(e.get("provider_code")) + ":" + str(e.get("event_id")));
    const bool vaccination = e.get("kind") == "vaccination";
    entries.push_back({{"fullUrl", "urn:uuid:" + id},
                       {"resource", vaccination ? immunization(e, id, patient_ref) : observation(e, id, patient_ref)}});
  }
  ojson bundle{{"resourceType", "Bundle"},
               {"id", uuid_for("bundle:" + str(person.get("person_number")) + ":" + options.timestamp)},
               {"meta", {{"source", std::string(kSenderPrefix) + options.sender}}},
               {"type", "collection"},
               {"timestamp", options.timestamp},
               {"entry", entries}};
  return bundle.dump(2) + "\n";
}

ParsedBundle parse_bundle(std::string_view text, const std::string& file, const model::Date& today) {
  ParsedBundle out;
  const auto bundle_error = [&](std::string rule, std::string message) {
    out.file_errors.push_back(make_error(Errc::structure, std::move(rule), std::move(message), Origin{file, 0}));
    return out;
  };
  const json bundle = json::parse(text, nullptr, false);
  if (bundle.is_discarded()) return bundle_error("fhir.json", "not valid JSON");
  if (text_of(bundle, "resourceType") != "Bundle" || text_of(bundle, "type") != "collection") {
    return bundle_error("fhir.bundle", "not a FHIR Bundle of type collection");
  }
  const json* meta = member(bundle, "meta");
  const std::string source = meta != nullptr ? text_of(*meta, "source") : std::string();
  if (!source.starts_with(kSenderPrefix) || source.size() == kSenderPrefix.size()) {
    return bundle_error("fhir.sender",
                        "meta.source does not name the sending provider (" + std::string(kSenderPrefix) + "<code>)");
  }
  const std::string sender = source.substr(kSenderPrefix.size());
  const json* entries = member(bundle, "entry");
  if (entries == nullptr || !entries->is_array()) return bundle_error("fhir.bundle", "the bundle has no entries");
  model::Record reference;
  reference.reset(model::Entity::immunisation);
  int patients = 0;
  for (const auto& e : *entries) {
    const json* r = member(e, "resource");
    if (r != nullptr && text_of(*r, "resourceType") == "Patient") {
      ++patients;
      read_patient(*r, reference);
    }
  }
  if (patients != 1) {
    return bundle_error("fhir.patient",
                        "a staff history holds exactly one Patient, this has " + std::to_string(patients));
  }
  const auto& defs = model::entity_def(model::Entity::immunisation).fields;
  std::uint64_t number = 0;
  for (const auto& e : *entries) {
    ++number;
    const json* r = member(e, "resource");
    const std::string type = r != nullptr ? text_of(*r, "resourceType") : std::string();
    if (type == "Patient") continue;
    ParsedEvent ev;
    ev.entry = number;
    ev.record = reference;
    ev.record.line = number;
    ev.record.record_type = type.empty() ? "entry" : type;
    auto& rec = ev.record;
    if (type != "Immunization" && type != "Observation") {
      ev.errors.push_back(entry_error(file, number, "fhir.resource",
                                      "entry is a " + (type.empty() ? std::string("non-resource") : type) +
                                          ", not an Immunization or Observation"));
      out.events.push_back(std::move(ev));
      continue;
    }
    rec.set("action", "A");
    rec.set("provider_code", sender);
    rec.set("evidence", "TRANSFERRED");
    if (const json* ids = member(*r, "identifier"); ids != nullptr && ids->is_array() && !ids->empty()) {
      rec.set("event_id", text_of(ids->front(), "value"));
    }
    if (rec.get("event_id").empty()) rec.set("event_id", text_of(*r, "id"));
    if (type == "Immunization") {
      rec.set("kind", "vaccination");
      const auto status = text_of(*r, "status");
      const auto reason = code_in(member(*r, "statusReason"), kActReason);
      rec.set("status", status == "completed" ? "COMPLETED"
                        : reason == "PATOBJ"  ? "DECLINED"
                        : reason == "MEDPREC" ? "CONTRAINDICATED"
                                              : "NOT_DONE");
      rec.set("event_date", text_of(*r, "occurrenceDateTime").substr(0, 10));
      const json* vaccine = member(*r, "vaccineCode");
      rec.set("vaccine_code", code_in(vaccine, kSnomed));
      if (vaccine != nullptr) rec.set("vaccine_name", text_of(*vaccine, "text"));
      if (const json* applied = member(*r, "protocolApplied"); applied != nullptr && applied->is_array()) {
        for (const auto& a : *applied) {
          if (const json* dose = member(a, "doseNumberPositiveInt"); dose != nullptr && dose->is_number_integer()) {
            rec.set("dose", std::to_string(dose->get<std::int64_t>()));
          }
          if (const json* diseases = member(a, "targetDisease"); diseases != nullptr && diseases->is_array()) {
            for (const auto& d : *diseases) {
              const auto code = code_in(&d, kSnomed);
              if (code.empty()) continue;
              rec.set("snomed_code", code);
              if (const auto antigen = model::antigen_for_disease(code)) rec.set("antigen", *antigen);
            }
          }
        }
      }
      if (rec.get("antigen").empty()) {
        ev.errors.push_back(entry_error(file, number, "fhir.target_disease",
                                        "no protocolApplied.targetDisease names a known antigen", "antigen"));
      }
    } else {
      const auto test = code_in(member(*r, "code"), kTestSystem);
      const auto colon = test.find(':');
      rec.set("antigen", test.substr(0, colon));
      rec.set("kind", colon == std::string::npos ? std::string() : test.substr(colon + 1));
      if (const json* code = member(*r, "code")) rec.set("vaccine_name", text_of(*code, "text"));
      if (const auto disease = model::antigen_target_disease(rec.get("antigen"))) rec.set("snomed_code", *disease);
      rec.set("event_date", text_of(*r, "effectiveDateTime").substr(0, 10));
      rec.set("result", text_of(*r, "valueString"));
      std::string status;
      std::string hl7;
      if (const json* interps = member(*r, "interpretation"); interps != nullptr && interps->is_array()) {
        for (const auto& i : *interps) {
          if (status.empty()) status = code_in(&i, kStatusSystem);
          if (hl7.empty()) hl7 = code_in(&i, kInterpretation);
        }
      }
      if (status.empty())
        status = hl7 == "POS" ? "IMMUNE" : hl7 == "NEG" ? "NON_IMMUNE" : hl7 == "IND" ? "EQUIVOCAL" : "";
      rec.set("status", status);
      if (test.empty()) {
        ev.errors.push_back(entry_error(file, number, "fhir.code",
                                        "Observation.code has no " + std::string(kTestSystem) + " coding", "antigen"));
      }
    }
    if (ev.errors.empty()) {
      for (std::size_t i = 0; i < defs.size(); ++i) {
        std::string value(rec.values[i]);
        if (value.empty()) {
          const bool required = defs[i].name == "event_id" || defs[i].name == "status" || defs[i].name == "event_date";
          if (required) {
            ev.errors.push_back(
                entry_error(file, number, "field.required", "required value is missing", std::string(defs[i].name)));
          }
          continue;
        }
        if (auto ok = model::check_field(defs[i], value, today); !ok) {
          Error err = std::move(ok).error();
          err.origin = Origin{file, number, 0, std::string(defs[i].name)};
          ev.errors.push_back(std::move(err));
        } else {
          rec.values.set(i, value);  // normalised (NHS/NI numbers)
        }
      }
    }
    out.events.push_back(std::move(ev));
  }
  return out;
}

}  // namespace esrsync::fhir
