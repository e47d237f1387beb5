#include "util/bounded_json.h"

namespace backspan {
namespace {

// A first pass over the text that builds nothing: it counts values and
// depth, and stops at the first bound passed (or syntax error).
class Bounds : public nlohmann::json::json_sax_t {
 public:
  Bounds(int max_depth, size_t max_values) : max_depth_(max_depth), max_values_(max_values) {}
  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return Open(); }
  bool end_array() override { return --depth_, true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  const std::string& why() const { return why_; }

 private:
  bool Value() {
    if (++values_ <= max_values_) return true;
    why_ = "the JSON holds more than " + std::to_string(max_values_) + " values for its size";
    return false;
  }
  bool Open() {
    if (++depth_ > max_depth_) {
      why_ = "the JSON is nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    return Value();
  }
  const int max_depth_;
  const size_t max_values_;
  int depth_ = 0;
  size_t values_ = 0;
  std::string why_;
};

}  // namespace

nlohmann::json ParseBoundedJson(std::string_view text, const JsonLimits& limits, std::string* error) {
  Bounds bounds(limits.max_depth, limits.base_values + text.size() / std::max<size_t>(limits.bytes_per_value, 1));
  if (!nlohmann::json::sax_parse(text, &bounds)) {
    if (error) *error = bounds.why();
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace backspan
