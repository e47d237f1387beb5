#include "observatory/ingest/json_body.h"

#include "observatory/ingest/external_spans.h"
#include "util/bounded_json.h"

namespace backspan::observatory {

Status CheckItemCount(size_t n, const char* what) {
  if (n <= kMaxItemsPerRequest) return Status::Ok();
  return Status::InvalidArgument(std::to_string(n) + " " + what + "s in one request, more than " +
                                 std::to_string(kMaxItemsPerRequest) + ": send them in several");
}

Result<JsonBody> ParseJsonBody(std::string_view body, const char* not_json) {
  JsonBody out;
  std::string why;
  nlohmann::json doc = ParseBoundedJson(body, {}, &why);
  if (!why.empty()) return Status::InvalidArgument(why);
  if (!doc.is_discarded()) {
    out.docs.push_back(std::move(doc));
    return out;
  }
  out.lines = true;
  const auto lines = NonBlankLines(body);
  RETURN_IF_ERROR(CheckItemCount(lines.size(), "line"));
  for (auto [line, text] : lines) {
    nlohmann::json item = ParseBoundedJson(text, {}, &why);
    if (!why.empty()) return Status::InvalidArgument("line " + std::to_string(line) + ": " + why);
    if (item.is_discarded())
      return Status::InvalidArgument(line == 1 ? std::string(not_json) : "line " + std::to_string(line) + " is not JSON");
    out.docs.push_back(std::move(item));
  }
  if (out.docs.empty()) return Status::InvalidArgument(not_json);
  return out;
}

}  // namespace backspan::observatory
