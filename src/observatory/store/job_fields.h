// What every store does with a job's fields: compare two versions, and keep
// its tags as JSON (the jobs and sources tables store them so).
#pragma once

#include <string>
#include <vector>

#include "observatory/store/records.h"

namespace backspan::observatory {

// Whether two versions of a job have the same fields (the write time aside).
bool SameJob(const JobRecord& a, const JobRecord& b);

// Tags as a JSON object and back.
std::string TagsToJson(const std::vector<Tag>& tags);
std::vector<Tag> TagsFromJson(const std::string& json);

}  // namespace backspan::observatory
