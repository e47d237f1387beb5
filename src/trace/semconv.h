// The names spans carry, defined once: every attribute and event name
// backspan writes or reads, and the job statuses. docs/tracing.md's span
// catalog lists the same names (a unit test holds the two together). A name
// ending in "Prefix" starts a family of names (e.g. the progress counters).
#pragma once

namespace backspan::semconv {

// OpenTelemetry semantic conventions backspan reads or writes.
inline constexpr char kCicdPipelineTaskName[] = "cicd.pipeline.task.name";
inline constexpr char kCicdPipelineTaskRunId[] = "cicd.pipeline.task.run.id";
inline constexpr char kCicdPipelineTaskRunResult[] = "cicd.pipeline.task.run.result";
inline constexpr char kClientAddress[] = "client.address";
inline constexpr char kCloudAccountId[] = "cloud.account.id";
inline constexpr char kCloudProvider[] = "cloud.provider";
inline constexpr char kCloudResourceId[] = "cloud.resource_id";
inline constexpr char kEnduserId[] = "enduser.id";
inline constexpr char kErrorType[] = "error.type";
inline constexpr char kExceptionMessage[] = "exception.message";
inline constexpr char kExceptionPrefix[] = "exception.";
inline constexpr char kExceptionType[] = "exception.type";
inline constexpr char kFileDirectory[] = "file.directory";
inline constexpr char kFilePath[] = "file.path";
inline constexpr char kFileSize[] = "file.size";
inline constexpr char kHostName[] = "host.name";
inline constexpr char kOsType[] = "os.type";
inline constexpr char kProcessCommand[] = "process.command";
inline constexpr char kProcessCommandLine[] = "process.command_line";
inline constexpr char kProcessExecutableName[] = "process.executable.name";
inline constexpr char kProcessExecutablePath[] = "process.executable.path";
inline constexpr char kProcessExitCode[] = "process.exit.code";
inline constexpr char kProcessPid[] = "process.pid";
inline constexpr char kProcessStderrTail[] = "process.stderr.tail";
inline constexpr char kServiceName[] = "service.name";
inline constexpr char kServiceVersion[] = "service.version";
inline constexpr char kTelemetrySdkPrefix[] = "telemetry.sdk.";
inline constexpr char kUrlPath[] = "url.path";

// backspan's job attributes: the span catalog of docs/tracing.md.
inline constexpr char kArchiveName[] = "backspan.archive.name";
inline constexpr char kAuditDetail[] = "backspan.audit.detail";
inline constexpr char kAuditHash[] = "backspan.audit.hash";
inline constexpr char kAuditIssuer[] = "backspan.audit.issuer";
inline constexpr char kAuditName[] = "backspan.audit.name";
inline constexpr char kAuditPrefix[] = "backspan.audit.";
inline constexpr char kAuditResult[] = "backspan.audit.result";
inline constexpr char kAuditScope[] = "backspan.audit.scope";
inline constexpr char kAuditSeq[] = "backspan.audit.seq";
inline constexpr char kBackspanPrefix[] = "backspan.";
inline constexpr char kBytesAdded[] = "backspan.bytes.added";
inline constexpr char kBytesChanged[] = "backspan.bytes.changed";
inline constexpr char kBytesNew[] = "backspan.bytes.new";
inline constexpr char kBytesRead[] = "backspan.bytes.read";
inline constexpr char kBytesStored[] = "backspan.bytes.stored";
inline constexpr char kBytesTotal[] = "backspan.bytes.total";
inline constexpr char kBytesUnmodified[] = "backspan.bytes.unmodified";
inline constexpr char kBytesUnused[] = "backspan.bytes.unused";
inline constexpr char kBytesWritten[] = "backspan.bytes.written";
inline constexpr char kCheckErrors[] = "backspan.check.errors";
inline constexpr char kCheckPacks[] = "backspan.check.packs";
inline constexpr char kCheckPacksRead[] = "backspan.check.packs_read";
inline constexpr char kCheckSnapshots[] = "backspan.check.snapshots";
inline constexpr char kCompression[] = "backspan.compression";
inline constexpr char kCompressionRatio[] = "backspan.compression.ratio";
inline constexpr char kDedupRatio[] = "backspan.dedup.ratio";
inline constexpr char kDirsChanged[] = "backspan.dirs.changed";
inline constexpr char kDirsNew[] = "backspan.dirs.new";
inline constexpr char kDirsRestored[] = "backspan.dirs.restored";
inline constexpr char kDirsUnmodified[] = "backspan.dirs.unmodified";
inline constexpr char kDryRun[] = "backspan.dry_run";
inline constexpr char kErrorDuring[] = "backspan.error.during";
inline constexpr char kErrorId[] = "backspan.error.id";
inline constexpr char kErrors[] = "backspan.errors";
inline constexpr char kFilesChanged[] = "backspan.files.changed";
inline constexpr char kFilesErrors[] = "backspan.files.errors";
inline constexpr char kFilesNew[] = "backspan.files.new";
inline constexpr char kFilesRestored[] = "backspan.files.restored";
inline constexpr char kFilesTotal[] = "backspan.files.total";
inline constexpr char kFilesUnmodified[] = "backspan.files.unmodified";
inline constexpr char kForgetPolicy[] = "backspan.forget.policy";
inline constexpr char kJobId[] = "backspan.job.id";
inline constexpr char kJobKind[] = "backspan.job.kind";
inline constexpr char kJobStatus[] = "backspan.job.status";
inline constexpr char kLockExclusive[] = "backspan.lock.exclusive";
inline constexpr char kMessage[] = "backspan.message";
inline constexpr char kPaths[] = "backspan.paths";
inline constexpr char kPlanName[] = "backspan.plan.name";
inline constexpr char kProgressBytesDone[] = "backspan.progress.bytes_done";
inline constexpr char kProgressBytesTotal[] = "backspan.progress.bytes_total";
inline constexpr char kProgressErrors[] = "backspan.progress.errors";
inline constexpr char kProgressFilesDone[] = "backspan.progress.files_done";
inline constexpr char kProgressFilesTotal[] = "backspan.progress.files_total";
inline constexpr char kProgressPrefix[] = "backspan.progress.";
inline constexpr char kProgressScanDone[] = "backspan.progress.scan_done";
inline constexpr char kPruneLeftoversRemoved[] = "backspan.prune.leftovers_removed";
inline constexpr char kPruneMarksPending[] = "backspan.prune.marks_pending";
inline constexpr char kPrunePacksDeleted[] = "backspan.prune.packs_deleted";
inline constexpr char kPrunePacksMarked[] = "backspan.prune.packs_marked";
inline constexpr char kPrunePacksRepacked[] = "backspan.prune.packs_repacked";
inline constexpr char kRepairIndexFilesRemoved[] = "backspan.repair.index_files_removed";
inline constexpr char kRepairPacks[] = "backspan.repair.packs";
inline constexpr char kRepairPacksUnreadable[] = "backspan.repair.packs_unreadable";
inline constexpr char kRepository[] = "backspan.repository";
inline constexpr char kRestoreTarget[] = "backspan.restore.target";
inline constexpr char kRunId[] = "backspan.run.id";
inline constexpr char kSnapshotId[] = "backspan.snapshot.id";
inline constexpr char kSnapshotParent[] = "backspan.snapshot.parent";
inline constexpr char kSnapshotsKept[] = "backspan.snapshots.kept";
inline constexpr char kSnapshotsRemoved[] = "backspan.snapshots.removed";
inline constexpr char kSnapshotsToRemove[] = "backspan.snapshots.to_remove";
inline constexpr char kSpansDropped[] = "backspan.spans.dropped";
inline constexpr char kStorageAttempt[] = "backspan.storage.attempt";
inline constexpr char kStorageBytes[] = "backspan.storage.bytes";
inline constexpr char kStorageBytesReceived[] = "backspan.storage.bytes_received";
inline constexpr char kStorageBytesSent[] = "backspan.storage.bytes_sent";
inline constexpr char kStorageDurationMs[] = "backspan.storage.duration_ms";
inline constexpr char kStorageFileType[] = "backspan.storage.file_type";
inline constexpr char kStorageOperation[] = "backspan.storage.operation";
inline constexpr char kStoragePrefix[] = "backspan.storage.";
inline constexpr char kStorageRequests[] = "backspan.storage.requests";
inline constexpr char kStorageRetries[] = "backspan.storage.retries";
inline constexpr char kStorageRetryDelayMs[] = "backspan.storage.retry_delay_ms";
inline constexpr char kTags[] = "backspan.tags";
inline constexpr char kThroughputBytesPerSecond[] = "backspan.throughput.bytes_per_second";
inline constexpr char kWrapSubcommand[] = "backspan.wrap.subcommand";
inline constexpr char kWrapTool[] = "backspan.wrap.tool";

// Notifications the observatory sent (docs/notifications.md).
inline constexpr char kNotifyAttempts[] = "backspan.notify.attempts";
inline constexpr char kNotifyChannel[] = "backspan.notify.channel";
inline constexpr char kNotifyChannelType[] = "backspan.notify.channel_type";
inline constexpr char kNotifyEvent[] = "backspan.notify.event";
inline constexpr char kNotifyIncident[] = "backspan.notify.incident";
inline constexpr char kNotifyReminder[] = "backspan.notify.reminder";

// The agent's runs and missed ticks (docs/agent.md).
inline constexpr char kAgentAttempt[] = "backspan.agent.attempt";
inline constexpr char kAgentCatchUp[] = "backspan.agent.catch_up";
inline constexpr char kAgentTask[] = "backspan.agent.task";
inline constexpr char kAgentTrigger[] = "backspan.agent.trigger";
inline constexpr char kHookIndex[] = "backspan.hook.index";
inline constexpr char kHookKind[] = "backspan.hook.kind";
inline constexpr char kJobDeadline[] = "backspan.job.deadline";
inline constexpr char kMissedEarlier[] = "backspan.missed.earlier";
inline constexpr char kMissedReason[] = "backspan.missed.reason";
inline constexpr char kPolicyName[] = "backspan.policy.name";
inline constexpr char kScheduleTick[] = "backspan.schedule.tick";

// backspan's span events (docs/tracing.md, "Span events").
inline constexpr char kCheckErrorEvent[] = "backspan.check_error";
inline constexpr char kFileErrorEvent[] = "backspan.file_error";
inline constexpr char kFileNoticeEvent[] = "backspan.file_notice";
inline constexpr char kStorageRetryEvent[] = "backspan.storage.retry";
inline constexpr char kStorageSlowRequestEvent[] = "backspan.storage.slow_request";
// The observatory's insight on a stored job (docs/insight.md): an event the
// trace view shows on the job's span.
inline constexpr char kAnomalyEvent[] = "anomaly";
inline constexpr char kAnomalyId[] = "backspan.anomaly.id";
inline constexpr char kAnomalyKind[] = "backspan.anomaly.kind";
inline constexpr char kAnomalyScore[] = "backspan.anomaly.score";
inline constexpr char kAnomalySeverity[] = "backspan.anomaly.severity";
inline constexpr char kAnomalyMessage[] = "backspan.anomaly.message";

// Azure's backup events as attributes (docs/api.md, "Ingesting other systems' backups").
inline constexpr char kAzureActivityLogCaller[] = "azure.activity_log.caller";
inline constexpr char kAzureActivityLogCorrelationId[] = "azure.activity_log.correlation_id";
inline constexpr char kAzureActivityLogEventSource[] = "azure.activity_log.event_source";
inline constexpr char kAzureActivityLogEventTime[] = "azure.activity_log.event_time";
inline constexpr char kAzureActivityLogLevel[] = "azure.activity_log.level";
inline constexpr char kAzureActivityLogOperation[] = "azure.activity_log.operation";
inline constexpr char kAzureActivityLogStatus[] = "azure.activity_log.status";
inline constexpr char kAzureActivityLogTitle[] = "azure.activity_log.title";
inline constexpr char kAzureBackupAlertCategory[] = "azure.backup.alert.category";
inline constexpr char kAzureBackupAlertOccurrences[] = "azure.backup.alert.occurrences";
inline constexpr char kAzureBackupDataTransferredMb[] = "azure.backup.data_transferred_mb";
inline constexpr char kAzureBackupDatasourceName[] = "azure.backup.datasource.name";
inline constexpr char kAzureBackupDatasourceResourceId[] = "azure.backup.datasource.resource_id";
inline constexpr char kAzureBackupDatasourceType[] = "azure.backup.datasource.type";
inline constexpr char kAzureBackupItemId[] = "azure.backup.item.id";
inline constexpr char kAzureBackupItemName[] = "azure.backup.item.name";
inline constexpr char kAzureBackupJobFailureCode[] = "azure.backup.job.failure_code";
inline constexpr char kAzureBackupJobId[] = "azure.backup.job.id";
inline constexpr char kAzureBackupJobOperation[] = "azure.backup.job.operation";
inline constexpr char kAzureBackupJobOperationSubtype[] = "azure.backup.job.operation_subtype";
inline constexpr char kAzureBackupJobStatus[] = "azure.backup.job.status";
inline constexpr char kAzureBackupJobTrigger[] = "azure.backup.job.trigger";
inline constexpr char kAzureBackupManagementType[] = "azure.backup.management_type";
inline constexpr char kAzureBackupPossibleCauses[] = "azure.backup.possible_causes";
inline constexpr char kAzureBackupProtectedItemId[] = "azure.backup.protected_item.id";
inline constexpr char kAzureBackupRecommendedActions[] = "azure.backup.recommended_actions";
inline constexpr char kAzureBackupSourceId[] = "azure.backup.source.id";
inline constexpr char kAzureBackupSourceType[] = "azure.backup.source.type";
inline constexpr char kAzureBackupVaultId[] = "azure.backup.vault.id";
inline constexpr char kAzureBackupVaultName[] = "azure.backup.vault.name";
inline constexpr char kAzureMonitorAlertAcknowledgedAt[] = "azure.monitor.alert.acknowledged_at";
inline constexpr char kAzureMonitorAlertAcknowledgedBy[] = "azure.monitor.alert.acknowledged_by";
inline constexpr char kAzureMonitorAlertCondition[] = "azure.monitor.alert.condition";
inline constexpr char kAzureMonitorAlertConfigurationItems[] = "azure.monitor.alert.configuration_items";
inline constexpr char kAzureMonitorAlertContextVersion[] = "azure.monitor.alert.context_version";
inline constexpr char kAzureMonitorAlertDescription[] = "azure.monitor.alert.description";
inline constexpr char kAzureMonitorAlertEssentialsVersion[] = "azure.monitor.alert.essentials_version";
inline constexpr char kAzureMonitorAlertId[] = "azure.monitor.alert.id";
inline constexpr char kAzureMonitorAlertInvestigationLink[] = "azure.monitor.alert.investigation_link";
inline constexpr char kAzureMonitorAlertMonitoringService[] = "azure.monitor.alert.monitoring_service";
inline constexpr char kAzureMonitorAlertOriginId[] = "azure.monitor.alert.origin_id";
inline constexpr char kAzureMonitorAlertRule[] = "azure.monitor.alert.rule";
inline constexpr char kAzureMonitorAlertRuleId[] = "azure.monitor.alert.rule_id";
inline constexpr char kAzureMonitorAlertSeverity[] = "azure.monitor.alert.severity";
inline constexpr char kAzureMonitorAlertSignalType[] = "azure.monitor.alert.signal_type";
inline constexpr char kAzureMonitorAlertTargetIds[] = "azure.monitor.alert.target_ids";
inline constexpr char kAzureMonitorAlertTargetResourceType[] = "azure.monitor.alert.target_resource_type";
inline constexpr char kAzureMonitorConditionCriteria[] = "azure.monitor.condition.criteria";
inline constexpr char kAzureMonitorConditionOperator[] = "azure.monitor.condition.operator";
inline constexpr char kAzureMonitorConditionThreshold[] = "azure.monitor.condition.threshold";
inline constexpr char kAzureMonitorConditionTimeAggregation[] = "azure.monitor.condition.time_aggregation";
inline constexpr char kAzureMonitorConditionType[] = "azure.monitor.condition.type";
inline constexpr char kAzureMonitorConditionWindowEnd[] = "azure.monitor.condition.window_end";
inline constexpr char kAzureMonitorConditionWindowSize[] = "azure.monitor.condition.window_size";
inline constexpr char kAzureMonitorConditionWindowStart[] = "azure.monitor.condition.window_start";
inline constexpr char kAzureMonitorContextPrefix[] = "azure.monitor.context.";
inline constexpr char kAzureMonitorCustomPrefix[] = "azure.monitor.custom.";
inline constexpr char kAzureMonitorLogAlertType[] = "azure.monitor.log.alert_type";
inline constexpr char kAzureMonitorLogQuery[] = "azure.monitor.log.query";
inline constexpr char kAzureMonitorLogResultCount[] = "azure.monitor.log.result_count";
inline constexpr char kAzureMonitorLogWorkspaceId[] = "azure.monitor.log.workspace_id";
inline constexpr char kAzureMonitorMetricName[] = "azure.monitor.metric.name";
inline constexpr char kAzureMonitorMetricNamespace[] = "azure.monitor.metric.namespace";
inline constexpr char kAzureMonitorMetricValue[] = "azure.monitor.metric.value";
inline constexpr char kAzureResourceGroupName[] = "azure.resource_group.name";

// A job's status, as `backspan jobs` and the observatory report it.
inline constexpr char kJobStatusOk[] = "ok";
inline constexpr char kJobStatusPartial[] = "partial";  // exit 3: some files unreadable
inline constexpr char kJobStatusFailed[] = "failed";
inline constexpr char kJobStatusRunning[] = "running";  // an in-progress update, not yet finished
// Stopped by a signal (exit code 130): neither a success nor the job's own failure.
inline constexpr char kJobStatusInterrupted[] = "interrupted";
// A running job with no update for longer than the observatory's lost_after:
// its process died, or its system never reported the end. Derived when
// read, never stored, so a late end still finishes the job.
inline constexpr char kJobStatusLost[] = "lost";

// Job kinds the agent adds to the commands' own (backup, check, ...): the
// run that serves a schedule tick, and a tick that ended its window
// without a successful backup.
inline constexpr char kJobKindAgentRun[] = "agent run";
inline constexpr char kJobKindMissed[] = "missed";
// A notification about no job (an overdue source), as a job of its own.
inline constexpr char kJobKindNotification[] = "notification";

}  // namespace backspan::semconv
