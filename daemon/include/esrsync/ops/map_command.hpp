#pragma once
// `esrsync map` and `esrsync check --mapping/--mappings`: the operator's dry-run tools. They run the
// same mapping loader and decoders as the sync pipeline and write nothing but their output.
//
// Exit codes (DESIGN.md): map — 0 every record decoded, 1 some record or file rejected, 2 the
// mapping itself is invalid or a file cannot be opened; check — 0 no problem, 1 problems listed.

#include <cstdio>
#include <string>
#include <vector>

#include "esrsync/model/validators.hpp"

namespace esrsync::ops {

struct MapOptions {
  std::string mapping;
  std::vector<std::string> files;
  model::Date today;   // the date-of-birth rule's "today"
  bool quiet = false;  // no records on stdout (errors and the summary only)
};

// Prints each canonical record as a JSON line on `out`, each error as
// "file:line[:column]: rule: message" on `err`, then a one-line summary on `err`.
int run_map(const MapOptions& options, std::FILE* out, std::FILE* err);

struct CheckMappingsOptions {
  std::vector<std::string> mappings;  // definition files
  std::vector<std::string> dirs;      // every *.xml below these, plus every lookup *.csv
};

int run_check_mappings(const CheckMappingsOptions& options, std::FILE* out, std::FILE* err);

}  // namespace esrsync::ops
