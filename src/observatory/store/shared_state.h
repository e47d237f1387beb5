// What processes sharing a store share besides spans and jobs: named
// documents (the configuration an API call changes: role assignments,
// plans' retention; the notifier's open incidents) and queues (events that
// one process, the leader, acts on for all). Replicas behind one load
// balancer agree through them. A store one process opens alone has none
// (SpanStore::Shared() is null): its files are the whole truth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace backspan::observatory {

struct SharedDocument {
  std::string body;
  int64_t version = 0;     // grows by one with each Put
  int64_t updated_ns = 0;  // when it was put (Unix time)
};

// A place in the documents' (updated_ns, name) order.
struct DocumentPosition {
  int64_t updated_ns = 0;
  std::string name;
};

class SharedState {
 public:
  virtual ~SharedState() = default;
  // The document named `name`; nullopt if none was ever put. IOError or
  // Unavailable when the store cannot be reached (as for every call here).
  virtual Result<std::optional<SharedDocument>> Get(const std::string& name) = 0;
  // Replaces (or creates) the document; returns its new version.
  virtual Result<int64_t> Put(const std::string& name, const std::string& body) = 0;
  // Creates the document if there is none of that name: whether it did.
  virtual Result<bool> Create(const std::string& name, const std::string& body) = 0;
  // Replaces the document if it is still at `version`: whether it was
  // (false: another process put it meanwhile, or it is gone).
  virtual Result<bool> Replace(const std::string& name, const std::string& body, int64_t version) = 0;
  // The documents whose names start with `prefix`, by name, the `limit`
  // put most recently.
  virtual Result<std::vector<std::pair<std::string, SharedDocument>>> List(const std::string& prefix, int limit) = 0;
  // The documents whose names start with `prefix` put after `after` in
  // (updated_ns, name) order, in that order, at most `limit`: what changed
  // since a reader last looked, read in pages.
  virtual Result<std::vector<std::pair<std::string, SharedDocument>>> ListAfter(const std::string& prefix,
                                                                                const DocumentPosition& after,
                                                                                int limit) = 0;
  // Deletes the documents whose names start with `prefix` beyond the
  // `keep` put most recently.
  virtual Status Trim(const std::string& prefix, int keep) = 0;
  // Appends `bodies`, in order, to the queue named `queue`.
  virtual Status Enqueue(const std::string& queue, const std::vector<std::string>& bodies) = 0;
  // Removes and returns up to `max` of the oldest entries of `queue`, in
  // order; an entry goes to one caller only.
  virtual Result<std::vector<std::string>> Dequeue(const std::string& queue, int max) = 0;
};

}  // namespace backspan::observatory
