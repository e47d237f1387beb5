// Reads lines "EXPRESSION<TAB>ZONE<TAB>AFTER<TAB>COUNT" (AFTER in unix
// seconds) and prints, per line, the next COUNT run times as unix seconds
// separated by spaces, or "error: MESSAGE". For the cron oracle test.
#include <cstdio>
#include <iostream>
#include <string>

#include "schedule/schedule.h"
#include "util/text.h"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    auto parts = backspan::SplitView(line, '\t');
    if (parts.size() != 4) {
      std::cout << "error: expected 4 fields\n";
      continue;
    }
    auto s = backspan::schedule::Schedule::Parse(parts[0], std::string(parts[1]));
    if (!s.ok()) {
      std::cout << "error: " << s.status().message() << "\n";
      continue;
    }
    int64_t t = std::stoll(std::string(parts[2]));
    const int count = std::stoi(std::string(parts[3]));
    for (int i = 0; i < count; ++i) {
      auto next = s->Next(t);
      if (!next) break;
      t = *next;
      std::cout << (i ? " " : "") << t;
    }
    std::cout << "\n" << std::flush;
  }
}
