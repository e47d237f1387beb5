#include "util/bounded_json.h"

#include <algorithm>

namespace backspan {
namespace {

// What a value costs in nlohmann's tree, roughly (64-bit, libstdc++): a
// node of 16 bytes; a string's or container's storage behind it; an object
// member's map node and key.
constexpr size_t kNode = 16, kString = 32, kContainer = 48, kMember = 80;

// A first pass over the text that builds nothing: it adds up depth and
// cost, and stops at the first bound passed (or syntax error).
class Bounds : public nlohmann::json::json_sax_t {
 public:
  Bounds(int max_depth, size_t max_cost) : max_depth_(max_depth), max_cost_(max_cost) {}
  bool null() override { return Add(kNode); }
  bool boolean(bool) override { return Add(kNode); }
  bool number_integer(number_integer_t) override { return Add(kNode); }
  bool number_unsigned(number_unsigned_t) override { return Add(kNode); }
  bool number_float(number_float_t, const string_t&) override { return Add(kNode); }
  bool string(string_t& s) override { return Add(kNode + kString + s.size()); }
  bool binary(binary_t& b) override { return Add(kNode + kContainer + b.size()); }
  bool start_object(std::size_t) override { return Open(); }
  bool key(string_t& k) override { return Add(kMember + k.size()); }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return Open(); }
  bool end_array() override { return --depth_, true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  const std::string& why() const { return why_; }
  size_t cost() const { return cost_; }

 private:
  bool Add(size_t bytes) {
    if ((cost_ += bytes) <= max_cost_) return true;
    why_ = "the JSON would take more than " + std::to_string(max_cost_) + " bytes of memory to read";
    return false;
  }
  bool Open() {
    if (++depth_ > max_depth_) {
      why_ = "the JSON is nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    return Add(kNode + kContainer);
  }
  const int max_depth_;
  const size_t max_cost_;
  int depth_ = 0;
  size_t cost_ = 0;
  std::string why_;
};

Bounds Measure(std::string_view text, const JsonLimits& limits, bool* ok) {
  Bounds bounds(limits.max_depth, (64 << 10) + limits.max_memory_factor * text.size());
  *ok = nlohmann::json::sax_parse(text, &bounds);
  return bounds;
}

}  // namespace

nlohmann::json ParseBoundedJson(std::string_view text, const JsonLimits& limits, std::string* error) {
  bool ok;
  const Bounds bounds = Measure(text, limits, &ok);
  if (!ok) {
    if (error) *error = bounds.why();
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

std::optional<size_t> JsonTreeSize(std::string_view text, const JsonLimits& limits) {
  bool ok;
  const Bounds whole = Measure(text, limits, &ok);
  if (ok) return whole.cost();
  // JSON lines: the trees of its lines.
  size_t total = 0, pos = 0;
  while (pos < text.size()) {
    const size_t nl = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const Bounds one = Measure(line, limits, &ok);
    if (!ok) return std::nullopt;
    total += one.cost();
  }
  return total;
}

}  // namespace backspan
