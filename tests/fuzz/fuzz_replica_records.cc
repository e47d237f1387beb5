// What replicas sharing a PostgreSQL store read of each other's writing:
// the jobs queued for the aggregates and sent with NOTIFY (counted_jobs.h),
// and the leader's anomalies (anomaly_codec.h). A record that decodes
// encodes back to one that decodes alike.
#include "fuzz.h"
#include "observatory/insight/anomaly_codec.h"
#include "observatory/store/postgres/counted_jobs.h"

using namespace backspan;
using namespace backspan::observatory;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::Text(data, size);
  if (auto jobs = DecodeCountedJobs(text); jobs.ok()) {
    auto again = DecodeCountedJobs(EncodeCountedJobs(*jobs));
    BACKSPAN_FUZZ_CHECK(again.ok() && again->size() == jobs->size());
    for (size_t i = 0; i < jobs->size(); ++i)
      BACKSPAN_FUZZ_CHECK((*again)[i].job.tags == (*jobs)[i].job.tags &&
                          (*again)[i].job.error_message == (*jobs)[i].job.error_message);
  }
  if (auto anomalies = insight::DecodeAnomalies(std::string(text)); anomalies.ok()) {
    auto again = insight::DecodeAnomalies(insight::EncodeAnomalies(*anomalies));
    BACKSPAN_FUZZ_CHECK(again.ok() && again->size() == anomalies->size());
  }
  return 0;
}
