#pragma once
// A sync working area for integration tests: directories, a configuration with one ESR flow and
// one directory sink (and, after add_oh_flow(), an OH flow returning DI files to ESR), and helpers
// to drop sample files, run `esrsync` and read what it wrote.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/capture.hpp"
#include "support/process.hpp"

namespace esrsync::test {

class SyncEnvironment : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto* d : {"state", "inbox", "processed", "quarantine", "acks", "out"})
      std::filesystem::create_directories(dir_ / d);
    write_file(dir_ / "esrsync.toml",
               "[store]\npath = \"state/esrsync.db\"\n[esr]\nvpds = [\"245\"]\n"
               "[[flows]]\nname = \"esr\"\nmapping = \"" +
                   std::string(ESRSYNC_SOURCE_DIR) + "/mappings/esr/de_extract.xml\"\nack_mapping = \"" +
                   std::string(ESRSYNC_SOURCE_DIR) +
                   "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\n"
                   "inbox = \"inbox\"\npattern = \"DE_*.DAT\"\nprocessed = \"processed\"\n"
                   "quarantine = \"quarantine\"\nacks = \"acks\"\n[[flows.sinks]]\n"
                   "name = \"oh\"\nadapter = \"dir\"\ndirectory = \"out\"\n");
  }
  // Appends `keys` ("name = value" lines) to the configuration's last table: the last sink added.
  void add_sink_keys(const std::string& keys) {
    write_file(dir_ / "esrsync.toml", read_file(dir_ / "esrsync.toml") + keys);
  }
  // Appends the OH -> ESR flow: OH CSV exports from oh-inbox, matched and applied, leaving as DI
  // files in di-out (named without a date, so tests know them), ESR's ACKs read from di-acks. Its
  // sink is the last table, so keys appended to the file land in it.
  void add_oh_flow() {
    for (const auto* d : {"oh-inbox", "oh-processed", "oh-quarantine", "oh-acks", "di-out", "di-acks"})
      std::filesystem::create_directories(dir_ / d);
    const std::string src = ESRSYNC_SOURCE_DIR;
    write_file(dir_ / "esrsync.toml",
               read_file(dir_ / "esrsync.toml") + "[[flows]]\nname = \"oh\"\nmapping = \"" + src +
                   "/mappings/oh/generic_csv.xml\"\nack_mapping = \"" + src +
                   "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"oh-inbox\"\n"
                   "pattern = \"oh_export_*.csv\"\nprocessed = \"oh-processed\"\nquarantine = \"oh-quarantine\"\n"
                   "acks = \"oh-acks\"\n" +
                   di_sink());
  }
  // Appends an OH clearance flow sharing the OH flow's DI sink (one sequence per VPD for both).
  void add_clearance_flow() {
    const std::string src = ESRSYNC_SOURCE_DIR;
    write_file(dir_ / "esrsync.toml",
               read_file(dir_ / "esrsync.toml") + "[[flows]]\nname = \"clearances\"\nmapping = \"" + src +
                   "/mappings/oh/generic_clearance_csv.xml\"\n[flows.source]\nadapter = \"dir\"\n"
                   "inbox = \"oh-inbox\"\npattern = \"oh_clearances_*.csv\"\nprocessed = \"oh-processed\"\n"
                   "quarantine = \"oh-quarantine\"\n" +
                   di_sink());
  }
  static std::string di_sink() {
    const std::string src = ESRSYNC_SOURCE_DIR;
    return "[[flows.sinks]]\nname = \"esr-return\"\nadapter = \"dir\"\ndirectory = \"di-out\"\nmapping = \"" + src +
           "/mappings/esr/di_return.xml\"\nfile_name = \"DI_{vpd}_OHS_{seq}.DAT\"\nacks = \"di-acks\"\n"
           "ack_mapping = \"" +
           src + "/mappings/esr/ack.xml\"\n";
  }
  // Appends a flow importing FHIR staff-history bundles (*.json) from fhir-inbox.
  void add_fhir_flow() {
    for (const auto* d : {"fhir-inbox", "fhir-processed", "fhir-quarantine", "fhir-acks"})
      std::filesystem::create_directories(dir_ / d);
    const std::string src = ESRSYNC_SOURCE_DIR;
    write_file(dir_ / "esrsync.toml",
               read_file(dir_ / "esrsync.toml") + "[[flows]]\nname = \"fhir\"\nmapping = \"" + src +
                   "/mappings/fhir/staff_history.xml\"\nack_mapping = \"" + src +
                   "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"fhir-inbox\"\n"
                   "pattern = \"*.json\"\nprocessed = \"fhir-processed\"\nquarantine = \"fhir-quarantine\"\n"
                   "acks = \"fhir-acks\"\n");
  }
  // Forgets everything synced so far: an empty store and empty output directories.
  void reset_store() {
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      if (e.is_directory()) {
        for (const auto& f : std::filesystem::directory_iterator(e.path()))
          std::filesystem::remove_all(f.path());
      }
    }
  }
  void drop_oh(const std::string& sample) {
    std::filesystem::copy_file(std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/oh/" + sample,
                               dir_ / "oh-inbox" / sample);
  }
  void drop(const std::string& sample) {
    std::filesystem::copy_file(std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/esr/" + sample, dir_ / "inbox" / sample);
  }
  ProcessResult sync(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{
        ESRSYNC_BINARY, "sync", "--once", "--today", "2026-09-01", "--config", (dir_ / "esrsync.toml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args);
  }
  std::vector<std::string> names(const std::string& sub) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / sub))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  // The files delivered to the sink: complete ones, under their final names (a `.part` is a file
  // being written, or a batch's lines staged for delivery, never a delivered file).
  std::vector<std::string> delivered_names() {
    std::vector<std::string> out;
    for (const auto& name : names("out")) {
      if (!name.ends_with(".part") && std::filesystem::is_regular_file(dir_ / "out" / name)) out.push_back(name);
    }
    return out;
  }
  std::vector<std::string> part_names() {
    std::vector<std::string> out;
    for (const auto& name : names("out")) {
      if (name.ends_with(".part")) out.push_back(name);
    }
    return out;
  }
  std::string outbox_text() {
    std::string all;
    for (const auto& name : delivered_names())
      all += read_file(dir_ / "out" / name);
    return all;
  }

  TempDir dir_;

  // Runs `run` while this test holds the store's lock, as another esrsync using the store would.
  template <typename Run>
  ProcessResult while_store_locked(Run run) {
    const int fd = ::open((dir_ / "state/esrsync.db.lock").c_str(), O_RDWR | O_CREAT, 0640);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    ProcessResult r = run();
    ::close(fd);
    return r;
  }

  // `esrsync <args> --config <this config>` (for the operator commands).
  ProcessResult esrsync(const std::vector<std::string>& args) {
    std::vector<std::string> argv{ESRSYNC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.emplace_back("--config");
    argv.push_back((dir_ / "esrsync.toml").string());
    return run_process(argv);
  }
};

}  // namespace esrsync::test
