// Email over SMTP through libcurl: smtp:// with STARTTLS (required unless
// starttls = false), or smtps://; one message to every recipient.
#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "crypto/crypto.h"
#include "config/toml_reader.h"
#include "env/env.h"
#include "notify/channel.h"
#include "util/hex.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::notify {
namespace {

struct Upload {
  std::string data;
  size_t at = 0;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t len = std::min(size * n, u->data.size() - u->at);
  std::memcpy(out, u->data.data() + u->at, len);
  u->at += len;
  return len;
}

// A header value without line breaks (no header injection from a title).
std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

class SmtpChannel final : public Channel {
 public:
  SmtpChannel(ChannelConfig c, Env* env) : Channel(std::move(c)), env_(env) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Status Send(const Notification& n) noexcept override {
    Upload upload;
    upload.data = Message(n);
    CURL* curl = curl_easy_init();
    if (!curl) return Status::IOError(config_.name + ": cannot start an SMTP session");
    std::string password;
    if (!config_.password_file.empty())
      if (auto b = config::ReadNamedFile(env_, config_.password_file); b.ok()) password = std::string(Trim(AsText(*b)));
    curl_slist* rcpt = nullptr;
    for (const auto& to : config_.to) rcpt = curl_slist_append(rcpt, ("<" + to + ">").c_str());
    const std::string from = "<" + config_.from + ">";
    curl_easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (config_.url.rfind("smtp://", 0) == 0 && config_.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, CURLUSESSL_ALL);
    if (!config_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
    }
    const CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK) return Status::Ok();
    const std::string why = config_.name + ": SMTP " + curl_easy_strerror(rc) + (code ? " (" + std::to_string(code) + ")" : "");
    // A 5xx reply is permanent (a bad address, refused auth); the rest may pass.
    return code >= 500 ? Status::InvalidArgument(why) : Status::IOError(why);
  }

 private:
  std::string Message(const Notification& n) const {
    uint8_t id[12];
    crypto::RandomBytes(id, sizeof id);
    std::string to;
    for (const auto& t : config_.to) to += (to.empty() ? "" : ", ") + t;
    std::string body = n.Text();
    std::string text;
    for (char c : body) text += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return "Date: " + FormatUtc(env_->NowUnixNanos(), "%a, %d %b %Y %H:%M:%S +0000") + "\r\n" +
           "From: backspan <" + config_.from + ">\r\n" + "To: " + to + "\r\n" +
           "Message-ID: <" + HexEncode(ByteView(id, sizeof id)) + "@backspan>\r\n" +
           "Subject: " + OneLine(n.Title()) + "\r\n" + "MIME-Version: 1.0\r\n" +
           "Content-Type: text/plain; charset=utf-8\r\n" + "X-Backspan-Event: " + EventKindName(n.event.kind) + "\r\n" +
           "X-Backspan-Incident: " + n.incident_id + "\r\n\r\n" + text;
  }

  Env* env_;
};

}  // namespace

std::unique_ptr<Channel> MakeSmtpChannel(const ChannelConfig& config, Env* env) {
  return std::make_unique<SmtpChannel>(config, env);
}

}  // namespace backspan::notify
