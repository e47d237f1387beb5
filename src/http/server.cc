#include "http/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "http/worker_pool.h"

namespace backspan::http {
namespace {

constexpr uint64_t kListenerId = 0, kWakeId = 1;
constexpr size_t kReadChunk = 64 << 10;
constexpr int64_t kSweepIntervalNs = 100'000'000;
constexpr int64_t kLingerNs = 2'000'000'000;        // reading what a client still sends after our final answer
constexpr uint64_t kMaxLingerBytes = 4 << 20;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string PeerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace

struct Server::Impl {
  enum class Phase {
    kReading,    // a request's bytes (or none yet, idle)
    kWorking,    // its handler runs on a worker
    kWriting,    // the answer goes out
    kLingering,  // after a final answer: reading and dropping what the client still sends, then close
  };

  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    std::string peer;
    RequestParser parser;
    std::string in;  // read and not yet parsed: the next pipelined request
    std::string out;
    size_t out_pos = 0;
    Phase phase = Phase::kReading;
    bool started = false;       // some bytes of the current request arrived
    bool first = true;          // no request answered yet on this connection
    bool close_after = false;   // close once `out` is written
    bool head_checked = false;  // the head's declared size was checked against the budget
    int64_t phase_ns = 0;       // when the current phase (or the request's first byte) began
    int64_t body_ns = 0;        // when the header ended
    uint64_t linger_bytes = 0;
    uint64_t charged = 0;       // bytes counted in buffered_
    uint32_t events = 0;
    explicit Conn(const ParserLimits& l) : parser(l) {}
  };

  ServerLimits limits;
  const Router* router;
  int listen_fd = -1, epoll_fd = -1, bound_port = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 2;
  uint64_t buffered = 0;
  bool stopping = false;
  int64_t stop_deadline_ns = 0;
  int64_t accept_paused_ns = 0;  // when accepting paused for want of descriptors
  std::atomic<bool> stop_requested{false};
  char read_buf[kReadChunk];

  WorkerPool pool;

  std::atomic<uint64_t> accepted{0}, refused{0}, timeouts{0}, malformed{0}, busy{0}, open{0}, held{0};

  Impl(ServerLimits l, const Router* r) : limits(l), router(r), pool(r, l.max_queued) {}

  void SetEvents(Conn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void Charge(Conn& c, uint64_t bytes) {
    buffered = buffered - c.charged + bytes;
    c.charged = bytes;
    held = buffered;
  }

  void Close(Conn& c) {
    Charge(c, 0);
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    open--;
    conns.erase(c.id);  // `c` is gone
  }

  // Queues `res` on the connection and starts writing it.
  void Respond(Conn& c, const Response& res, bool keep_alive, bool head_only) {
    c.out = Serialize(res, !keep_alive, head_only);
    c.out_pos = 0;
    c.close_after = !keep_alive;
    c.phase = Phase::kWriting;
    c.phase_ns = NowNs();
    Charge(c, c.out.size());
    Write(c);
  }

  void Fail(Conn& c, int status, const std::string& message) {
    if (status == 408) timeouts++;
    else if (status == 503) busy++;
    else malformed++;
    Respond(c, ErrorResponse(status, message), false, false);
  }

  void Accept() {
    while (true) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // Out of descriptors: the backlog waits, and the loop does not spin on it.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) PauseAccepting(true);
        return;
      }
      accepted++;
      if (conns.size() >= limits.max_connections) {
        refused++;
        const std::string r = Serialize(ErrorResponse(503, "too many connections: the server's limit is " +
                                                               std::to_string(limits.max_connections)), true, false);
        (void)!send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>(limits.parser);
      c->id = next_id++;
      c->fd = fd;
      c->peer = PeerAddress(ss);
      c->phase_ns = NowNs();
      c->events = EPOLLIN | EPOLLRDHUP;
      epoll_event ev{};
      ev.events = c->events;
      ev.data.u64 = c->id;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        continue;
      }
      open++;
      conns.emplace(c->id, std::move(c));
    }
  }

  void PauseAccepting(bool pause) {
    if (listen_fd < 0 || pause == (accept_paused_ns != 0)) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerId;
    epoll_ctl(epoll_fd, pause ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, listen_fd, &ev);
    accept_paused_ns = pause ? NowNs() : 0;
  }

