#include "observatory/store/postgres/counted_jobs.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "util/encoding.h"
#include "util/hex.h"

namespace backspan::observatory {

using nlohmann::json;

namespace {

constexpr uint8_t kRecordVersion = 1;

// A job's record: its version, then the fields in a fixed order (numbers as
// zig-zag varints, strings and ids length-prefixed).
void PutJob(const CountedJob& c, Encoder* e) {
  const JobRecord& j = c.job;
  e->PutU8(kRecordVersion);
  e->PutSignedVarint(c.sign);
  e->PutU8(c.to_source ? 1 : 0);
  e->PutBytes(ByteView(j.trace_id.data(), j.trace_id.size()));
  e->PutBytes(ByteView(j.span_id.data(), j.span_id.size()));
  for (const std::string* s : {&j.name, &j.kind, &j.status, &j.host, &j.service, &j.resource_group, &j.error_type,
                               &j.error_message, &j.snapshot_id, &j.source_key, &j.source_paths})
    e->PutString(*s);
  for (int64_t v : {j.start_ns, j.end_ns, j.bytes_added, j.bytes_total, j.files_total, j.files_changed, j.bytes_read,
                    j.bytes_stored, j.deadline_ns})
    e->PutSignedVarint(v);
  e->PutVarint(j.tags.size());
  for (const auto& [k, v] : j.tags) {
    e->PutString(k);
    e->PutString(v);
  }
}

template <size_t N>
Status GetId(Decoder& d, std::array<uint8_t, N>* id) {
  ByteView b;
  RETURN_IF_ERROR(d.GetBytes(&b));
  if (b.size() != N) return Status::Corruption("a job's id has the wrong length");
  std::copy(b.begin(), b.end(), id->begin());
  return Status::Ok();
}

Status GetJob(ByteView record, CountedJob* c) {
  Decoder d(record);
  JobRecord& j = c->job;
  uint8_t version = 0, to_source = 0;
  RETURN_IF_ERROR(d.GetU8(&version));
  if (version != kRecordVersion) return Status::Corruption("a job's record has unknown version " + std::to_string(version));
  int64_t sign = 0;
  RETURN_IF_ERROR(d.GetSignedVarint(&sign));
  c->sign = static_cast<int>(sign);
  RETURN_IF_ERROR(d.GetU8(&to_source));
  c->to_source = to_source != 0;
  RETURN_IF_ERROR(GetId(d, &j.trace_id));
  RETURN_IF_ERROR(GetId(d, &j.span_id));
  for (std::string* s : {&j.name, &j.kind, &j.status, &j.host, &j.service, &j.resource_group, &j.error_type,
                         &j.error_message, &j.snapshot_id, &j.source_key, &j.source_paths})
    RETURN_IF_ERROR(d.GetString(s));
  for (int64_t* v : {&j.start_ns, &j.end_ns, &j.bytes_added, &j.bytes_total, &j.files_total, &j.files_changed,
                     &j.bytes_read, &j.bytes_stored, &j.deadline_ns})
    RETURN_IF_ERROR(d.GetSignedVarint(v));
  uint64_t tags = 0;
  RETURN_IF_ERROR(d.GetVarint(&tags));
  if (tags > d.remaining()) return Status::Corruption("a job's record claims more tags than it holds");
  j.tags.resize(tags);
  for (auto& [k, v] : j.tags) {
    RETURN_IF_ERROR(d.GetString(&k));
    RETURN_IF_ERROR(d.GetString(&v));
  }
  if (!d.done()) return Status::Corruption("a job's record has bytes after its end");
  return Status::Ok();
}

// The JSON array earlier versions wrote (rows still queued, replicas not
// yet upgraded).
Result<std::vector<CountedJob>> DecodeJson(std::string_view text) {
  const json in = json::parse(text, nullptr, false);
  if (!in.is_array()) return Status::Corruption("a row of aggregate_deltas is not a JSON array");
  std::vector<CountedJob> out;
  try {
    for (const json& e : in) {
      CountedJob c;
      c.sign = e.at("s").get<int>();
      c.to_source = e.at("src").get<bool>();
      JobRecord& j = c.job;
      if (auto id = trace::TraceIdFromHex(e.at("trace").get<std::string>())) j.trace_id = *id;
      if (auto id = trace::SpanIdFromHex(e.value("span", std::string()))) j.span_id = *id;
      j.name = e.value("name", std::string());
      j.files_total = e.value("files", int64_t{0});
      j.files_changed = e.value("changed", int64_t{0});
      j.bytes_read = e.value("read", int64_t{0});
      j.bytes_stored = e.value("stored", int64_t{0});
      j.deadline_ns = e.value("deadline", int64_t{0});
      j.error_type = e.value("etype", std::string());
      j.error_message = e.value("emsg", std::string());
      j.snapshot_id = e.value("snap", std::string());
      j.kind = e.at("kind").get<std::string>();
      j.status = e.at("status").get<std::string>();
      j.host = e.at("host").get<std::string>();
      j.service = e.at("service").get<std::string>();
      j.resource_group = e.at("rg").get<std::string>();
      j.start_ns = e.at("start").get<int64_t>();
      j.end_ns = e.at("end").get<int64_t>();
      j.bytes_added = e.at("added").get<int64_t>();
      j.bytes_total = e.at("total").get<int64_t>();
      j.source_key = e.at("key").get<std::string>();
      j.source_paths = e.at("paths").get<std::string>();
      for (const json& t : e.at("tags")) j.tags.emplace_back(t.at(0).get<std::string>(), t.at(1).get<std::string>());
      out.push_back(std::move(c));
    }
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("a row of aggregate_deltas is damaged: ") + e.what());
  }
  return out;
}

}  // namespace

std::string EncodeCountedJob(const CountedJob& job) {
  Encoder e;
  PutJob(job, &e);
  return Base64Encode(e.buffer());
}

std::string EncodeCountedJobs(const std::vector<CountedJob>& jobs) {
  std::string out(1, kCountedJobsFormat);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (i) out.push_back(',');
    out += EncodeCountedJob(jobs[i]);
  }
  return out;
}

Result<std::vector<CountedJob>> DecodeCountedJobs(std::string_view text) {
  if (text.empty() || text[0] != kCountedJobsFormat) return DecodeJson(text);
  std::vector<CountedJob> out;
  text.remove_prefix(1);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    auto record = Base64Decode(text.substr(0, comma));
    if (!record) return Status::Corruption("a job's record is not base64");
    CountedJob c;
    RETURN_IF_ERROR(GetJob(*record, &c));
    out.push_back(std::move(c));
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
  }
  return out;
}

}  // namespace backspan::observatory
