#include "esrsync/store/schema.hpp"

#include <array>

#include "esrsync/store/outbound_files.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/recon_queue.hpp"
#include "esrsync/store/record_store.hpp"
#include "esrsync/store/transfer_log.hpp"

namespace esrsync::store {

std::span<const Migration> schema_migrations() noexcept {
  static const std::array kMigrations{Outbox::kMigration,
                                      RecordStore::kMigration,
                                      Outbox::kBatchMigration,
                                      OutboundFiles::kMigration,
                                      PersonIndex::kMigration,
                                      ReconQueue::kMigration,
                                      PersonIndex::kEventsMigration,
                                      TransferLog::kMigration,
                                      RecordStore::kVpdIndexMigration,
                                      Outbox::kRetentionMigration,
                                      Outbox::kLeanKeyMigration,
                                      RecordStore::kHistoryIndexMigration,
                                      Outbox::kChangesMigration,
                                      Outbox::kPayloadMigration,
                                      RecordStore::kHistoryCheckMigration,
                                      Outbox::kStagedMigration,
                                      RecordStore::kClusteredMigration,
                                      Outbox::kStagedFirstMigration,
                                      RecordStore::kDeferredMigration,
                                      RecordStore::kAppendIndexMigration};
  return kMigrations;
}

}  // namespace esrsync::store
