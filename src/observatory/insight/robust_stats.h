// The statistics insight is built on, chosen because one bad job cannot move
// them far: medians, the median absolute deviation, Theil–Sen lines, and
// the two tail probabilities the detector and the forecasts need.
#pragma once

#include <cstdint>
#include <vector>

namespace backspan::observatory::insight {

// The median of `v` (reordered); 0 for an empty vector.
double Median(std::vector<double> v);

// The median absolute deviation from the median, times 1.4826 so that it
// estimates the standard deviation of normal data; 0 for fewer than 2 values.
double MadSigma(const std::vector<double>& v);

// A line fitted by Theil–Sen: the median of the slopes between every pair
// of points (pairs with equal x skipped), through the median of y - slope x.
// Up to 29 % of the points can be arbitrarily wrong without moving it far.
struct Line {
  double slope = 0, intercept = 0;
  double slope_low = 0, slope_high = 0;  // Sen's 90 % confidence interval of the slope
  bool ok = false;                        // at least 3 points with 2 distinct x
  double At(double x) const { return intercept + slope * x; }
};
Line TheilSen(const std::vector<double>& x, const std::vector<double>& y);
// TheilSen(x, y).slope when its interval excludes zero (most pairs agree
// on the sign), else 0; cheaper when there is no trend, as is usual.
double SignificantSlope(const std::vector<double>& x, const std::vector<double>& y);

// P(X >= k) for X ~ Binomial(n, p).
double BinomialTail(int n, int k, double p);

// P(X >= k) for X ~ BetaBinomial(n, alpha, beta): k or more of n trials
// succeed when their rate is uncertain, distributed Beta(alpha, beta).
double BetaBinomialTail(int n, int k, double alpha, double beta);

// The standard normal distribution function.
double NormalCdf(double z);

}  // namespace backspan::observatory::insight
