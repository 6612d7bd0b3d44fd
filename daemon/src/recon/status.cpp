#include "esrsync/recon/status.hpp"

#include <algorithm>

namespace esrsync::recon {

std::vector<AntigenStatus> derive_status(std::vector<store::PersonEvent> events) {
  std::sort(events.begin(), events.end(), [](const store::PersonEvent& a, const store::PersonEvent& b) {
    return std::tie(a.antigen, a.event_date, a.event_key) < std::tie(b.antigen, b.event_date, b.event_key);
  });
  std::vector<AntigenStatus> out;
  for (auto first = events.begin(); first != events.end();) {
    const auto last = std::find_if(first, events.end(), [&](const auto& e) { return e.antigen != first->antigen; });
    AntigenStatus s;
    s.antigen = first->antigen;
    const store::PersonEvent* serology = nullptr;
    const store::PersonEvent* screening = nullptr;
    const store::PersonEvent* dose = nullptr;
    const store::PersonEvent* refusal = nullptr;
    bool immune_seen = false;
    for (auto it = first; it != last; ++it) {
      if (it->kind == "serology") {
        if (it->status == "NON_IMMUNE" && immune_seen) s.flagged = true;
        if (it->status == "IMMUNE") immune_seen = true;
        serology = &*it;
      } else if (it->kind == "screening") {
        screening = &*it;
      } else if (it->status == "COMPLETED") {
        ++s.doses;
        dose = &*it;
      } else {
        refusal = &*it;
      }
    }
    const auto decide = [&](const store::PersonEvent& e, std::string status) {
      s.status = std::move(status);
      s.basis = e.event_key;
      s.as_of = e.event_date;
    };
    if (serology != nullptr) {
      const bool dosed_since = dose != nullptr && dose->event_date > serology->event_date;
      if (serology->status != "IMMUNE" && dosed_since) {
        decide(*dose, "VACCINATED");
      } else {
        decide(*serology, serology->status);
      }
    } else if (screening != nullptr) {
      decide(*screening, screening->status == "COMPLETED" ? "SCREENED" : screening->status);
    } else if (dose != nullptr) {
      decide(*dose, "VACCINATED");
    } else if (refusal != nullptr) {
      decide(*refusal, refusal->status);
    }
    out.push_back(std::move(s));
    first = last;
  }
  return out;
}

}  // namespace esrsync::recon
