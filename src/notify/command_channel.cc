// A command run for each notification (/bin/sh -c), the notification in its
// environment: BACKSPAN_NOTIFICATION (the webhook's JSON),
// BACKSPAN_EVENT, BACKSPAN_TITLE, BACKSPAN_TEXT, BACKSPAN_URL,
// BACKSPAN_TRACE_ID. Exit 0 is delivered; any other exit is retried.
#include "notify/channel.h"
#include "wrap/child_process.h"

namespace backspan::notify {
namespace {

class CommandChannel final : public Channel {
 public:
  using Channel::Channel;
  Status Send(const Notification& n) noexcept override {
    wrap::ChildOptions options;
    options.pass_through = false;
    options.null_stdin = true;
    options.environment = {"BACKSPAN_NOTIFICATION=" + n.ToJson(), std::string("BACKSPAN_EVENT=") + EventKindName(n.event.kind),
                           "BACKSPAN_TITLE=" + n.Title(), "BACKSPAN_TEXT=" + n.Text(), "BACKSPAN_URL=" + n.job_url,
                           "BACKSPAN_TRACE_ID=" + n.event.trace_id, "BACKSPAN_INCIDENT=" + n.incident_id};
    std::string last;
    options.on_stderr = [&](std::string_view line) {
      if (!line.empty()) last.assign(line.substr(0, 300));
    };
    auto code = wrap::RunChild({"/bin/sh", "-c", config_.command}, options);
    if (!code.ok()) return Status::IOError(config_.name + ": " + code.status().message());
    if (*code != 0)
      return Status::IOError(config_.name + ": the command exited with " + std::to_string(*code) + (last.empty() ? "" : ": " + last));
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Channel> MakeCommandChannel(const ChannelConfig& config) { return std::make_unique<CommandChannel>(config); }

}  // namespace backspan::notify
