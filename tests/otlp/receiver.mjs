// A small OTLP/HTTP trace receiver for the tests, decoding with an
// independent implementation: the protobuf definitions generated from the
// official OTLP protos that ship in @opentelemetry/otlp-transformer.
//
//   node receiver.mjs --out FILE [--fail N] [--fail-status 503] [--retry-after S]
//                     [--status CODE] [--partial N] [--traces-path /v1/traces]
//
// Listens on 127.0.0.1 (a free port, printed as {"port": N} on stdout) and
// appends one JSON line per request to FILE: the headers, the HTTP status it
// answered, and the decoded spans in one shape for both encodings. Like an
// OpenTelemetry Collector, it answers any path but the traces path with 404
// (recorded as `ignored`, not decoded).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const pb = root.opentelemetry.proto;
const Request = pb.collector.trace.v1.ExportTraceServiceRequest;
const Response = pb.collector.trace.v1.ExportTraceServiceResponse;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const out = opt('--out');
const tracesPath = opt('--traces-path', '/v1/traces');
let failuresLeft = Number(opt('--fail', '0'));
const failStatus = Number(opt('--fail-status', '503'));
const retryAfter = opt('--retry-after');
const fixedStatus = opt('--status');
const partial = Number(opt('--partial', '0'));

const hex = (buf) => Buffer.from(buf || []).toString('hex');

// AnyValue -> plain JS value.
function anyValue(v) {
  if (v == null) return null;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.intValue != null) return { int: v.intValue.toString() };
  if (v.doubleValue != null) return v.doubleValue;
  if (v.arrayValue != null) return (v.arrayValue.values || []).map(anyValue);
  return null;
}
const attrs = (list) => Object.fromEntries((list || []).map((kv) => [kv.key, anyValue(kv.value)]));

// The decoded message (protobufjs objects) -> the shape tests assert on.
function normalise(req) {
  const spans = [];
  const resources = [];
  for (const rs of req.resourceSpans || []) {
    resources.push(attrs(rs.resource && rs.resource.attributes));
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        spans.push({
          scope: ss.scope && ss.scope.name,
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
          traceState: s.traceState || '', flags: s.flags || 0,
          name: s.name, kind: s.kind,
          start: s.startTimeUnixNano.toString(), end: s.endTimeUnixNano.toString(),
          attributes: attrs(s.attributes),
          events: (s.events || []).map((e) => ({ name: e.name, time: e.timeUnixNano.toString(), attributes: attrs(e.attributes) })),
          droppedEvents: s.droppedEventsCount || 0,
          status: { code: (s.status && s.status.code) || 0, message: (s.status && s.status.message) || '' },
        });
      }
    }
  }
  return { resources, spans };
}

// OTLP/JSON: check the rules that differ from the plain protobuf JSON
// mapping, then let protobufjs build and verify the message.
function fromOtlpJson(text) {
  const j = JSON.parse(text);
  const problems = [];
  const idField = (obj, key, len) => {
    if (obj[key] == null || obj[key] === '') return;
    if (typeof obj[key] !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(obj[key])) problems.push(`${key} ${obj[key]} is not ${len} hex digits`);
    else obj[key] = Buffer.from(obj[key], 'hex').toString('base64');
  };
  const int64 = (obj, key) => {
    if (obj[key] != null && !(typeof obj[key] === 'string' && /^-?\d+$/.test(obj[key]))) problems.push(`${key} must be a decimal string`);
  };
  const checkAttrs = (list) => (list || []).forEach((kv) => { if (kv.value && kv.value.intValue != null) int64(kv.value, 'intValue'); });
  for (const rs of j.resourceSpans || []) {
    checkAttrs(rs.resource && rs.resource.attributes);
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        idField(s, 'traceId', 32); idField(s, 'spanId', 16); idField(s, 'parentSpanId', 16);
        int64(s, 'startTimeUnixNano'); int64(s, 'endTimeUnixNano');
        if (typeof s.kind !== 'number') problems.push(`kind ${s.kind} must be an integer`);
        if (s.status && s.status.code != null && typeof s.status.code !== 'number') problems.push('status.code must be an integer');
        checkAttrs(s.attributes);
        for (const e of s.events || []) { int64(e, 'timeUnixNano'); checkAttrs(e.attributes); }
      }
    }
  }
  const message = Request.fromObject(j);
  const err = Request.verify(message);
  if (err) problems.push(err);
  return { message, problems };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    const record = { method: req.method, url: req.url, headers: req.headers, time: Date.now() };
    let status = 200;
    let reply = Buffer.alloc(0);
    if (req.url !== tracesPath) {
      record.status = 404;
      record.ignored = true;
      fs.appendFileSync(out, JSON.stringify(record) + '\n');
      res.writeHead(404, {'Content-Type': 'text/plain'});
      res.end('404 page not found\n');
      return;
    }
    try {
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const json = (req.headers['content-type'] || '').startsWith('application/json');
      let message;
      if (json) {
        const parsed = fromOtlpJson(body.toString('utf8'));
        message = parsed.message;
        record.problems = parsed.problems;
      } else {
        message = Request.decode(body);
      }
      record.decoded = normalise(message);
      if (failuresLeft > 0) {
        failuresLeft--;
        status = failStatus;
        if (retryAfter != null) res.setHeader('Retry-After', retryAfter);
      } else if (fixedStatus) {
        status = Number(fixedStatus);
      } else if (partial > 0) {
        const r = Response.create({ partialSuccess: { rejectedSpans: partial, errorMessage: 'test rejects some spans' } });
        reply = json ? Buffer.from(JSON.stringify({ partialSuccess: { rejectedSpans: String(partial), errorMessage: 'test rejects some spans' } }))
                     : Buffer.from(Response.encode(r).finish());
      } else if (json) {
        reply = Buffer.from('{}');
      }
      res.setHeader('Content-Type', json ? 'application/json' : 'application/x-protobuf');
    } catch (e) {
      status = 400;
      record.error = String(e);
    }
    record.status = status;
    fs.appendFileSync(out, JSON.stringify(record) + '\n');
    res.writeHead(status);
    res.end(reply);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
