#include "notify/notify_config.h"

#include <algorithm>
#include <set>

#include "config/toml_reader.h"

namespace backspan::notify {

bool Rule::Matches(const Event& e) const {
  if (std::find(on.begin(), on.end(), e.kind) == on.end()) return false;
  if (!resource_groups.empty() &&
      std::find(resource_groups.begin(), resource_groups.end(), e.resource_group) == resource_groups.end())
    return false;
  return std::all_of(tags.begin(), tags.end(), [&](const auto& want) {
    return std::find(e.tags.begin(), e.tags.end(), want) != e.tags.end();
  });
}

Result<NotifyConfig> LoadNotifyConfig(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(toml::table root, config::ParseTomlFile(env, path));
  NotifyConfig c;
  config::TableReader top(&root, path);
  c.ui_url = top.Text("ui_url");
  while (!c.ui_url.empty() && c.ui_url.back() == '/') c.ui_url.pop_back();
  c.reminder_seconds = top.Duration("reminder", c.reminder_seconds);
  c.check_interval_seconds = std::max<int64_t>(1, top.Duration("check_interval", c.check_interval_seconds));
  c.max_attempts = int(top.Integer("max_attempts", c.max_attempts, 1, 100));
  const toml::node* channels = root.get("channel");
  const toml::node* rules = root.get("rule");
  top.Known("channel");
  top.Known("rule");
  top.RejectUnknown();
  if (!top.ok()) return top.error();
  if ((channels && !channels->is_array_of_tables()) || (rules && !rules->is_array_of_tables()))
    return Status::InvalidArgument(path + ": channels and rules are [[channel]] and [[rule]] tables");

  std::set<std::string> names;
  if (channels)
    for (const toml::node& node : *channels->as_array()) {
      ChannelConfig ch;
      config::TableReader r(node.as_table(), "channel " + std::to_string(c.channels.size() + 1));
      ch.name = r.Text("name", true);
      if (!ch.name.empty()) r = config::TableReader(node.as_table(), "channel '" + ch.name + "'"), r.Text("name");
      ch.type = r.Text("type", true);
      ch.url = r.Text("url");
      ch.secret_file = r.Text("secret_file");
      ch.headers = r.StringTable("headers");
      ch.from = r.Text("from");
      ch.to = r.List("to");
      ch.username = r.Text("username");
      ch.password_file = r.Text("password_file");
      ch.starttls = r.Boolean("starttls", true);
      ch.command = r.Text("command");
      ch.timeout_ms = r.Duration("timeout", 10) * 1000;
      r.RejectUnknown();
      if (!r.ok()) return r.error();
      if (!names.insert(ch.name).second) return Status::InvalidArgument("channel '" + ch.name + "': the name is used twice");
      if (auto made = MakeChannel(ch, env); !made.ok()) return made.status();
      c.channels.push_back(std::move(ch));
    }
  if (rules)
    for (const toml::node& node : *rules->as_array()) {
      Rule rule;
      config::TableReader r(node.as_table(), "rule " + std::to_string(c.rules.size() + 1));
      rule.name = r.Text("name");
      if (!rule.name.empty()) r = config::TableReader(node.as_table(), "rule '" + rule.name + "'"), r.Text("name");
      for (const std::string& kind : r.List("on")) {
        auto k = ParseEventKind(kind);
        if (!k) r.Fail("on: unknown event '" + kind + "' (failure, partial, missed, overdue, recovered, anomaly, forecast)");
        else rule.on.push_back(*k);
      }
      if (rule.on.empty()) r.Fail("on: name at least one event");
      rule.channels = r.List("channels");
      if (rule.channels.empty()) r.Fail("channels: name at least one channel");
      for (const auto& ch : rule.channels)
        if (!names.count(ch)) r.Fail("channels: no channel is named '" + ch + "'");
      rule.resource_groups = r.List("resource_groups");
      rule.tags = r.StringTable("tags");
      r.RejectUnknown();
      if (!r.ok()) return r.error();
      c.rules.push_back(std::move(rule));
    }
  return c;
}

}  // namespace backspan::notify
