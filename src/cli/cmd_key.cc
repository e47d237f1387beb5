#include <cstdio>
#include <cstdlib>

#include "cli/context.h"
#include "cli/json_output.h"
#include "util/time_format.h"

namespace backspan::cli {

static Result<std::string> NewPassword(const KeyCommand& c) {
  if (!c.new_password_file.empty()) return ReadPasswordFile(c.new_password_file);
  if (const char* p = std::getenv("BACKSPAN_NEW_PASSWORD"); p && *p) return std::string(p);
  return PromptPassword("enter new password: ", true);
}

int RunKey(const GlobalOptions& g, const KeyCommand& c) {
  auto repo = OpenRepository(g, false);
  if (!repo.ok()) return Fail(g, repo.status());
  if (c.action == "list") {
    auto keys = (*repo)->ListKeys();
    if (!keys.ok()) return Fail(g, keys.status());
    if (g.json) {
      std::printf("%s\n", KeyListJson(*keys).c_str());
      return kExitOk;
    }
    std::printf(" %-10s  %-12s  %-16s  %s\n", "ID", "User", "Host", "Created");
    for (const auto& k : *keys)
      std::printf("%s%-10s  %-12s  %-16s  %s\n", k.current ? "*" : " ", k.id.substr(0, 10).c_str(),
                  k.file.username.c_str(), k.file.hostname.c_str(), FormatLocalShort(k.file.created_ns).c_str());
    return kExitOk;
  }
  if (c.action == "add") {
    auto password = NewPassword(c);
    if (!password.ok()) return Fail(g, password.status());
    auto id = (*repo)->AddKey(*password, Hostname(), Username());
    if (!id.ok()) return Fail(g, id.status());
    if (g.json) std::printf("%s\n", KeyChangeJson("key_added", *id).c_str());
    else if (!g.quiet) std::printf("saved new key %s\n", id->substr(0, 10).c_str());
    return kExitOk;
  }
  Status st = (*repo)->RemoveKey(c.id);
  if (!st.ok()) return Fail(g, st);
  if (g.json) std::printf("%s\n", KeyChangeJson("key_removed", c.id).c_str());
  else if (!g.quiet) std::printf("removed key %s\n", c.id.c_str());
  return kExitOk;
}

}  // namespace backspan::cli
