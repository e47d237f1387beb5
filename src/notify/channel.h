// Where notifications go: a generic webhook (JSON, HMAC-signed), Slack and
// Microsoft Teams incoming webhooks, ntfy, email over SMTP, or a command.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "notify/notification.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::notify {

struct ChannelConfig {
  std::string name;
  std::string type;  // webhook, slack, teams, ntfy, email, command
  std::string url;   // webhook, slack, teams, ntfy (the topic's URL), email (smtp:// or smtps://)
  std::string secret_file;  // webhook: the HMAC key; ntfy: an access token
  std::vector<std::pair<std::string, std::string>> headers;  // extra HTTP headers
  // email
  std::string from, username, password_file;
  std::vector<std::string> to;
  bool starttls = true;
  // command: run with /bin/sh -c, the notification in its environment
  std::string command;
  int64_t timeout_ms = 10'000;
};

class Channel {
 public:
  explicit Channel(ChannelConfig config) : config_(std::move(config)) {}
  virtual ~Channel() = default;
  // Delivers one notification. IOError when a retry may help (no answer,
  // 5xx, 429); another code when it will not (a 4xx, a bad address).
  virtual Status Send(const Notification& n) noexcept = 0;
  const ChannelConfig& config() const { return config_; }

 protected:
  ChannelConfig config_;
};

// The channel `config` describes; InvalidArgument naming what is missing.
Result<std::unique_ptr<Channel>> MakeChannel(const ChannelConfig& config, Env* env);

// The signature header of the generic webhook: "t=UNIX,v1=HEX" where HEX is
// HMAC-SHA256(key, "UNIX.BODY"), so a receiver can check both the sender
// and the freshness (docs/notifications.md).
std::string WebhookSignature(const std::string& key, int64_t unix_seconds, const std::string& body);

}  // namespace backspan::notify
