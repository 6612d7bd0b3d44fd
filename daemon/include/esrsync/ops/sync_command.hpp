#pragma once
// `esrsync sync --once` and `esrsync check --config`: the one-shot run of every flow and the
// configuration check, with their output (a short table, or JSON with --json).
//
// Exit codes (DESIGN.md): sync — 0 every file applied and every change delivered, 1 some records
// or files rejected, held, or changes not delivered (see the report), 2 configuration or
// environment error; check — 0 no problem, 1 problems listed.

#include <cstdio>
#include <string>

#include "esrsync/model/validators.hpp"

namespace esrsync::ops {

struct SyncCommandOptions {
  std::string config;
  std::string flow;
  bool json = false;
  model::Date today;
};

int run_sync_once(const SyncCommandOptions& options, std::FILE* out, std::FILE* err);
int run_check_config(const std::string& config, std::FILE* out, std::FILE* err);

}  // namespace esrsync::ops
