// A log-scale histogram of job durations, for percentiles over rollups:
// bucket i holds durations in [2^(i/8), 2^((i+1)/8)) milliseconds, so an
// estimate is within ±4.5 % of the true value. Stored sparsely.
#pragma once

#include <cstdint>
#include <vector>
#include <string>
#include <string_view>

namespace backspan::observatory {

class DurationHistogram {
 public:
  void Add(double seconds, int64_t count = 1);
  void Merge(const DurationHistogram& other);
  // The q-quantile (0..1) in seconds; 0 if empty.
  double Quantile(double q) const;
  int64_t count() const { return count_; }

  // A compact blob: (bucket, count) pairs as varints.
  std::string Encode() const;
  // Adds the counts of an encoded blob; ignores a damaged tail.
  void MergeEncoded(std::string_view blob);

  // The counts per bucket up to the last non-zero one (a form a database
  // can add element by element), and adding such counts.
  std::vector<int64_t> Dense() const;
  void MergeDense(const std::vector<int64_t>& counts);

 private:
  std::vector<int64_t> buckets_;  // dense: allocated on first use
  int64_t count_ = 0;
};

}  // namespace backspan::observatory
