#include "esrsync/flow/esr_file_sink.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/decoder.hpp"
#include "esrsync/codec/encoder.hpp"
#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/atomic_file.hpp"
#include "esrsync/store/outbound_files.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {
namespace {

namespace fs = std::filesystem;

std::string file_name(const std::string& pattern, const std::string& vpd, std::int64_t seq, std::int64_t now_ms) {
  const auto utc = model::utc_from_ms(now_ms);
  char date[40];
  std::snprintf(date, sizeof date, "%04d%02d%02d", utc.date.year, utc.date.month, utc.date.day);
  char seq7[16];
  std::snprintf(seq7, sizeof seq7, "%07lld", static_cast<long long>(seq));
  std::string out = pattern;
  for (const auto& [token, value] :
       {std::pair<std::string, std::string>{"{vpd}", vpd}, {"{date}", date}, {"{seq}", seq7}}) {
    for (auto at = out.find(token); at != std::string::npos; at = out.find(token, at + value.size()))
      out.replace(at, token.size(), value);
  }
  return out;
}

// An acknowledgement is a line per refused record: anything larger is not one.
constexpr std::size_t kMaxAckBytes = 16U << 20U;

std::string_view action_for(std::string_view change) {
  if (change == "withdrawn") return "D";
  if (change == "updated") return "C";
  return "A";
}

class EsrFileSink {
 public:
  EsrFileSink(store::SqliteDb& db, const DirSinkConfig& sink, const Clock& clock, SinkReport& report)
      : db_(db),
        sink_(sink),
        clock_(clock),
        report_(report),
        outbox_(db, store::RetryPolicy{sink.max_attempts, sink.base_delay_ms, 3'600'000, 300'000}, clock,
                static_cast<std::uint64_t>(clock.now_ms())),
        files_(db, clock),
        records_(db, clock) {}

  Status run() {
    auto mapping = mapping::load_mapping(sink_.mapping);
    if (!mapping) return fail(std::move(mapping).error());
    mapping_ = std::move(*mapping);
    if (!sink_.acks.empty()) {
      if (auto ok = read_acks(); !ok) return ok;
    }
    if (auto ok = write_pending(); !ok) return ok;
    return write_new();
  }

 private:
  // Every problem of the run is reported, one a line.
  void note(const std::string& problem) {
    if (!report_.last_error.empty()) report_.last_error += '\n';
    report_.last_error += problem;
  }

  // 1. The receiver's acknowledgements.
  Status read_acks() {
    auto ack_mapping = mapping::load_mapping(sink_.ack_mapping);
    if (!ack_mapping) return fail(std::move(ack_mapping).error());
    std::vector<fs::path> acks;
    std::error_code ec;
    for (auto it = fs::directory_iterator(sink_.acks, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".ACK" && it->is_regular_file(ec)) acks.push_back(it->path());
    }
    if (ec) return fail(Errc::io, "sink.acks", "cannot list the acks directory: " + ec.message(), Origin{sink_.acks});
    std::sort(acks.begin(), acks.end());
    for (const auto& path : acks) {
      if (auto ok = read_ack(path, **ack_mapping); !ok) return ok;
    }
    return {};
  }

  Status read_ack(const fs::path& path, const mapping::Mapping& ack_mapping) {
    // Read once: the text is kept with the file's row, and decoded from memory.
    std::string text;
    {
      auto file = codec::open_file_source(path.string());
      if (!file) return fail(std::move(file).error());
      char buffer[4096];
      for (;;) {
        auto n = (*file)->read(buffer, sizeof buffer);
        if (!n) return fail(std::move(n).error());
        if (*n == 0) break;
        text.append(buffer, *n);
        if (text.size() > kMaxAckBytes) {
          note(path.string() + ": not a readable acknowledgement (over " + std::to_string(kMaxAckBytes) + " bytes)");
          return {};
        }
      }
    }
    auto source = codec::make_memory_source(text, path.string());
    auto decoder = codec::make_decoder(ack_mapping, *source, codec::DecodeOptions{});
    model::Record record;
    std::vector<Error> errors;
    std::string status;
    std::string name;
    std::vector<std::pair<std::uint64_t, std::string>> refusals;  // (line, ESR's message)
    bool broken_line = false;  // an ERR line that cannot be read would lose a refusal: keep the ACK
    for (;;) {
      const auto next = decoder->next(record, errors);
      if (next == codec::Next::end) break;
      if (next == codec::Next::rejected) {
        broken_line = true;
        continue;
      }
      if (record.entity == model::Entity::ack) {
        name = record.get("file_name");
        status = record.get("status");
      } else if (record.entity == model::Entity::ack_error) {
        std::uint64_t line = 0;
        for (const char c : record.get("line"))
          line = line * 10 + static_cast<std::uint64_t>(c - '0');
        refusals.emplace_back(
            line, "ESR " + std::string(record.get("error_code")) + ": " + std::string(record.get("message")));
      }
    }
    const bool readable = decoder->file_errors().empty() && !broken_line && !name.empty() &&
                          (status == "ACCEPTED" || status == "PARTIAL" || status == "REJECTED");
    auto file = readable ? files_.by_name(sink_.name, name)
                         : Result<std::optional<store::OutboundFile>>(std::optional<store::OutboundFile>{});
    if (!file) return fail(std::move(file).error());
    if (!readable || !*file) {
      // Not ours or not an ACK: left where it is for an operator, reported on every run.
      note(path.string() + ": " +
           (!readable ? "not a readable acknowledgement" : "acknowledges " + name + ", which this sink did not send"));
      return {};
    }
    if (auto ok = db_.begin(); !ok) return ok;
    Status settled = [&]() -> Status {
      const auto state = status == "ACCEPTED"  ? store::OutboundState::accepted
                         : status == "PARTIAL" ? store::OutboundState::partial
                                               : store::OutboundState::rejected;
      if ((*file)->state == store::OutboundState::pending) {
        // Written, then a crash before it was marked sent, and ESR has already answered: it arrived.
        auto items = outbox_.batch((*file)->id);
        if (!items) return fail(std::move(items).error());
        std::vector<std::int64_t> pending;
        for (const auto& e : *items) {
          if (e.state == store::OutboxState::pending) pending.push_back(e.id);
        }
        if (auto ok = outbox_.delivered_all(pending); !ok) return ok;
        if (auto ok = files_.set_state((*file)->id, store::OutboundState::sent); !ok) return ok;
        (*file)->state = store::OutboundState::sent;
      }
      if ((*file)->state == store::OutboundState::sent) {
        std::vector<std::pair<std::uint64_t, std::string>> dead = refusals;
        if (state == store::OutboundState::rejected && dead.empty()) {
          auto items = files_.items((*file)->id);
          if (!items) return fail(std::move(items).error());
          for (std::size_t i = 0; i < items->size(); ++i)
            dead.emplace_back(i + 2, "ESR rejected the file " + name);
        }
        for (const auto& [line, message] : dead) {
          auto id = files_.item_at((*file)->id, line);
          if (!id) return fail(std::move(id).error());
          if (!*id) continue;  // an ERR line about the header or trailer
          if (auto ok = outbox_.refused_after_delivery(**id, message); !ok) return ok;
          ++report_.refused;
        }
        if (auto ok = files_.set_state((*file)->id, state, text); !ok) return ok;
      }
      return {};
    }();
    if (!settled) {
      db_.rollback();
      return settled;
    }
    if (auto ok = db_.commit(); !ok) return ok;
    // Its content is in the store now: the ACK file itself can go.
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) return fail(Errc::io, "sink.ack_remove", "cannot remove the read ACK: " + ec.message(), Origin{path});
    return {};
  }