  void Read(Conn& c) {
    const ssize_t n = recv(c.fd, read_buf, sizeof read_buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return Close(c);  // the client went away; a partial request is not answered
    if (c.phase == Phase::kLingering) {
      if ((c.linger_bytes += static_cast<uint64_t>(n)) > kMaxLingerBytes) Close(c);
      return;
    }
    if (!c.started) {
      c.started = true;
      c.phase_ns = NowNs();
    }
    c.in.append(read_buf, static_cast<size_t>(n));
    Parse(c);
  }

  // Feeds what has been read to the parser; dispatches a whole request.
  void Parse(Conn& c) {
    size_t pos = 0;
    while (pos < c.in.size()) {
      pos += c.parser.Feed(std::string_view(c.in).substr(pos));
      if (c.parser.state() == RequestParser::State::kError) {
        c.in.clear();
        return Fail(c, c.parser.error_status(), c.parser.error());
      }
      if (c.parser.head_done() && !c.head_checked) {
        c.head_checked = true;
        c.body_ns = NowNs();
        if (!CheckHead(c)) return;  // the route's limit may also have ended the request
      }
      if (c.parser.state() == RequestParser::State::kComplete) {
        c.in.erase(0, pos);
        return Dispatch(c);
      }
    }
    c.in.erase(0, pos);
    Charge(c, std::max<uint64_t>(c.parser.buffered_bytes() + c.in.size(), c.charged));
    if (buffered > limits.max_buffered_bytes) return Fail(c, 503, "the server holds too many request bodies; retry later");
  }

  // Once the header is in: the declared body must fit the memory budget;
  // a client that waits for 100 Continue gets it.
  bool CheckHead(Conn& c) {
    c.parser.LimitBody(router->BodyLimit(c.parser.request()));
    const uint64_t declared = c.parser.request().body_too_large ? 0 : c.parser.declared_length();
    if (buffered - c.charged + declared > limits.max_buffered_bytes) {
      Fail(c, 503, "the server holds too many request bodies; retry later");
      return false;
    }
    Charge(c, declared);
    if (c.parser.expects_continue()) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      (void)!send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return true;
  }

  void Dispatch(Conn& c) {
    Request req = std::move(c.parser.request());
    req.remote_addr = c.peer;
    const bool keep_alive = c.parser.keep_alive() && !stopping;
    c.phase = Phase::kWorking;
    SetEvents(c, 0);  // errors and hang-ups still arrive
    if (router->Where(req) == RunOn::kEventLoop) {
      Response res;
      router->Handle(req, res);
      return Respond(c, res, keep_alive, req.method == "HEAD");
    }
    size_t waiting = 0;
    if (!pool.Submit({c.id, std::move(req), keep_alive}, &waiting)) {
      busy++;
      return Respond(c, ErrorResponse(503, "the server is busy: " + std::to_string(waiting) + " requests wait; retry later"),
                     keep_alive, false);
    }
  }

  void Write(Conn& c) {
    while (c.out_pos < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_pos += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return SetEvents(c, EPOLLOUT);
      return Close(c);
    }
    c.out.clear();
    c.out.shrink_to_fit();
    c.out_pos = 0;
    Charge(c, 0);
    if (c.close_after || stopping) {
      // Lingering close: a client still sending (a body we refused) would
      // otherwise get a reset that can destroy our answer in its buffers.
      shutdown(c.fd, SHUT_WR);
      c.phase = Phase::kLingering;
      c.phase_ns = NowNs();
      return SetEvents(c, EPOLLIN | EPOLLRDHUP);
    }
    c.parser.Reset();
    c.phase = Phase::kReading;
    c.first = false;
    c.head_checked = false;
    c.started = !c.in.empty();
    c.phase_ns = NowNs();
    SetEvents(c, EPOLLIN | EPOLLRDHUP);
    if (c.started) Parse(c);
  }

  void Completions() {
    for (WorkerPool::Done& d : pool.TakeDone()) {
      auto it = conns.find(d.conn);
      if (it == conns.end()) continue;  // the client left while its request ran
      Conn& c = *it->second;
      c.out = std::move(d.bytes);
      c.out_pos = 0;
      c.close_after = d.close;
      c.phase = Phase::kWriting;
      c.phase_ns = NowNs();
      Charge(c, c.out.size());
      Write(c);
    }
  }

  // Closes what is past its deadline.
  void Sweep(int64_t now) {
    std::vector<Conn*> expired;
    for (auto& [id, c] : conns) {
      const int64_t age = now - c->phase_ns;
      bool late = false;
      switch (c->phase) {
        case Phase::kReading:
          if (!c->started) late = age > (c->first ? limits.header_timeout_ns : limits.idle_timeout_ns);
          else if (!c->parser.head_done()) late = age > limits.header_timeout_ns;
          else late = now - c->body_ns > limits.body_timeout_ns + RateAllowance(c->parser.body_received());
          break;
        case Phase::kWriting:
          late = age > limits.write_timeout_ns + RateAllowance(c->out.size());
          break;
        case Phase::kLingering:
          late = age > kLingerNs;
          break;
        case Phase::kWorking:
          break;
      }
      if (late) expired.push_back(c.get());
    }
    for (Conn* c : expired) {
      if (c->phase == Phase::kReading && c->started) {
        Fail(*c, 408, c->parser.head_done() ? "the request body arrives too slowly" : "the request header took too long");
      } else {
        if (c->phase != Phase::kLingering) timeouts++;
        Close(*c);
      }
    }
  }

  int64_t RateAllowance(uint64_t bytes) const {
    return limits.min_rate_bytes_per_s ? static_cast<int64_t>(bytes / limits.min_rate_bytes_per_s) * 1'000'000'000 : INT64_MAX / 4;
  }

  void BeginShutdown() {
    stopping = true;
    stop_deadline_ns = NowNs() + limits.shutdown_timeout_ns;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    close(listen_fd);
    listen_fd = -1;
    std::vector<Conn*> idle;
    for (auto& [id, c] : conns)
      if (c->phase == Phase::kReading || c->phase == Phase::kLingering) idle.push_back(c.get());
    for (Conn* c : idle) Close(*c);  // nothing of theirs was acknowledged
  }

  void Loop() {
    epoll_event events[256];
    int64_t last_sweep = NowNs();
    while (true) {
      if (stop_requested && !stopping) BeginShutdown();
      if (stopping) {
        bool busy_conns = false;
        for (auto& [id, c] : conns) busy_conns |= c->phase == Phase::kWorking || c->phase == Phase::kWriting;
        if (!busy_conns || NowNs() > stop_deadline_ns) return;
      }
      const int n = epoll_wait(epoll_fd, events, 256, 50);
      for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListenerId) {
          if (!stopping) Accept();
          continue;
        }
        if (id == kWakeId) {
          uint64_t v;
          (void)!read(pool.wake_fd(), &v, sizeof v);
          Completions();
          continue;
        }
        auto it = conns.find(id);
        if (it == conns.end()) continue;
        Conn& c = *it->second;
        const uint32_t ev = events[i].events;
        if (c.phase == Phase::kWorking) {
          if (ev & (EPOLLERR | EPOLLHUP)) Close(c);
        } else if (c.phase == Phase::kWriting) {
          if (ev & (EPOLLERR | EPOLLHUP)) Close(c);
          else if (ev & EPOLLOUT) Write(c);
        } else if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
          Read(c);
        }
      }
      const int64_t now = NowNs();
      if (now - last_sweep >= kSweepIntervalNs) {
        if (accept_paused_ns && !stopping && now - accept_paused_ns >= kSweepIntervalNs) PauseAccepting(false);
        Sweep(now);
        last_sweep = now;
      }
    }
  }
};

