#pragma once
// The ESR return side of a directory sink (issue #4; DOMAIN.md "OH -> ESR return" and
// "Acknowledgement"): changes to immunisation events and clearances leave as DI_ files, one file
// per VPD per batch, with sequence numbers contiguous per VPD, and ESR's .ACK for each file is read
// back.
//
//   1. ACKs waiting in the sink's `acks` directory are read: ACCEPTED settles the file; each ERR
//      line makes the change on that line a dead letter carrying ESR's message (`queue retry`
//      sends it again in a new file); a REJECTED file without ERR lines makes all of its changes
//      dead letters. The ACK's text is kept with the file's row, then the ACK is removed.
//   2. Files allocated but not yet written (a crash, or a directory that could not be written) are
//      written again, byte for byte, before anything new for their VPD: a sequence number is
//      never skipped or reused. While one cannot be written its VPD waits, and its changes retry
//      with backoff and then become dead letters like any other.
//   3. New changes are claimed, grouped by the VPD of their person, and each group becomes the
//      next file: its row (sequence, name, content) and the outbox rows it carries commit first,
//      then the file is written (temp + fsync + rename), then its changes are marked delivered.
//
// Blocking; runs on the store's thread.

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/flow/config.hpp"
#include "esrsync/flow/sync.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::flow {

Status deliver_esr_files(store::SqliteDb& db, const DirSinkConfig& sink, const Clock& clock, SinkReport& report);

}  // namespace esrsync::flow
