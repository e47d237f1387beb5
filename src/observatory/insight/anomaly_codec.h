// Anomaly records as text: what the judging replica shares with the others
// (observatory/replicas/anomaly_mirror), so that every replica answers with
// the anomalies one judged. Numbers round-trip exactly.
#pragma once

#include <string>
#include <vector>

#include "observatory/insight/insight_engine.h"
#include "util/status.h"

namespace backspan::observatory::insight {

// One source's anomalies, as a JSON array.
std::string EncodeAnomalies(const std::vector<AnomalyRecord>& records);
// The records of EncodeAnomalies' text (Anomaly::job left 0: an index into
// the judging replica's memory); InvalidArgument naming what is wrong.
Result<std::vector<AnomalyRecord>> DecodeAnomalies(const std::string& text);

}  // namespace backspan::observatory::insight
