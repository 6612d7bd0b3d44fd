#pragma once
// The acknowledgement of a consumed file (DOMAIN.md "Acknowledgement"), encoded through the ACK
// mapping (mappings/esr/ack.xml): ACCEPTED, PARTIAL with one ERR line per rejected record, or
// REJECTED with the file-level reasons as ERR lines. A duplicate is REJECTED with the reason (the
// same content, or the same sequence, applied before as another file): nothing of it was applied.
// A held file is not consumed yet, so it gets none (make_ack returns nothing).

#include <optional>
#include <string>

#include "esrsync/core/result.hpp"
#include "esrsync/flow/inbound.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::flow {

// `created` is the ACK's timestamp. Messages are cleaned of the separator and line breaks, which
// the format cannot carry.
Result<std::optional<std::string>> make_ack(const InboundResult& result, const std::string& file_name,
                                            const model::DateTime& created,
                                            std::shared_ptr<const mapping::Mapping> ack_mapping);

}  // namespace esrsync::flow
