#pragma once
// The operator's commands on the store (DESIGN.md): `queue list|show|retry|purge`, `runs`,
// `status`, `release-gap`, `store compact` and `recon list|show|resolve|dismiss|history`, all with --json. They find
// the store through the configuration. Exit codes: 0 done, 1 nothing matched (e.g. an unknown id), 2 configuration or
// store error.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace esrsync::ops {

struct AdminOptions {
  std::string config;
  bool json = false;
};

int run_queue_list(const AdminOptions& o, const std::string& state, int limit, std::FILE* out, std::FILE* err);
int run_queue_show(const AdminOptions& o, std::int64_t id, std::FILE* out, std::FILE* err);
int run_queue_retry(const AdminOptions& o, std::optional<std::int64_t> id, std::FILE* out, std::FILE* err);
int run_queue_purge(const AdminOptions& o, int older_than_days, std::FILE* out, std::FILE* err);
int run_runs(const AdminOptions& o, int limit, std::FILE* out, std::FILE* err);
int run_status(const AdminOptions& o, std::FILE* out, std::FILE* err);
// The reconciliation queue: `state` is open (default), resolved, dismissed or all.
int run_recon_list(const AdminOptions& o, const std::string& state, int limit, std::FILE* out, std::FILE* err);
int run_recon_show(const AdminOptions& o, std::int64_t id, std::FILE* out, std::FILE* err);
// `recon resolve ID [--person N] --reason TEXT [--by NAME]`, `recon dismiss`, `recon history`:
// exit 1 when the item is unknown, already settled, or needs --person.
int run_recon_resolve(const AdminOptions& o, std::int64_t id, const std::optional<std::string>& person,
                      const std::string& reason, const std::string& by, std::FILE* out, std::FILE* err);
int run_recon_dismiss(const AdminOptions& o, std::int64_t id, const std::string& reason, const std::string& by,
                      std::FILE* out, std::FILE* err);
int run_recon_history(const AdminOptions& o, const std::string& entity, const std::string& key, int limit,
                      std::FILE* out, std::FILE* err);
// `export --person N --format fhir [--provider CODE]`: the person's staff history as a FHIR R4
// Bundle on stdout (personal data: for the operator or a transfer). Exit 1 when the person is not
// known, 2 on configuration or store errors (or no provider code).
int run_export(const AdminOptions& o, const std::string& person, const std::string& format, const std::string& provider,
               std::FILE* out, std::FILE* err);
// `transfers`: every trainee move seen and what was decided (queued, refused, no_consent) and why.
int run_transfers(const AdminOptions& o, int limit, std::FILE* out, std::FILE* err);
int run_release_gap(const AdminOptions& o, const std::string& vpd, std::int64_t seq, const std::string& by,
                    std::FILE* out, std::FILE* err);
// `store compact`: the space freed inside the store file (purged changes, runs) given back to the
// filesystem (SQLite VACUUM). Takes the store's lock like `sync`: refused while another esrsync uses it.
int run_store_compact(const AdminOptions& o, std::FILE* out, std::FILE* err);
// `store merge`: the content changes files left among the recent versions (store::RecordStore)
// written into their records now, in one transaction, instead of by the first file to find
// [store] merge_recent_at waiting (e.g. from a quiet hour's timer). Takes the store's lock.
int run_store_merge(const AdminOptions& o, std::FILE* out, std::FILE* err);

}  // namespace esrsync::ops
