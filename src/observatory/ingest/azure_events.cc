#include "observatory/ingest/azure_events.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "observatory/ingest/json_body.h"
#include "trace/semconv.h"
#include "util/bounded_json.h"
#include "util/json_number.h"
#include "util/text.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kMaxText = 2048;        // per attribute value taken from a payload
constexpr size_t kMaxContextAttrs = 64;  // attributes from an alert context of unknown shape

// A JSON object's members by lower-case name, so that "alertId", "AlertId"
// and "alertid" are one field. With `strip_type_suffix`, AzureDiagnostics'
// typed names ("JobStatus_s", "JobUniqueId_g") are also found by their
// plain name.
class Fields {
 public:
  Fields(const json& obj, bool strip_type_suffix = false) {
    if (!obj.is_object()) return;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      std::string key = AsciiLower(it.key());
      by_name_.emplace(key, &it.value());
      if (strip_type_suffix && key.size() > 2 && key[key.size() - 2] == '_' &&
          std::string_view("sgdtb").find(key.back()) != std::string_view::npos)
        by_name_.emplace(key.substr(0, key.size() - 2), &it.value());
    }
  }
  const json* Find(std::string_view name) const {
    auto it = by_name_.find(std::string(name));
    return it == by_name_.end() || it->second->is_null() ? nullptr : it->second;
  }
  std::string Text(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return "";
    if (v->is_string()) return v->get<std::string>().substr(0, kMaxText);
    if (v->is_number() || v->is_boolean()) return v->dump();
    return "";
  }
  // A number, or a number written as text (Log Analytics exports do both).
  std::optional<double> Number(std::string_view name) const {
    const json* v = Find(name);
    if (!v) return std::nullopt;
    if (v->is_number()) return v->get<double>();
    if (!v->is_string()) return std::nullopt;
    const std::string s = v->get<std::string>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  }
  std::vector<std::string> Strings(std::string_view name) const {
    std::vector<std::string> out;
    const json* v = Find(name);
    if (v && v->is_array())
      for (const auto& item : *v)
        if (item.is_string()) out.push_back(item.get<std::string>().substr(0, kMaxText));
    return out;
  }
  const json* Object(std::string_view name) const {
    const json* v = Find(name);
    return v && v->is_object() ? v : nullptr;
  }

 private:
  std::map<std::string, const json*> by_name_;
};

void SetText(trace::Attributes& attrs, std::string_view key, const std::string& value) {
  if (!value.empty()) trace::SetAttribute(attrs, key, value);
}

// Copies text fields to attributes: {attribute, field} pairs; empty fields are skipped.
void CopyTexts(trace::Attributes& attrs, const Fields& f, std::initializer_list<std::pair<const char*, const char*>> map) {
  for (const auto& [key, field] : map) SetText(attrs, key, f.Text(field));
}

// "/subscriptions/<id>/..." -> "<id>".
std::string SubscriptionOf(std::string_view resource_id) {
  const std::string lower = AsciiLower(resource_id);
  const std::string key = "/subscriptions/";
  if (lower.rfind(key, 0) != 0) return "";
  size_t end = lower.find('/', key.size());
  return lower.substr(key.size(), end == std::string::npos ? std::string::npos : end - key.size());
}

// The last path segment of a resource id: the resource's name.
std::string NameOf(std::string_view resource_id) {
  std::string_view s = resource_id;
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  size_t slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

void SetAzureResource(trace::Attributes& attrs, const std::string& resource_id, std::string resource_group) {
  trace::SetAttribute(attrs, semconv::kCloudProvider, std::string("azure"));
  SetText(attrs, semconv::kCloudResourceId, resource_id);
  SetText(attrs, semconv::kCloudAccountId, SubscriptionOf(resource_id));
  // Azure compares resource group names without case, and its ids come in
  // any case: one spelling, lower case, so that slicing finds all of them.
  if (resource_group.empty()) resource_group = ResourceGroupOf(resource_id);
  SetText(attrs, semconv::kAzureResourceGroupName, AsciiLower(resource_group));
}

// Scalars of an alert context of unknown shape, flattened into attributes
// "azure.monitor.context.<path>", bounded in number and size.
void FlattenContext(const json& v, const std::string& path, trace::Attributes& attrs, int depth) {
  if (attrs.size() >= kMaxContextAttrs || depth > 4) return;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it)
      FlattenContext(it.value(), path.empty() ? it.key() : path + "." + it.key(), attrs, depth + 1);
  } else if (v.is_string()) {
    if (!v.get<std::string>().empty())
      trace::SetAttribute(attrs, semconv::kAzureMonitorContextPrefix + path, v.get<std::string>().substr(0, kMaxText));
  } else if (v.is_boolean()) {
    trace::SetAttribute(attrs, semconv::kAzureMonitorContextPrefix + path, v.get<bool>());
  } else if (v.is_number_integer()) {
    trace::SetAttribute(attrs, semconv::kAzureMonitorContextPrefix + path, v.get<int64_t>());
  } else if (v.is_number()) {
    trace::SetAttribute(attrs, semconv::kAzureMonitorContextPrefix + path, v.get<double>());
  }
}

