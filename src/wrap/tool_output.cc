#include "wrap/tool_output.h"
#include "trace/semconv.h"

#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

namespace backspan::wrap {
namespace {

using nlohmann::json;
constexpr size_t kStderrTailLines = 20;
constexpr size_t kMaxLine = 4096;

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The parts every parser shares: the tail of stderr, the progress figures
// and how the run ends.
class OutputBase : public ToolOutput {
 public:
  explicit OutputBase(trace::Span& root) : root_(root) {}

  void OnStderr(std::string_view line) override { KeepTail(line); }
  void OnStdout(std::string_view) override {}

  void Finish(int exit_code) override {
    EndPhases();
    if (errors_ > 0) root_.SetAttribute(semconv::kErrors, errors_);
    // What the tool said last explains most failures ("Fatal: wrong password").
    if (!tail_.empty() && (exit_code != 0 || !structured_)) {
      std::string text;
      for (const auto& l : tail_) text += l + "\n";
      trace::Attributes a;
      trace::SetAttribute(a, semconv::kProcessStderrTail, text);
      root_.AddEvent("stderr", std::move(a));
    }
  }

  void Progress(trace::Attributes& out) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& a : progress_) trace::SetAttribute(out, a.key, a.value);
  }

 protected:
  void KeepTail(std::string_view line) {
    if (line.empty()) return;
    tail_.emplace_back(line.substr(0, kMaxLine));
    if (tail_.size() > kStderrTailLines) tail_.pop_front();
  }
  void SetProgress(std::string_view key, int64_t value) {
    std::lock_guard<std::mutex> l(mu_);
    trace::SetAttribute(progress_, std::string(semconv::kProgressPrefix) + std::string(key), value);
  }
  // Starts phase `name`, ending the current one.
  void StartPhase(std::string_view name) {
    phase_.End();
    phase_ = root_.StartChild(name);
  }
  void EndPhases() {
    phase_.End();
    for (auto& [id, span] : operations_) span.End();
    operations_.clear();
  }
  void Error(const std::string& message, trace::Attributes extra = {}) {
    ++errors_;
    trace::Attributes a = std::move(extra);
    trace::SetAttribute(a, semconv::kExceptionMessage, message.substr(0, kMaxLine));
    root_.AddEvent("exception", std::move(a));
  }

  trace::Span& root_;
  trace::Span phase_;
  std::map<int64_t, trace::Span> operations_;  // borg's concurrent operations, by id
  int64_t errors_ = 0;
  bool structured_ = false;

 private:
  std::deque<std::string> tail_;
  std::mutex mu_;
  trace::Attributes progress_;
};

// Fields of a tool's JSON line, read without trusting their types: a field
// of another type (or a number out of range) is as if it were absent.
int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float()) {
    const double d = it->get<double>();
    return std::isfinite(d) && std::fabs(d) < 9e18 ? static_cast<int64_t>(d) : 0;
  }
  return 0;
}

bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// restic with --json: status lines while it works, then a summary (backup)
// or a list of groups kept and removed (forget); error lines on the way.
class ResticOutput : public OutputBase {
 public:
  ResticOutput(trace::Span& root, const WrappedCommand& c) : OutputBase(root), work_(c.subcommand) {
    structured_ = true;
    StartPhase("open repository");
  }

