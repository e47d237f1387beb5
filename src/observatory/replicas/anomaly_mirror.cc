#include "observatory/replicas/anomaly_mirror.h"

#include <chrono>
#include <cstdio>

#include "observatory/insight/anomaly_codec.h"

namespace backspan::observatory {
namespace {

constexpr const char* kPrefix = "anomalies/";
constexpr int kPage = 500;
// Documents are read again from this long before the newest one read:
// a document put by a replica whose clock is a little behind, or by a
// transaction that committed after a later one, is still seen.
constexpr int64_t kReadBackNs = 10'000'000'000;

}  // namespace

AnomalyMirror::AnomalyMirror(insight::InsightEngine* engine, SharedState* shared) : engine_(engine), shared_(shared) {
  engine_->OnAnomaliesChanged([this](const std::string& key, const std::vector<insight::AnomalyRecord>& records) {
    Hold(key, records);
  });
  thread_.emplace(std::chrono::seconds(1), [this] { Sync(); });
}

AnomalyMirror::~AnomalyMirror() {
  thread_.reset();
  Put();
}

size_t AnomalyMirror::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_.size();
}

void AnomalyMirror::Hold(const std::string& source_key, const std::vector<insight::AnomalyRecord>& records) {
  std::string encoded = insight::EncodeAnomalies(records);
  std::lock_guard<std::mutex> lock(mu_);
  held_[source_key] = std::move(encoded);  // a newer list replaces one not yet put
}

void AnomalyMirror::Report(const Status& s) {
  // Once per new problem, not every round.
  const std::string problem = s.ok() ? "" : s.message();
  if (!problem.empty() && problem != last_problem_)
    std::fprintf(stderr, "warning: anomalies cannot be shared through the store: %s\n", problem.c_str());
  last_problem_ = problem;
}

void AnomalyMirror::Sync() {
  Put();
  if (!engine_->status().judging) Adopt();
}

void AnomalyMirror::Put() {
  std::map<std::string, std::string> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.swap(held_);
  }
  for (auto it = held.begin(); it != held.end(); it = held.erase(it)) {
    Status s = shared_->Put(kPrefix + it->first, it->second).status();
    Report(s);
    if (s.ok()) continue;
    // Held again, unless the engine has told of a newer list meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    for (; it != held.end(); ++it) held_.try_emplace(it->first, std::move(it->second));
    return;
  }
}

void AnomalyMirror::Adopt() {
  DocumentPosition at = read_;
  at.updated_ns = read_.updated_ns > kReadBackNs ? read_.updated_ns - kReadBackNs : 0;
  at.name.clear();
  while (true) {
    auto page = shared_->ListAfter(kPrefix, at, kPage);
    Report(page.status());
    if (!page.ok()) return;
    for (const auto& [name, doc] : *page) {
      at = {doc.updated_ns, name};
      if (doc.updated_ns > read_.updated_ns) read_ = at;
      int64_t& version = adopted_[name];
      if (version == doc.version) continue;  // read back, and already adopted
      auto records = insight::DecodeAnomalies(doc.body);
      if (!records.ok()) {
        std::fprintf(stderr, "warning: shared document %s skipped: %s\n", name.c_str(), records.status().message().c_str());
        continue;
      }
      if (!engine_->Adopt(name.substr(std::char_traits<char>::length(kPrefix)), std::move(*records))) {
        adopted_.clear();  // this replica judges now; what it adopts later is read afresh
        return;
      }
      version = doc.version;
    }
    if (page->size() < static_cast<size_t>(kPage)) return;
  }
}

}  // namespace backspan::observatory
