// Azure's backup events as spans: Azure Monitor alert notifications in the
// common alert schema, and Azure Backup job records exported from Log
// Analytics (docs/api.md lists the fields read and the attributes made).
#pragma once

#include <cstdint>
#include <string_view>

#include "observatory/ingest/external_spans.h"

namespace backspan::observatory {

// The largest alert notification Azure sends (the common alert schema's limit).
inline constexpr size_t kMaxAlertBytes = 256 * 1024;

// One webhook body with schemaId azureMonitorCommonAlertSchema: one span for
// the alert (in the trace of the Azure Backup job it names, if any), final
// at once, fired to resolved once resolved. InvalidArgument, naming the
// field, for a body that is not such a notification.
Result<ExternalSpan> AzureAlertSpan(std::string_view body, int64_t now_ns);

// Rows of AddonAzureBackupJobs, or of AzureDiagnostics with its _s/_g
// suffixed columns: a JSON array of objects, JSON lines, or a Log Analytics
// query API response ({"tables": [{"columns", "rows"}]}). One span per
// job; InProgress rows are open. InvalidArgument if the body is none of
// these; rows that are not usable job records are listed as rejected.
Result<ParsedSpans> AzureBackupJobSpans(std::string_view body, int64_t now_ns);

}  // namespace backspan::observatory
