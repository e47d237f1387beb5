// The notifications file (TOML; `serve --notify FILE`, or the agent's
// `notify_config`): channels, and rules saying which events go to which
// channels (docs/notifications.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "notify/channel.h"
#include "notify/notification.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::notify {

struct Rule {
  std::string name;
  std::vector<EventKind> on;
  std::vector<std::string> channels;
  std::vector<std::string> resource_groups;  // empty: any
  std::vector<std::pair<std::string, std::string>> tags;  // each must match; empty: any
  // Whether an event of this kind, with these source tags, goes by this rule.
  bool Matches(const Event& e) const;
};

struct NotifyConfig {
  std::string ui_url;                 // links point here: {ui_url}/#/trace/{trace id}
  int64_t reminder_seconds = 86400;   // remind of an open incident this often; 0: never
  int64_t check_interval_seconds = 15;  // how often sources are checked against their schedules
  int max_attempts = 10;              // per delivery, with backoff from 1 s up to 5 min
  std::vector<ChannelConfig> channels;
  std::vector<Rule> rules;
};

// Reads and checks the file; InvalidArgument naming the table and field.
Result<NotifyConfig> LoadNotifyConfig(Env* env, const std::string& path);

}  // namespace backspan::notify