Server::Server(ServerLimits limits, const Router* router) : impl_(std::make_unique<Impl>(limits, router)) {
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->pool.wake_fd(), &ev);
}

Server::~Server() {
  for (auto& [id, c] : impl_->conns) close(c->fd);
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
  close(impl_->epoll_fd);
}

Status Server::Listen(const std::string& host, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  const std::string where = host + ":" + std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return Status::IOError("cannot listen on " + where + ": no such address");
  const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 1024) == 0;
  const int err = errno;
  freeaddrinfo(res);
  if (!ok) {
    if (fd >= 0) close(fd);
    return Status::IOError("cannot listen on " + where + ": " + std::strerror(err) +
                           (err == EADDRNOTAVAIL ? " (not an address of this machine)" : ""));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  impl_->bound_port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                                      : reinterpret_cast<sockaddr_in&>(ss).sin_port);
  impl_->listen_fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  return Status::Ok();
}

int Server::port() const { return impl_->bound_port; }

void Server::Run() {
  Impl& m = *impl_;
  m.pool.Start(m.limits.threads);
  m.Loop();
  m.pool.Stop();
  std::vector<Impl::Conn*> left;
  for (auto& [id, c] : m.conns) left.push_back(c.get());
  for (auto* c : left) m.Close(*c);
}

void Server::Stop() {
  impl_->stop_requested = true;
  impl_->pool.Wake();
}

ServerStats Server::stats() const {
  ServerStats s;
  s.connections_open = impl_->open;
  s.connections_accepted = impl_->accepted;
  s.connections_refused = impl_->refused;
  s.timeouts = impl_->timeouts;
  s.malformed = impl_->malformed;
  s.busy = impl_->busy;
  s.buffered_bytes = impl_->held;
  return s;
}

}  // namespace backspan::http
