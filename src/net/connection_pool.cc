#include "net/connection_pool.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "util/text.h"

namespace backspan::net {

class ConnectionPool::Connection {
 public:
  Connection(const std::string& origin, const TlsOptions& tls) : client(origin) {
    client.set_keep_alive(true);
    // Bodies are stored bytes: never ask for, nor undo, a content coding.
    client.set_decompress(false);
    if (!tls.ca_file.empty()) client.set_ca_cert_path(tls.ca_file);
    client.enable_server_certificate_verification(true);
  }
  httplib::Client client;
};

ConnectionPool::ConnectionPool(std::string origin, TlsOptions tls, size_t max_idle)
    : origin_(std::move(origin)), tls_(std::move(tls)), max_idle_(max_idle) {}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<ConnectionPool::Connection> ConnectionPool::Checkout() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<Connection>(origin_, tls_);
}

void ConnectionPool::Return(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
}

namespace {

// More than any object the backends read at once; a larger announced length
// is not trusted with memory up front.
constexpr uint64_t kMaxReserve = 256ull << 20;

std::string Why(httplib::Error e) {
  switch (e) {
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate does not verify against the trusted CAs (the system's, SSL_CERT_FILE "
             "or --cacert)";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    case httplib::Error::Connection: return "could not connect";
    case httplib::Error::Read: return "the connection broke while reading the response (reset, cut short or timed out)";
    case httplib::Error::Write: return "the connection broke while sending the request (reset or timed out)";
    default: return httplib::to_string(e);
  }
}

}  // namespace

Result<PooledResponse> ConnectionPool::Send(const PooledRequest& request) noexcept {
  try {
    std::unique_ptr<Connection> conn = Checkout();
    if (!conn->client.is_valid()) return Status::InvalidArgument("cannot use the endpoint " + origin_);
    const auto timeout = std::chrono::milliseconds(std::max<int64_t>(request.timeout_ms, 1));
    conn->client.set_connection_timeout(timeout);
    conn->client.set_read_timeout(timeout);
    conn->client.set_write_timeout(timeout);
    httplib::Request req;
    req.method = request.method;
    req.path = request.target;
    for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
    Status read_error;
    std::vector<uint8_t> chunk;
    if (request.body.size > 0) {
      // Streamed a piece at a time: the body never sits whole in memory.
      req.content_length_ = request.body.size;
      req.content_provider_ = [&](size_t offset, size_t length, httplib::DataSink& sink) {
        chunk.resize(std::min<size_t>(length, 256 << 10));
        read_error = request.body.read(offset, chunk.data(), chunk.size());
        return read_error.ok() && sink.write(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      };
    }
    // The body goes straight into one buffer of the announced size: a pack
    // of 16 MiB is not regrown and copied on its way in.
    Bytes received;
    req.response_handler = [&](const httplib::Response& head) {
      const std::string length = head.get_header_value("Content-Length");
      if (!length.empty() && length.size() < 12 && length.find_first_not_of("0123456789") == std::string::npos)
        received.reserve(std::min<uint64_t>(std::stoull(length), kMaxReserve));
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      // resize + memcpy: Bytes' allocator default-initializes, which makes insert() copy byte by byte.
      const size_t at = received.size();
      received.resize(at + n);
      std::memcpy(received.data() + at, data, n);
      return true;
    };
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    if (!conn->client.send(req, res, error)) {
      if (!read_error.ok()) return read_error;
      // The connection is dropped; the query may carry a signature.
      const std::string path = request.target.substr(0, request.target.find('?'));
      return Status::IOError(request.method + " " + origin_ + path + ": " + Why(error));
    }
    PooledResponse out;
    out.status = res.status;
    out.body = std::move(received);
    for (const auto& [k, v] : res.headers) out.headers[AsciiLower(k)] = v;
    const bool closing = AsciiLower(res.get_header_value("Connection")) == "close";
    if (!closing) Return(std::move(conn));
    return out;
  } catch (const std::exception& e) {
    return Status::IOError(request.method + " " + origin_ + ": " + e.what());
  }
}

bool IsLoopbackHost(const std::string& host) {
  std::string h = AsciiLower(host);
  if (!h.empty() && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

}  // namespace backspan::net
