#pragma once
// Name normalisation for matching (DOMAIN.md "Matching a record to a person", rule 4): case,
// accents, spaces, hyphens and apostrophes folded, so "O'Brien", "o brien" and "OBRIEN" compare
// equal, as do "Zoë" and "Zoe". Pure functions.

#include <string>
#include <string_view>

namespace esrsync::model {

// Lower-case ASCII letters and digits only: Latin letters with diacritics (U+00C0..U+017F) become
// their base letters (æ -> ae, ß -> ss, ø -> o); spaces, hyphens, apostrophes (' and U+2019),
// full stops and commas are dropped; any other character is kept as it is, lower-cased if ASCII.
[[nodiscard]] std::string fold_name(std::string_view name);

// Postcodes compared without spaces and in upper case ("ls6 1an" -> "LS61AN").
[[nodiscard]] std::string fold_postcode(std::string_view postcode);

}  // namespace esrsync::model