// The alert context's fields, as far as its shape is known. Returns the
// Azure Backup job the alert is about, if it names one.
std::string ReadAlertContext(const json& context, const std::string& monitoring_service, trace::Attributes& attrs) {
  Fields c(context);
  if (AsciiLower(monitoring_service) == "azure backup" || c.Find("protecteditemid") || c.Object("extendedinfo")) {
    // Azure Backup's alerts: the job, the protected item and what to do.
    std::string job_id;
    static const json kNone = json::object();
    const json* ext = c.Object("extendedinfo");
    Fields e(ext ? *ext : kNone);  // both lvalues: Fields keeps pointers into it
    job_id = e.Text("jobid");
    if (job_id.empty()) job_id = c.Text("jobid");
    SetText(attrs, semconv::kAzureBackupJobId, job_id);
    CopyTexts(attrs, c, {
        {semconv::kAzureBackupAlertCategory, "category"},
        {semconv::kAzureBackupProtectedItemId, "protecteditemid"},
        {semconv::kAzureBackupSourceId, "sourceid"}});
    SetText(attrs, semconv::kAzureBackupSourceType, c.Text("formattedsourcetype").empty() ? c.Text("sourcetype") : c.Text("formattedsourcetype"));
    SetText(attrs, semconv::kAzureBackupDatasourceName, c.Text("linkedresourcename"));
    SetText(attrs, semconv::kAzureBackupDatasourceResourceId, c.Text("linkedresourceid"));
    SetText(attrs, semconv::kAzureBackupPossibleCauses, e.Text("possiblecauses"));
    SetText(attrs, semconv::kAzureBackupRecommendedActions, e.Text("recommendedactions"));
    if (auto n = e.Number("occurrencecount"); n && DoubleToInt64(*n))
      trace::SetAttribute(attrs, semconv::kAzureBackupAlertOccurrences, *DoubleToInt64(*n));
    SetText(attrs, semconv::kHostName, c.Text("linkedresourcename"));
    return job_id;
  }
  const json* condition = c.Object("condition");
  if (condition) {
    // Metric alerts and log search alerts (V2): the first criterion.
    Fields cond(*condition);
    SetText(attrs, semconv::kAzureMonitorConditionType, c.Text("conditiontype"));
    CopyTexts(attrs, cond, {
        {semconv::kAzureMonitorConditionWindowSize, "windowsize"},
        {semconv::kAzureMonitorConditionWindowStart, "windowstarttime"},
        {semconv::kAzureMonitorConditionWindowEnd, "windowendtime"}});
    const json* all_of = cond.Find("allof");
    if (all_of && all_of->is_array() && !all_of->empty()) {
      Fields first((*all_of)[0]);
      CopyTexts(attrs, first, {
          {semconv::kAzureMonitorMetricName, "metricname"},
          {semconv::kAzureMonitorMetricNamespace, "metricnamespace"},
          {semconv::kAzureMonitorConditionOperator, "operator"},
          {semconv::kAzureMonitorConditionThreshold, "threshold"},
          {semconv::kAzureMonitorConditionTimeAggregation, "timeaggregation"},
          {semconv::kAzureMonitorLogQuery, "searchquery"}});
      if (auto v = first.Number("metricvalue")) trace::SetAttribute(attrs, semconv::kAzureMonitorMetricValue, *v);
      if (all_of->size() > 1) trace::SetAttribute(attrs, semconv::kAzureMonitorConditionCriteria, static_cast<int64_t>(all_of->size()));
    }
  } else if (c.Find("searchquery")) {
    // Log search alerts (V1: Log Analytics and Application Insights).
    CopyTexts(attrs, c, {
        {semconv::kAzureMonitorLogQuery, "searchquery"},
        {semconv::kAzureMonitorConditionOperator, "operator"},
        {semconv::kAzureMonitorConditionThreshold, "threshold"},
        {semconv::kAzureMonitorLogAlertType, "alerttype"},
        {semconv::kAzureMonitorLogWorkspaceId, "workspaceid"}});
    if (auto n = c.Number("resultcount"); n && DoubleToInt64(*n))
      trace::SetAttribute(attrs, semconv::kAzureMonitorLogResultCount, *DoubleToInt64(*n));
  } else if (c.Find("operationname")) {
    // Activity log alerts (administrative, policy, service and resource
    // health). The caller's token claims are not kept.
    CopyTexts(attrs, c, {
        {semconv::kAzureActivityLogOperation, "operationname"},
        {semconv::kAzureActivityLogStatus, "status"},
        {semconv::kAzureActivityLogLevel, "level"},
        {semconv::kAzureActivityLogEventSource, "eventsource"},
        {semconv::kAzureActivityLogCaller, "caller"},
        {semconv::kAzureActivityLogCorrelationId, "correlationid"},
        {semconv::kAzureActivityLogEventTime, "eventtimestamp"}});
    if (const json* props = c.Object("properties")) {
      Fields p(*props);
      SetText(attrs, semconv::kAzureActivityLogTitle, p.Text("title"));
    }
  } else {
    FlattenContext(context, "", attrs, 0);
  }
  return "";
}

