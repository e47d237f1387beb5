// Progress display for long commands: a status line redrawn on a terminal
// (files, bytes, rate, ETA), or a JSON status line every second with --json.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cli/commands.h"

namespace backspan::cli {

std::string FormatBytes(uint64_t bytes);
std::string FormatDuration(double seconds);  // "1:02:03" or "2:03"

// Figures a progress line is made of.
struct ProgressFigures {
  uint64_t files_done = 0, files_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;
  uint64_t errors = 0;
  bool total_known = true;  // false while a scan is still counting
};

// One human-readable line: "[0:05] 42.10%  1234 / 20000 files  512 MiB / 1.5 GiB  102 MiB/s  ETA 0:07".
std::string ProgressLine(const ProgressFigures& f, double elapsed_s);

class ProgressReporter {
 public:
  // `figures` yields the current figures; `json` the current JSON status
  // line. Nothing is printed with --quiet, or without --json when stderr is
  // not a terminal.
  ProgressReporter(const GlobalOptions& g, std::function<ProgressFigures()> figures,
                   std::function<std::string(double)> json);
  ~ProgressReporter();

  // Stops the display and clears the status line. Idempotent.
  void Stop();
  // Prints a message line without garbling the status line.
  void Message(const std::string& line);
  double elapsed() const;

 private:
  void Loop();

  std::function<ProgressFigures()> figures_;
  std::function<std::string(double)> json_;
  bool tty_ = false, json_mode_ = false, enabled_ = false;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool line_shown_ = false;
  std::thread thread_;
};

}  // namespace backspan::cli
