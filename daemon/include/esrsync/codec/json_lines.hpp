#pragma once
// JSON Lines output of canonical records (`esrsync map`): one object a line,
//   {"file":"…","line":N,"record":"PER","entity":"person","fields":{"action":"A",…}}
// with the non-empty fields in canonical schema order. Pure function; no allocation beyond `out`.

#include <string>
#include <string_view>

#include "esrsync/model/record.hpp"

namespace esrsync::codec {

void append_json_string(std::string_view text, std::string& out);
void append_json_line(const model::Record& record, std::string_view file, std::string& out);

}  // namespace esrsync::codec
