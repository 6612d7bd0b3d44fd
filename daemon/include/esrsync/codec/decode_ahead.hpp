#pragma once
// DecodeAhead: runs a Decoder on a thread of its own, a few chunks of records ahead of the caller,
// so that decoding, validating and preparing each record (its canonical JSON and content hash, by
// the `prepare` callback) use a second core while the caller applies the records before them to
// the store. Records come out in file order, exactly as Decoder::next returns them.
//
// Ownership (STYLE.md rule 8): from construction until finish() returns, the decoder and every
// record not yet handed out belong to the decoding thread; a record handed out by next() belongs
// to the caller until the next call. Chunks are passed between the two under one mutex, the only
// state they share; records are reused chunk by chunk, so the steady state allocates nothing.
// Memory is bounded by kDepth chunks of kChunk records.
//
// The caller may stop early (an error while applying): the destructor tells the thread to stop
// and joins it. No thread outlives the object.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "esrsync/codec/decoder.hpp"

namespace esrsync::codec {

struct Decoded {
  Next next = Next::end;
  model::Record record;
  std::vector<Error> errors;  // Next::rejected: why
  std::string canonical;      // set by `prepare` when it prepared the record (else empty)
  std::string hash;
  std::string packed;  // the canonical JSON packed for the store (store/payload.hpp), likewise
};

class DecodeAhead {
 public:
  // Runs on the decoding thread for each Next::record; must touch nothing but its argument.
  using Prepare = std::function<void(Decoded&)>;

  static constexpr std::size_t kChunk = 512;
  static constexpr std::size_t kDepth = 4;

  DecodeAhead(Decoder& decoder, Prepare prepare);
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();

  // The next record, or nullptr once the decoder reached Next::end. The pointer is valid until
  // the next call.
  Decoded* next();
  // Waits for the decoding thread to end; then the decoder's stats() and file_errors() are the
  // caller's to read. Called by next() at the end and by the destructor.
  void finish();

 private:
  struct Chunk {
    std::vector<Decoded> items;
    std::size_t size = 0;
  };

  void run(const std::stop_token& stop);

  Decoder& decoder_;
  Prepare prepare_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<Chunk> filled_;  // decoded, in order, waiting for the caller
  std::vector<Chunk> free_;   // handed back by the caller, for reuse
  bool done_ = false;         // the decoding thread has pushed its last chunk
  Chunk current_;             // the caller's
  std::size_t position_ = 0;
  std::jthread thread_;  // last: started once everything above exists
};

}  // namespace esrsync::codec
