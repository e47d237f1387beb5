#include "cli/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace backspan::cli {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.3f %s", v, units[u]);
  return buf;
}

std::string FormatDuration(double seconds) {
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string ProgressLine(const ProgressFigures& f, double elapsed_s) {
  std::string line;
  line.append("[").append(FormatDuration(elapsed_s)).append("] ");
  char buf[64];
  if (f.total_known && f.bytes_total > 0) {
    std::snprintf(buf, sizeof buf, "%.2f%%  ", 100.0 * static_cast<double>(f.bytes_done) / static_cast<double>(f.bytes_total));
    line += buf;
  }
  line += std::to_string(f.files_done) + " / " + std::to_string(f.files_total) + " files  ";
  line += FormatBytes(f.bytes_done) + " / " + FormatBytes(f.bytes_total);
  double rate = elapsed_s > 0 ? static_cast<double>(f.bytes_done) / elapsed_s : 0;
  line += "  " + FormatBytes(static_cast<uint64_t>(rate)) + "/s";
  if (f.total_known && rate > 0 && f.bytes_total > f.bytes_done)
    line += "  ETA " + FormatDuration(static_cast<double>(f.bytes_total - f.bytes_done) / rate);
  if (f.errors) line += "  " + std::to_string(f.errors) + " errors";
  return line;
}

ProgressReporter::ProgressReporter(const GlobalOptions& g, std::function<ProgressFigures()> figures,
                                   std::function<std::string(double)> json)
    : figures_(std::move(figures)), json_(std::move(json)), start_(std::chrono::steady_clock::now()) {
  tty_ = isatty(STDERR_FILENO);
  json_mode_ = g.json;
  enabled_ = !g.quiet && (json_mode_ || tty_);
  if (enabled_) thread_ = std::thread([this] { Loop(); });
}

ProgressReporter::~ProgressReporter() { Stop(); }

double ProgressReporter::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressReporter::Loop() {
  auto interval = json_mode_ ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(200);
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval, [&] { return stop_; })) {
    if (json_mode_) {
      std::printf("%s\n", json_(elapsed()).c_str());
      std::fflush(stdout);
    } else {
      std::fprintf(stderr, "\r\033[K%s", ProgressLine(figures_(), elapsed()).c_str());
      line_shown_ = true;
    }
  }
}

void ProgressReporter::Message(const std::string& line) {
  std::lock_guard lock(mu_);
  if (line_shown_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", line.c_str());
}

void ProgressReporter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (line_shown_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace backspan::cli