bool IsFailureSeverity(const std::string& severity) {
  const std::string s = AsciiLower(severity);
  return s == "sev0" || s == "sev1" || s == "sev2";
}

}  // namespace

Result<ExternalSpan> AzureAlertSpan(std::string_view body, int64_t now_ns) {
  std::string why;
  json doc = ParseBoundedJson(body, {}, &why);
  if (doc.is_discarded()) return Status::InvalidArgument(why.empty() ? "the body is not JSON" : why);
  if (!doc.is_object()) return Status::InvalidArgument("the body is not a JSON object");
  Fields top(doc);
  const std::string schema = top.Text("schemaid");
  if (schema != "azureMonitorCommonAlertSchema")
    return Status::InvalidArgument("schemaId is '" + schema.substr(0, 100) +
                                   "', not azureMonitorCommonAlertSchema: enable the common alert schema on the action group's webhook");
  const json* data = top.Object("data");
  if (!data) return Status::InvalidArgument("data is missing");
  Fields d(*data);
  const json* essentials_obj = d.Object("essentials");
  if (!essentials_obj) return Status::InvalidArgument("data.essentials is missing");
  Fields e(*essentials_obj);

  const std::string alert_id = e.Text("alertid");
  if (alert_id.empty()) return Status::InvalidArgument("data.essentials.alertId is missing");
  const std::string condition = AsciiLower(e.Text("monitorcondition"));
  if (condition != "fired" && condition != "resolved")
    return Status::InvalidArgument("data.essentials.monitorCondition is '" + e.Text("monitorcondition").substr(0, 100) +
                                   "', not Fired or Resolved");
  const std::string fired_text = e.Text("fireddatetime");
  if (fired_text.empty()) return Status::InvalidArgument("data.essentials.firedDateTime is missing");
  auto fired = ParseExternalTime(fired_text);
  if (!fired || !PlausibleTime(*fired, now_ns))
    return Status::InvalidArgument("data.essentials.firedDateTime '" + fired_text.substr(0, 100) +
                                   "' is not a plausible time (ISO 8601, after 2000, at most a day ahead)");
  int64_t resolved = 0;
  if (condition == "resolved") {
    const std::string text = e.Text("resolveddatetime");
    if (text.empty()) return Status::InvalidArgument("data.essentials.resolvedDateTime is missing from a Resolved notification");
    auto t = ParseExternalTime(text);
    if (!t || !PlausibleTime(*t, now_ns) || *t < *fired)
      return Status::InvalidArgument("data.essentials.resolvedDateTime '" + text.substr(0, 100) +
                                     "' is not a plausible time at or after firedDateTime");
    resolved = *t;
  }

  ExternalSpan out;
  out.alert = true;
  trace::Attributes& attrs = out.span.attributes;
  const std::string rule = e.Text("alertrule");
  const std::string severity = e.Text("severity");
  const std::string service = e.Text("monitoringservice");
  const std::string description = e.Text("description");
  const std::vector<std::string> targets = e.Strings("alerttargetids");
  trace::SetAttribute(attrs, semconv::kJobKind, std::string("alert"));
  SetAzureResource(attrs, targets.empty() ? "" : targets[0], e.Text("targetresourcegroup"));
  trace::SetAttribute(attrs, semconv::kAzureMonitorAlertId, alert_id);
  SetText(attrs, semconv::kAzureMonitorAlertRule, rule);
  SetText(attrs, semconv::kAzureMonitorAlertRuleId, e.Text("alertruleid"));
  SetText(attrs, semconv::kAzureMonitorAlertSeverity, severity);
  SetText(attrs, semconv::kAzureMonitorAlertSignalType, e.Text("signaltype"));
  trace::SetAttribute(attrs, semconv::kAzureMonitorAlertCondition, condition == "fired" ? std::string("Fired") : std::string("Resolved"));
  SetText(attrs, semconv::kAzureMonitorAlertMonitoringService, service);
  SetText(attrs, semconv::kAzureMonitorAlertOriginId, e.Text("originalertid"));
  SetText(attrs, semconv::kAzureMonitorAlertDescription, description);
  CopyTexts(attrs, e, {
      {semconv::kAzureMonitorAlertTargetResourceType, "targetresourcetype"},
      {semconv::kAzureMonitorAlertInvestigationLink, "investigationlink"},
      {semconv::kAzureMonitorAlertEssentialsVersion, "essentialsversion"},
      {semconv::kAzureMonitorAlertContextVersion, "alertcontextversion"}});
  if (targets.size() > 1) trace::SetAttribute(attrs, semconv::kAzureMonitorAlertTargetIds, targets);
  if (auto items = e.Strings("configurationitems"); !items.empty())
    trace::SetAttribute(attrs, semconv::kAzureMonitorAlertConfigurationItems, items);
  std::string job_id;
  if (const json* context = d.Object("alertcontext")) job_id = ReadAlertContext(*context, service, attrs);
  if (const json* custom = d.Object("customproperties"))
    for (auto it = custom->begin(); it != custom->end(); ++it)
      if (it.value().is_string()) trace::SetAttribute(attrs, semconv::kAzureMonitorCustomPrefix + it.key(), it.value().get<std::string>().substr(0, kMaxText));

  trace::SpanData& span = out.span;
  span.name = rule.empty() ? "Azure Monitor alert" : rule;
  span.span_id = DerivedSpanId("azure-monitor-alert", alert_id);
  if (job_id.empty()) {
    span.trace_id = DerivedTraceId("azure-monitor-alert", alert_id);
  } else {
    // In the trace of the job it is about, under the job's span.
    span.trace_id = DerivedTraceId("azure-backup-job", job_id);
    span.parent_span_id = DerivedSpanId("azure-backup-job", job_id);
  }
  span.start_ns = *fired;
  span.end_ns = resolved ? resolved : *fired;
  if (IsFailureSeverity(severity)) {
    span.status = trace::StatusCode::kError;
    span.status_message = rule + (description.empty() ? "" : ": " + description);
    trace::SetAttribute(attrs, semconv::kErrorType, std::string("alert"));
  }
  trace::Attributes event_attrs;
  trace::SetAttribute(event_attrs, semconv::kAzureMonitorAlertId, alert_id);
  SetText(event_attrs, semconv::kAzureMonitorAlertRule, rule);
  SetText(event_attrs, semconv::kAzureMonitorAlertSeverity, severity);
  SetText(event_attrs, semconv::kAzureMonitorAlertDescription, description);
  span.events.push_back({"alert fired", *fired, event_attrs});
  if (resolved) span.events.push_back({"alert resolved", resolved, event_attrs});

  out.rank = VersionRank(attrs);
  trace::SetAttribute(out.resource.attributes, semconv::kServiceName, std::string("azure-monitor"));
  trace::SetAttribute(out.resource.attributes, semconv::kCloudProvider, std::string("azure"));
  return out;
}