  void OnStdout(std::string_view line) override {
    if (line.empty() || (line[0] != '{' && line[0] != '[')) return;
    json j = json::parse(line, nullptr, false);
    if (j.is_array()) return ForgetGroups(j);
    if (!j.is_object()) return;
    const std::string type = Str(j, "message_type");
    if (type == "status" || type == "verbose_status") {
      if (!working_) {
        working_ = true;
        StartPhase(work_ == "backup" ? "process files" : work_);
      }
      if (type == "status") {
        SetProgress("files_done", Int(j, "files_done"));
        SetProgress("files_total", Int(j, "total_files"));
        SetProgress("bytes_done", Int(j, "bytes_done"));
        SetProgress("bytes_total", Int(j, "total_bytes"));
        SetProgress("errors", Int(j, "error_count"));
      }
    } else if (type == "summary") {
      StartPhase("finish");
      root_.SetAttribute(semconv::kFilesTotal, Int(j, "total_files_processed"));
      root_.SetAttribute(semconv::kBytesTotal, Int(j, "total_bytes_processed"));
      root_.SetAttribute(semconv::kBytesAdded, Int(j, "data_added"));
      root_.SetAttribute(semconv::kFilesNew, Int(j, "files_new"));
      root_.SetAttribute(semconv::kFilesChanged, Int(j, "files_changed"));
      root_.SetAttribute(semconv::kFilesUnmodified, Int(j, "files_unmodified"));
      root_.SetAttribute(semconv::kDirsNew, Int(j, "dirs_new"));
      if (auto id = Str(j, "snapshot_id"); !id.empty()) root_.SetAttribute(semconv::kSnapshotId, id);
    } else if (type == "error") {
      trace::Attributes a;
      if (auto it = j.find("error"); it != j.end() && it->is_object()) {
        if (auto during = Str(j, "during"); !during.empty()) trace::SetAttribute(a, semconv::kErrorDuring, during);
        if (auto item = Str(j, "item"); !item.empty()) trace::SetAttribute(a, semconv::kFilePath, item);
        // restic 0.16+ writes {"message": ...}; older ones the error's Go fields.
        std::string message = Str(*it, "message");
        Error(message.empty() ? it->dump() : message, std::move(a));
      } else {
        Error(j.dump());
      }
    }
  }

 private:
  void ForgetGroups(const json& groups) {
    int64_t keep = 0, remove = 0;
    for (const auto& g : groups) {
      if (!g.is_object()) continue;
      if (auto k = g.find("keep"); k != g.end() && k->is_array()) keep += static_cast<int64_t>(k->size());
      if (auto r = g.find("remove"); r != g.end() && r->is_array()) remove += static_cast<int64_t>(r->size());
    }
    root_.SetAttribute(semconv::kSnapshotsKept, keep);
    root_.SetAttribute(semconv::kSnapshotsRemoved, remove);
  }

  std::string work_;
  bool working_ = false;
};

// borg with --log-json: JSON lines on stderr (log messages, the archive's
// progress, numbered operations that start and finish); with --json, a
// final document on stdout with the archive's statistics.
class BorgOutput : public OutputBase {
 public:
  BorgOutput(trace::Span& root, const WrappedCommand& c) : OutputBase(root), subcommand_(c.subcommand) { structured_ = true; }

  void OnStdout(std::string_view line) override {
    if (stdout_.size() < (1 << 20)) stdout_.append(line).push_back('\n');
  }

  void OnStderr(std::string_view line) override {
    json j = line.empty() || line[0] != '{' ? json() : json::parse(line, nullptr, false);
    if (!j.is_object()) return KeepTail(line);
    const std::string type = Str(j, "type");
    const bool finished = Bool(j, "finished");
    if (type == "archive_progress") {
      if (finished) return phase_.End();
      if (!phase_.recording()) StartPhase("process files");
      SetProgress("files_done", Int(j, "nfiles"));
      SetProgress("bytes_done", Int(j, "original_size"));
    } else if (type == "progress_message" || type == "progress_percent") {
      const int64_t op = Int(j, "operation");
      auto it = operations_.find(op);
      if (finished) {
        if (it != operations_.end()) {
          it->second.End();
          operations_.erase(it);
        }
      } else if (it == operations_.end()) {
        std::string name = Str(j, "msgid");
        operations_.emplace(op, root_.StartChild(name.empty() ? "operation" : name));
      }
    } else if (type == "log_message") {
      const std::string level = Str(j, "levelname");
      const std::string message = Str(j, "message");
      KeepTail(message);
      trace::Attributes a;
      if (auto id = Str(j, "msgid"); !id.empty()) trace::SetAttribute(a, semconv::kErrorId, id);
      if (level == "ERROR" || level == "CRITICAL") {
        Error(message, std::move(a));
      } else if (level == "WARNING") {
        trace::SetAttribute(a, "message", message.substr(0, kMaxLine));
        root_.AddEvent("warning", std::move(a));
      }
    }
  }

