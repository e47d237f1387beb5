#include "http/router.h"

namespace backspan::http {
namespace {

// The segments of a path: "/a/b/" is {"a", "b", ""}; "/" is {""}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Handler handler, RunOn where, uint64_t max_body) {
  Route r{std::move(method), {}, std::move(handler), where, max_body};
  for (std::string_view s : Segments(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

const Router::Route* Router::Match(const Request& req, std::vector<std::string>* captures, std::string* allow) const {
  const std::string_view method = req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
  const std::vector<std::string_view> path = Segments(req.path);
  for (const Route& r : routes_) {
    if (r.segments.size() != path.size()) continue;
    captures->clear();
    bool match = true;
    for (size_t i = 0; i < path.size() && match; ++i) {
      if (r.segments[i] == "*" && !path[i].empty()) captures->emplace_back(path[i]);
      else match = r.segments[i] == path[i];
    }
    if (!match) continue;
    if (r.method == method) return &r;
    if (allow && allow->find(r.method) == std::string::npos) *allow += (allow->empty() ? "" : ", ") + r.method;
  }
  captures->clear();
  return nullptr;
}

RunOn Router::Where(const Request& req) const {
  std::vector<std::string> captures;
  const Route* r = Match(req, &captures, nullptr);
  return r ? r->where : RunOn::kWorker;
}

uint64_t Router::BodyLimit(const Request& req) const {
  std::vector<std::string> captures;
  const Route* r = Match(req, &captures, nullptr);
  return r ? r->max_body : 0;
}

void Router::Handle(Request& req, Response& res) const {
  std::string allow;
  const Route* r = Match(req, &req.captures, &allow);
  if (r) return r->handler(req, res);
  if (allow.empty()) {
    res.Set(404, "{\"error\":\"no such endpoint\"}", "application/json");
  } else {
    res.Set(405, "{\"error\":\"this endpoint takes " + allow + "\"}", "application/json");
    res.AddHeader("Allow", allow);
  }
  if (fallback_) fallback_(req, res);
}

}  // namespace backspan::http