namespace {

// One job record as a span; why not, if it is not a usable one.
Result<ExternalSpan> JobRecordSpan(const json& row, int64_t now_ns) {
  if (!row.is_object()) return Status::InvalidArgument("not a JSON object");
  Fields f(row, true);
  if (auto op = f.Text("operationname"); !op.empty() && AsciiLower(op) != "job")
    return Status::InvalidArgument("OperationName is '" + op.substr(0, 60) + "', not a job record");
  const std::string job_id = f.Text("jobuniqueid");
  if (job_id.empty()) return Status::InvalidArgument("JobUniqueId is missing");
  const std::string start_text = f.Text("jobstartdatetime");
  if (start_text.empty()) return Status::InvalidArgument("JobStartDateTime is missing");
  auto start = ParseExternalTime(start_text);
  if (!start || !PlausibleTime(*start, now_ns))
    return Status::InvalidArgument("JobStartDateTime '" + start_text.substr(0, 60) +
                                   "' is not a plausible time (ISO 8601, after 2000, at most a day ahead)");
  const std::string status = f.Text("jobstatus");
  const std::string st = AsciiLower(status);
  const bool open = st == "inprogress";
  if (!open && st != "completed" && st != "completedwithwarnings" && st != "failed" && st != "cancelled" && st != "canceled")
    return Status::InvalidArgument("JobStatus '" + status.substr(0, 60) + "' is not InProgress, Completed, CompletedWithWarnings, Failed or Cancelled");
  double seconds = f.Number("jobdurationinsecs").value_or(0);
  if (seconds < 0 || seconds > 366.0 * 86400)
    return Status::InvalidArgument("JobDurationInSecs " + f.Text("jobdurationinsecs").substr(0, 30) + " is not between 0 and a year");

  ExternalSpan out;
  out.open = open;
  trace::SpanData& span = out.span;
  trace::Attributes& attrs = span.attributes;
  const std::string operation = f.Text("joboperation");
  std::string kind = AsciiLower(operation);
  if (kind.empty()) kind = "backup";
  span.trace_id = DerivedTraceId("azure-backup-job", job_id);
  span.span_id = DerivedSpanId("azure-backup-job", job_id);
  span.name = kind;
  span.start_ns = *start;
  span.end_ns = open ? 0 : *start + static_cast<int64_t>(seconds * kSecond);
  trace::SetAttribute(attrs, semconv::kJobKind, kind);
  const std::string resource_id = f.Text("resourceid").empty() ? f.Text("_resourceid") : f.Text("resourceid");
  SetAzureResource(attrs, resource_id, f.Text("resourcegroupname").empty() ? f.Text("resourcegroup") : f.Text("resourcegroupname"));
  trace::SetAttribute(attrs, semconv::kAzureBackupJobId, job_id);
  SetText(attrs, semconv::kAzureBackupJobOperation, operation);
  SetText(attrs, semconv::kAzureBackupJobOperationSubtype, f.Text("joboperationsubtype"));
  trace::SetAttribute(attrs, semconv::kAzureBackupJobStatus, status);
  SetText(attrs, semconv::kAzureBackupJobTrigger, f.Text("adhocorscheduledjob"));
  SetText(attrs, semconv::kAzureBackupManagementType, f.Text("backupmanagementtype"));
  const std::string vault = f.Text("vaultname").empty() ? (resource_id.empty() ? "" : NameOf(resource_id)) : f.Text("vaultname");
  SetText(attrs, semconv::kAzureBackupVaultName, AsciiLower(vault));
  SetText(attrs, semconv::kAzureBackupVaultId, f.Text("vaultuniqueid"));
  const std::string item_id = f.Text("backupitemuniqueid");
  const std::string item_name = f.Text("backupitemfriendlyname");
  SetText(attrs, semconv::kAzureBackupItemId, item_id);
  SetText(attrs, semconv::kAzureBackupItemName, item_name);
  CopyTexts(attrs, f, {
      {semconv::kAzureBackupDatasourceName, "datasourcefriendlyname"},
      {semconv::kAzureBackupDatasourceType, "datasourcetype"},
      {semconv::kAzureBackupDatasourceResourceId, "datasourceresourceid"}});
  const std::string host = !f.Text("datasourcefriendlyname").empty() ? f.Text("datasourcefriendlyname") : item_name;
  SetText(attrs, semconv::kHostName, host);
  // What one protected item's schedule backs up is a source, whose
  // freshness is watched like a backspan backup's.
  const std::string item = !item_id.empty() ? item_id : item_name;
  if (!item.empty()) trace::SetAttribute(attrs, semconv::kPaths, trace::StringArray{item});
  if (auto mb = f.Number("datatransferredinmb"); mb && *mb >= 0) {
    trace::SetAttribute(attrs, semconv::kAzureBackupDataTransferredMb, *mb);
    if (auto bytes = DoubleToInt64(*mb * 1024 * 1024)) trace::SetAttribute(attrs, semconv::kBytesAdded, *bytes);
  }
  const std::string failure = f.Text("jobfailurecode");
  if (!failure.empty() && AsciiLower(failure) != "success") trace::SetAttribute(attrs, semconv::kAzureBackupJobFailureCode, failure);
  if (st == "completed") {
    span.status = trace::StatusCode::kOk;
  } else if (st == "completedwithwarnings") {
    span.status = trace::StatusCode::kOk;
    trace::SetAttribute(attrs, semconv::kJobStatus, std::string("partial"));
  } else if (!open) {
    span.status = trace::StatusCode::kError;
    const std::string why = failure.empty() || AsciiLower(failure) == "success" ? status : failure;
    span.status_message = why;
    trace::SetAttribute(attrs, semconv::kErrorType, why);
  }
  trace::SetAttribute(out.resource.attributes, semconv::kServiceName, std::string("azure-backup"));
  trace::SetAttribute(out.resource.attributes, semconv::kCloudProvider, std::string("azure"));
  return out;
}

// The rows of a body: an array, JSON lines, or Log Analytics' tables.
Result<std::vector<json>> JobRows(std::string_view body) {
  auto parsed = ParseJsonBody(body, "the body is not JSON (an array of rows, JSON lines, or a Log Analytics response)");
  if (!parsed.ok()) return parsed.status();
  if (parsed->lines) return std::move(parsed->docs);
  json& doc = parsed->docs[0];
  std::vector<json> rows;
  if (doc.is_array()) {
    RETURN_IF_ERROR(CheckItemCount(doc.size(), "row"));
    for (auto& row : doc) rows.push_back(std::move(row));
    return rows;
  }
  if (doc.is_object() && doc.contains("tables") && doc["tables"].is_array()) {
    for (const auto& table : doc["tables"]) {
      if (!table.is_object() || !table.contains("columns") || !table.contains("rows") || !table["rows"].is_array()) continue;
      RETURN_IF_ERROR(CheckItemCount(rows.size() + table["rows"].size(), "row"));
      std::vector<std::string> names;
      // A column without a name (or with one that is not text) keeps its place, unread.
      for (const auto& c : table["columns"])
        names.push_back(c.is_object() ? StringField(c, "name", "").value_or("") : "");
      for (const auto& r : table["rows"]) {
        json row = json::object();
        if (r.is_array())
          for (size_t i = 0; i < r.size() && i < names.size(); ++i) row[names[i]] = r[i];
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }
  if (doc.is_object()) {
    rows.push_back(std::move(doc));
    return rows;
  }
  return Status::InvalidArgument("the body is JSON but neither rows nor a Log Analytics response");
}

}  // namespace

Result<ParsedSpans> AzureBackupJobSpans(std::string_view body, int64_t now_ns) {
  auto rows = JobRows(body);
  if (!rows.ok()) return rows.status();
  ParsedSpans out;
  for (size_t i = 0; i < rows->size(); ++i) {
    auto span = JobRecordSpan((*rows)[i], now_ns);
    if (span.ok()) out.spans.push_back(std::move(*span));
    else out.rejected.push_back("row " + std::to_string(i + 1) + ": " + span.status().message());
  }
  return out;
}

}  // namespace backspan::observatory
