// The channels that are one HTTP POST: webhook, Slack, Teams, ntfy.
#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "config/toml_reader.h"
#include "env/env.h"
#include "net/http_client.h"
#include "notify/channel.h"
#include "util/hex.h"
#include "util/text.h"

namespace backspan::notify {
namespace {

using json = nlohmann::json;

Status Post(const ChannelConfig& c, std::vector<std::pair<std::string, std::string>> headers, std::string body) {
  net::HttpRequest req;
  req.url = c.url;
  req.headers = std::move(headers);
  for (const auto& h : c.headers) req.headers.push_back(h);
  req.body = std::move(body);
  req.timeout_ms = c.timeout_ms;
  auto resp = net::Send(req);
  if (!resp.ok()) return Status::IOError(c.name + ": " + resp.status().message());
  if (resp->status / 100 == 2) return Status::Ok();
  const std::string why = c.name + ": " + c.url.substr(0, c.url.find('?')) + " answered " + std::to_string(resp->status) +
                          (resp->body.empty() ? "" : ": " + resp->body.substr(0, 200));
  if (resp->status >= 500 || resp->status == 429 || resp->status == 408) return Status::IOError(why);
  return Status::InvalidArgument(why);
}

std::string ReadSecret(Env* env, const std::string& path) {
  if (path.empty()) return "";
  auto b = config::ReadNamedFile(env, path);
  return b.ok() ? std::string(Trim(AsText(*b))) : "";
}

class WebhookChannel final : public Channel {
 public:
  WebhookChannel(ChannelConfig c, Env* env) : Channel(std::move(c)), env_(env) {}
  Status Send(const Notification& n) noexcept override {
    const std::string body = n.ToJson();
    std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"},
                                                                {"User-Agent", "backspan-notify"}};
    const std::string key = ReadSecret(env_, config_.secret_file);
    if (!key.empty())
      headers.emplace_back("X-Backspan-Signature", WebhookSignature(key, env_->NowUnixNanos() / 1000000000, body));
    return Post(config_, std::move(headers), body);
  }

 private:
  Env* env_;
};

class SlackChannel final : public Channel {
 public:
  using Channel::Channel;
  Status Send(const Notification& n) noexcept override {
    // Built by appends: gcc 12 warns falsely on chains of +.
    std::string text = "*";
    text.append(n.Title()).append("*");
    if (!n.event.detail.empty()) text.append("\n").append(n.event.detail);
    if (!n.job_url.empty()) text.append("\n<").append(n.job_url).append("|Open in backspan>");
    if (!n.event.trace_id.empty()) text.append("  trace `").append(n.event.trace_id).append("`");
    return Post(config_, {{"Content-Type", "application/json"}}, json{{"text", text}}.dump());
  }
};

// An Adaptive Card in a message, as Teams' incoming webhooks (Workflows) take it.
class TeamsChannel final : public Channel {
 public:
  using Channel::Channel;
  Status Send(const Notification& n) noexcept override {
    json body = json::array({{{"type", "TextBlock"}, {"text", n.Title()}, {"weight", "Bolder"}, {"wrap", true}}});
    if (!n.event.detail.empty()) body.push_back({{"type", "TextBlock"}, {"text", n.event.detail}, {"wrap", true}});
    if (!n.event.trace_id.empty())
      body.push_back({{"type", "TextBlock"}, {"text", "trace " + n.event.trace_id}, {"isSubtle", true}, {"wrap", true}});
    json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                 {"type", "AdaptiveCard"},
                 {"version", "1.4"},
                 {"body", body}};
    if (!n.job_url.empty()) card["actions"] = json::array({{{"type", "Action.OpenUrl"}, {"title", "Open in backspan"}, {"url", n.job_url}}});
    json message = {{"type", "message"},
                    {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"}, {"content", card}}})}};
    return Post(config_, {{"Content-Type", "application/json"}}, message.dump());
  }
};

// ntfy: the text as the body; title, priority, tags and the link as headers.
class NtfyChannel final : public Channel {
 public:
  NtfyChannel(ChannelConfig c, Env* env) : Channel(std::move(c)), env_(env) {}
  Status Send(const Notification& n) noexcept override {
    const bool good = n.event.kind == EventKind::kRecovered;
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Title", n.Title()}, {"Priority", good ? "3" : "4"}, {"Tags", good ? "white_check_mark" : "warning"}};
    if (!n.job_url.empty()) headers.emplace_back("Click", n.job_url);
    if (const std::string token = ReadSecret(env_, config_.secret_file); !token.empty())
      headers.emplace_back("Authorization", "Bearer " + token);
    return Post(config_, std::move(headers), n.Text());
  }

 private:
  Env* env_;
};

}  // namespace

std::string WebhookSignature(const std::string& key, int64_t unix_seconds, const std::string& body) {
  const std::string t = std::to_string(unix_seconds);
  const auto mac = crypto::HmacSha256(AsBytes(key), AsBytes(t + "." + body));
  return "t=" + t + ",v1=" + HexEncode(ByteView(mac.data(), mac.size()));
}

std::unique_ptr<Channel> MakeSmtpChannel(const ChannelConfig& config, Env* env);
std::unique_ptr<Channel> MakeCommandChannel(const ChannelConfig& config);

Result<std::unique_ptr<Channel>> MakeChannel(const ChannelConfig& c, Env* env) {
  const std::string where = "channel '" + c.name + "': ";
  if (c.type == "command") {
    if (c.command.empty()) return Status::InvalidArgument(where + "a command channel needs command");
    return MakeCommandChannel(c);
  }
  if (c.url.empty()) return Status::InvalidArgument(where + "url is missing");
  if (c.type == "email") {
    if (c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0)
      return Status::InvalidArgument(where + "url must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
    if (c.from.empty() || c.to.empty()) return Status::InvalidArgument(where + "an email channel needs from and to");
    return MakeSmtpChannel(c, env);
  }
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
    return Status::InvalidArgument(where + "url must be http:// or https://");
  if (c.type == "webhook") return std::unique_ptr<Channel>(new WebhookChannel(c, env));
  if (c.type == "slack") return std::unique_ptr<Channel>(new SlackChannel(c));
  if (c.type == "teams") return std::unique_ptr<Channel>(new TeamsChannel(c));
  if (c.type == "ntfy") return std::unique_ptr<Channel>(new NtfyChannel(c, env));
  return Status::InvalidArgument(where + "unknown type '" + c.type + "' (webhook, slack, teams, ntfy, email, command)");
}

}  // namespace backspan::notify
