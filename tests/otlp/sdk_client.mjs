// A real OpenTelemetry JS SDK client for the observatory tests: builds one
// trace with a root and two children (attributes of every type, an event, an
// error), exports it with the official OTLP exporter to URL, and prints the
// spans as the SDK recorded them (JSON) for the test to compare with what
// the observatory returns.
//
//   node sdk_client.mjs URL proto|http
import {BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter} from '@opentelemetry/sdk-trace-base';
import {resourceFromAttributes} from '@opentelemetry/resources';
import {OTLPTraceExporter as ProtoExporter} from '@opentelemetry/exporter-trace-otlp-proto';
import {OTLPTraceExporter as JsonExporter} from '@opentelemetry/exporter-trace-otlp-http';
import {context, trace, SpanStatusCode, SpanKind} from '@opentelemetry/api';

const [url, protocol] = process.argv.slice(2);
const Exporter = protocol === 'http' ? JsonExporter : ProtoExporter;
const exporter = new Exporter({url: `${url}/v1/traces`});
const memory = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({
    'service.name': `sdk-${protocol}`, 'host.name': 'js-host', 'azure.resource_group.name': 'rg-js',
  }),
  spanProcessors: [new SimpleSpanProcessor(exporter), new SimpleSpanProcessor(memory)],
});
const tracer = provider.getTracer('sdk-client-test', '1.2.3');

const t0 = Date.now() - 60_000;
const root = tracer.startSpan('nightly-backup', {
  kind: SpanKind.SERVER, startTime: t0,
  attributes: {'backspan.job.kind': 'backup', text: 'héllo', count: 42, ratio: 0.25, flag: true,
    list: ['a', 'b'], numbers: [1, 2, 3]},
});
const ctx = trace.setSpan(context.active(), root);
const dump = tracer.startSpan('dump database', {startTime: t0 + 1000}, ctx);
dump.addEvent('retry', {attempt: 2, reason: 'lock timeout'}, t0 + 1500);
dump.end(t0 + 4000);
const upload = tracer.startSpan('upload', {startTime: t0 + 4000, kind: SpanKind.CLIENT}, ctx);
upload.recordException(new Error('connection reset'), t0 + 9000);
upload.setStatus({code: SpanStatusCode.ERROR, message: 'upload failed'});
upload.end(t0 + 9000);
root.setStatus({code: SpanStatusCode.ERROR, message: 'upload failed'});
root.end(t0 + 9500);

await provider.forceFlush();
const spans = memory.getFinishedSpans().map((s) => ({
  traceId: s.spanContext().traceId, spanId: s.spanContext().spanId,
  parentSpanId: s.parentSpanContext ? s.parentSpanContext.spanId : '',
  name: s.name, kind: s.kind, attributes: s.attributes,
  events: s.events.map((e) => ({name: e.name, attributes: e.attributes || {}})),
  status: s.status, startNs: (BigInt(s.startTime[0]) * 1000000000n + BigInt(s.startTime[1])).toString(),
  endNs: (BigInt(s.endTime[0]) * 1000000000n + BigInt(s.endTime[1])).toString(),
}));
await provider.shutdown();  // clears the in-memory exporter: read it first
process.stdout.write(JSON.stringify(spans) + '\n');
