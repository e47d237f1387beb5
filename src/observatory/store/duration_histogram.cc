#include "observatory/store/duration_histogram.h"

#include <cmath>

namespace backspan::observatory {
namespace {

constexpr int kPerDoubling = 8;
constexpr int kMaxBucket = 8 * 40;  // 2^40 ms: beyond any job

int BucketOf(double seconds) {
  double ms = seconds * 1000.0;
  if (!(ms > 1.0)) return 0;
  int b = static_cast<int>(std::floor(std::log2(ms) * kPerDoubling));
  return b > kMaxBucket ? kMaxBucket : b;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

void DurationHistogram::Add(double seconds, int64_t count) {
  if (buckets_.empty()) buckets_.resize(kMaxBucket + 1);
  buckets_[static_cast<size_t>(BucketOf(seconds))] += count;
  count_ += count;
}

void DurationHistogram::Merge(const DurationHistogram& other) {
  if (other.buckets_.empty()) return;
  if (buckets_.empty()) buckets_.resize(kMaxBucket + 1);
  for (size_t b = 0; b < other.buckets_.size(); ++b) buckets_[b] += other.buckets_[b];
  count_ += other.count_;
}

double DurationHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  double rank = q * static_cast<double>(count_);
  int64_t seen = 0;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (buckets_[b] && static_cast<double>(seen) >= rank) {
      if (b == 0) return 0.001;
      // The bucket's geometric middle.
      return std::exp2((static_cast<double>(b) + 0.5) / kPerDoubling) / 1000.0;
    }
  }
  return 0;
}

std::string DurationHistogram::Encode() const {
  std::string out;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (!buckets_[b]) continue;
    PutVarint(&out, b);
    PutVarint(&out, static_cast<uint64_t>(buckets_[b]));
  }
  return out;
}

void DurationHistogram::MergeEncoded(std::string_view blob) {
  uint64_t b, c;
  while (GetVarint(&blob, &b) && GetVarint(&blob, &c)) {
    if (b > kMaxBucket) return;
    if (buckets_.empty()) buckets_.resize(kMaxBucket + 1);
    buckets_[b] += static_cast<int64_t>(c);
    count_ += static_cast<int64_t>(c);
  }
}

std::vector<int64_t> DurationHistogram::Dense() const {
  size_t n = buckets_.size();
  while (n > 0 && buckets_[n - 1] == 0) --n;
  return {buckets_.begin(), buckets_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void DurationHistogram::MergeDense(const std::vector<int64_t>& counts) {
  if (counts.empty()) return;
  if (buckets_.empty()) buckets_.resize(kMaxBucket + 1);
  for (size_t b = 0; b < counts.size() && b <= static_cast<size_t>(kMaxBucket); ++b) {
    buckets_[b] += counts[b];
    count_ += counts[b];
  }
}

}  // namespace backspan::observatory