  // Writes a file; on success its changes are delivered, on failure they retry (and its VPD waits).
  Status write(const store::OutboundFile& file) {
    auto items = outbox_.batch(file.id);
    if (!items) return fail(std::move(items).error());
    auto written = write_file_atomically(fs::path(sink_.directory) / file.name, file.content);
    if (auto ok = db_.begin(); !ok) return ok;
    Status settled = [&]() -> Status {
      for (const auto& e : *items) {
        if (e.state != store::OutboxState::pending) continue;
        if (auto ok = written ? outbox_.delivered(e.id) : outbox_.retry_later(e.id, written.error().to_string()); !ok)
          return ok;
      }
      if (written) return files_.set_state(file.id, store::OutboundState::sent);
      return {};
    }();
    if (!settled) {
      db_.rollback();
      return settled;
    }
    if (auto ok = db_.commit(); !ok) return ok;
    if (written) {
      report_.delivered += items->size();
      ++report_.files;
    } else {
      blocked_.insert(file.vpd);
      note(written.error().to_string());
    }
    return {};
  }

  // 2. Files allocated earlier and not yet written.
  Status write_pending() {
    auto pending = files_.pending(sink_.name);
    if (!pending) return fail(std::move(pending).error());
    const std::int64_t now = clock_.now_ms();
    for (const auto& file : *pending) {
      if (blocked_.contains(file.vpd)) continue;
      auto items = outbox_.batch(file.id);
      if (!items) return fail(std::move(items).error());
      const bool dead = std::any_of(items->begin(), items->end(),
                                    [](const store::OutboxEntry& e) { return e.state == store::OutboxState::dead; });
      const bool due = std::all_of(items->begin(), items->end(),
                                   [&](const store::OutboxEntry& e) { return e.next_attempt_ms <= now; });
      if (dead || !due) {
        blocked_.insert(file.vpd);
        if (dead) {
          note(file.name + " waits: its changes are dead letters (esrsync queue retry)");
        }
        continue;
      }
      if (auto ok = write(file); !ok) return ok;
    }
    return {};
  }

