// Helpers shared by the unit tests: temporary directories and a fault-
// injecting Env.
#pragma once

#include <functional>
#include <string>

#include "env/env.h"
#include "fault_env.h"

namespace backspan::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

}  // namespace backspan::testing