  void Finish(int exit_code) override {
    // borg's exit code 1 is a warning (a file changed while read): the
    // archive was made, as with restic's exit code 3.
    if (exit_code == 1) root_.SetAttribute(semconv::kJobStatus, std::string("partial"));
    json doc = json::parse(stdout_, nullptr, false);
    if (doc.is_object()) {
      if (auto a = doc.find("archive"); a != doc.end() && a->is_object()) {
        if (auto id = Str(*a, "id"); !id.empty()) root_.SetAttribute(semconv::kSnapshotId, id);
        if (auto name = Str(*a, "name"); !name.empty()) root_.SetAttribute(semconv::kArchiveName, name);
        if (auto s = a->find("stats"); s != a->end() && s->is_object()) {
          root_.SetAttribute(semconv::kFilesTotal, Int(*s, "nfiles"));
          root_.SetAttribute(semconv::kBytesTotal, Int(*s, "original_size"));
          root_.SetAttribute(semconv::kBytesAdded, Int(*s, "deduplicated_size"));
        }
      }
    }
    OutputBase::Finish(exit_code);
  }

 private:
  std::string subcommand_;
  std::string stdout_;
};

// Anything else: its exit status, duration and the tail of its stderr.
class PlainOutput : public OutputBase {
 public:
  using OutputBase::OutputBase;
};

bool Has(const std::vector<std::string>& argv, std::string_view flag) {
  for (const auto& a : argv)
    if (a == flag) return true;
  return false;
}

}  // namespace

WrappedCommand Identify(const std::vector<std::string>& argv) {
  WrappedCommand c;
  if (argv.empty()) return c;
  c.tool = BaseName(argv[0]);
  static const std::map<std::string, std::map<std::string, std::string>> kKinds = {
      {"restic", {{"backup", "backup"}, {"restore", "restore"}, {"check", "check"}, {"forget", "forget"},
                  {"prune", "prune"}, {"snapshots", "snapshots"}, {"init", "init"}, {"stats", "stats"},
                  {"copy", "copy"}, {"rebuild-index", "repair"}, {"repair", "repair"}, {"unlock", "unlock"},
                  {"dump", "restore"}, {"ls", "ls"}, {"find", "find"}, {"diff", "diff"}, {"key", "key"},
                  {"tag", "tag"}, {"migrate", "migrate"}, {"list", "list"}, {"cat", "cat"}, {"recover", "repair"}}},
      {"borg", {{"create", "backup"}, {"extract", "restore"}, {"export-tar", "restore"}, {"check", "check"},
                {"prune", "prune"}, {"compact", "compact"}, {"delete", "delete"}, {"list", "list"},
                {"info", "info"}, {"init", "init"}, {"diff", "diff"}, {"recreate", "recreate"},
                {"rename", "rename"}, {"import-tar", "backup"}, {"break-lock", "unlock"}, {"key", "key"},
                {"upgrade", "upgrade"}}}};
  std::string tool = c.tool == "borgbackup" ? "borg" : c.tool;
  auto known = kKinds.find(tool);
  if (known == kKinds.end()) {
    c.kind = "command";
    return c;
  }
  c.tool = tool;
  // The first word that is one of the tool's commands (option values such
  // as "-r repo" come before it and are not commands).
  for (size_t i = 1; i < argv.size(); ++i) {
    auto k = known->second.find(argv[i]);
    if (k == known->second.end()) continue;
    c.subcommand = k->first;
    c.kind = k->second;
    break;
  }
  if (c.kind.empty()) c.kind = "command";
  c.structured = tool == "restic" ? Has(argv, "--json") : Has(argv, "--log-json");
  return c;
}

std::unique_ptr<ToolOutput> MakeToolOutput(const WrappedCommand& command, trace::Span& root) {
  if (command.structured && command.tool == "restic") return std::make_unique<ResticOutput>(root, command);
  if (command.structured && command.tool == "borg") return std::make_unique<BorgOutput>(root, command);
  return std::make_unique<PlainOutput>(root);
}

}  // namespace backspan::wrap