  // 3. New changes, one file per VPD per batch.
  Status write_new() {
    // A layout that cannot be encoded is a configuration error: found before any change is claimed.
    if (auto encodable = codec::Encoder::create(mapping_); !encodable) return fail(std::move(encodable).error());
    for (;;) {
      auto batch = outbox_.claim(sink_.name, sink_.batch);
      if (!batch) return fail(std::move(batch).error());
      if (batch->empty()) return {};
      std::map<std::string, std::vector<const store::OutboxEntry*>> by_vpd;
      for (const auto& e : *batch) {
        auto stored = records_.get(e.entity, e.record_key);
        if (!stored) return fail(std::move(stored).error());
        by_vpd[*stored ? (*stored)->vpd : std::string()].push_back(&e);
      }
      for (const auto& [vpd, entries] : by_vpd) {
        if (blocked_.contains(vpd)) continue;  // leased until the next run
        auto file = allocate(vpd, entries);
        if (!file) return fail(std::move(file).error());
        if (*file) {
          if (auto ok = write(**file); !ok) return ok;
        }
      }
    }
  }

  // Builds the next file for `vpd` from `entries` and records it with its outbox rows, in one
  // transaction. A change the layout cannot carry becomes a dead letter at once.
  Result<std::optional<store::OutboundFile>> allocate(const std::string& vpd,
                                                      const std::vector<const store::OutboxEntry*>& entries) {
    if (auto ok = db_.begin(); !ok) return fail(std::move(ok).error());
    auto built = [&]() -> Result<std::optional<store::OutboundFile>> {
      auto encoder = codec::Encoder::create(mapping_);
      if (!encoder) return fail(std::move(encoder).error());
      store::OutboundFile file;
      file.sink = sink_.name;
      file.vpd = vpd;
      file.created_ms = clock_.now_ms();
      auto seq = files_.next_seq(sink_.name, vpd, sink_.first_seq);
      if (!seq) return fail(std::move(seq).error());
      file.seq = *seq;
      file.name = file_name(sink_.file_name, vpd, file.seq, file.created_ms);
      model::Record header;
      header.reset(model::Entity::file_header);
      header.set("vpd", vpd);
      header.set("extract_type", "DELTA");
      header.set("seq", std::to_string(file.seq));
      header.set("created", model::to_iso(model::utc_from_ms(file.created_ms)));
      if (auto ok = (*encoder)->append(header, file.content); !ok) return fail(std::move(ok).error());
      std::vector<std::pair<std::uint64_t, std::int64_t>> lines;
      std::string line_text;
      for (const auto* e : entries) {
        Status encoded = [&]() -> Status {
          if (vpd.empty()) {
            return fail(Errc::validation, "sink.no_vpd", "no VPD is known for " + e->entity + " " + e->record_key);
          }
          auto record = codec::parse_canonical_json(e->payload);
          if (!record) return fail(std::move(record).error());
          record->set("action", action_for(e->change));
          line_text.clear();
          return (*encoder)->append(*record, line_text);
        }();
        if (!encoded) {
          if (auto ok = outbox_.rejected(e->id, encoded.error().to_string()); !ok) return fail(std::move(ok).error());
          continue;
        }
        file.content += line_text;
        lines.emplace_back(lines.size() + 2, e->id);
      }
      if (lines.empty()) return std::optional<store::OutboundFile>{};
      if (auto ok = (*encoder)->append_trailer(file.content); !ok) return fail(std::move(ok).error());
      auto id = files_.add(file, lines);
      if (!id) return fail(std::move(id).error());
      file.id = *id;
      for (const auto& [line, outbox_id] : lines) {
        if (auto ok = outbox_.assign_batch(outbox_id, file.id); !ok) return fail(std::move(ok).error());
      }
      return std::optional<store::OutboundFile>(std::move(file));
    }();
    if (!built) {
      db_.rollback();
      return built;
    }
    if (auto ok = db_.commit(); !ok) return fail(std::move(ok).error());
    return built;
  }

  store::SqliteDb& db_;
  const DirSinkConfig& sink_;
  const Clock& clock_;
  SinkReport& report_;
  store::Outbox outbox_;
  store::OutboundFiles files_;
  store::RecordStore records_;
  std::shared_ptr<const mapping::Mapping> mapping_;
  std::set<std::string> blocked_;  // VPDs whose next file cannot go yet
};

}  // namespace

Status deliver_esr_files(store::SqliteDb& db, const DirSinkConfig& sink, const Clock& clock, SinkReport& report) {
  return EsrFileSink(db, sink, clock, report).run();
}

}  // namespace esrsync::flow
