// A loopback HTTP proxy between backspan and a storage emulator (Azurite or
// s3rver), for the cloud backend tests:
//
// - faults on request: a status (500/503/429 with Retry-After or
//   x-ms-retry-after-ms), a connection reset mid-upload or mid-download, a
//   stalled answer, a body cut short, a lying Content-Length;
// - with --kind s3, an independent check of every request's AWS Signature
//   Version 4: the AWS SDK for JavaScript's signer (@smithy/signature-v4)
//   signs the same request again, and any difference is refused with 403
//   SignatureDoesNotMatch (s3rver itself checks no signatures), as is a body
//   whose SHA-256 is not the signed x-amz-content-sha256;
// - with --kind s3, what real S3 does and s3rver does not: create-only
//   writes (If-None-Match: * answers 412 when the key exists), and the list
//   and abort of unfinished multipart uploads;
// - a refusal of every DELETE with 403, as an append-only policy would.
//
//   node proxy.mjs --upstream http://127.0.0.1:PORT --kind s3|azure
//                  [--access-key ID --secret-key KEY]
//
// Listens on 127.0.0.1 (a free port, printed as {"port": N}). It is driven
// over its own paths: POST /__proxy/faults (a JSON list of rules),
// POST /__proxy/deny-delete ({"on": true}), POST /__proxy/age-uploads
// ({"seconds": N}), POST /__proxy/reset-stats, GET /__proxy/stats.
import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const upstream = new URL(opt('--upstream'));
const kind = opt('--kind', 'azure');
const accessKey = opt('--access-key', '');
const secretKey = opt('--secret-key', '');

let rules = [];
let denyDelete = false;
const stats = { requests: 0, by_method: {}, faults: 0, signature_failures: 0, bytes_in: 0, bytes_out: 0,
                conditional_refusals: 0, deletes_refused: 0, signatures_checked: 0 };
const uploads = new Map();  // uploadId -> {key (with bucket), initiated}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function xmlError(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body),
                          ...(kind === 'azure' ? { 'x-ms-error-code': code } : {}) });
  res.end(body);
}

// The first rule that matches this request and has uses left.
function matchRule(req, url) {
  for (const r of rules) {
    if (r.method && r.method !== req.method) continue;
    if (r.path && !new RegExp(r.path).test(url.pathname)) continue;
    if (r.query !== undefined && !new RegExp(r.query).test(url.search)) continue;
    if ((r.skip || 0) > 0) {
      r.skip--;
      continue;
    }
    if (r.times !== undefined) {
      if (r.times <= 0) continue;
      r.times--;
    }
    return r;
  }
  return null;
}

async function readBody(req, rule) {
  const chunks = [];
  let got = 0;
  const declared = Number(req.headers['content-length'] || 0);
  for await (const c of req) {
    chunks.push(c);
    got += c.length;
    if (rule && rule.action === 'reset_request' && got >= declared / 2) {
      req.socket.destroy();  // the upload breaks off half way
      return null;
    }
  }
  return Buffer.concat(chunks);
}

function send(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const h = { ...headers, host: upstream.host };
    const r = http.request({ host: upstream.hostname, port: upstream.port, method, path: url.pathname + url.search,
                             headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

// Signs the request again with the SDK's signer and compares.
async function signatureMismatch(req, url, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `the Authorization header is not a SigV4 header: ${auth.slice(0, 60)}`;
  const [, akid, , region, service, signedHeaders, signature] = m;
  if (akid !== accessKey) return `unknown access key ${akid}`;
  const want = crypto.createHash('sha256').update(body).digest('hex');
  if (req.headers['x-amz-content-sha256'] !== want) return 'the body does not match x-amz-content-sha256';
  const headers = {};
  for (const name of signedHeaders.split(';')) headers[name] = req.headers[name];
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? [].concat(query[k], v) : v;
  const amzDate = req.headers['x-amz-date'];
  const signingDate = new Date(Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8),
                                        +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15)));
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey,
                   sessionToken: req.headers['x-amz-security-token'] },
    region, service, sha256: Hash.bind(null, 'sha256'), uriEscapePath: false, applyChecksum: true,
  });
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname: url.hostname, port: url.port,
                                     path: url.pathname, query, headers, body }, { signingDate });
  const theirs = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  stats.signatures_checked++;
  return theirs === signature ? null : `signature ${signature.slice(0, 12)}… differs from the SDK's ${theirs.slice(0, 12)}…`;
}

// s3rver lacks these; real S3 has them.
async function s3Extras(req, url, body, res) {
  const q = url.searchParams;
  const parts = url.pathname.split('/').filter(Boolean);
  const isObject = parts.length >= 2;
  if (req.headers['if-none-match'] === '*' && isObject &&
      ((req.method === 'PUT' && !q.has('partNumber')) || (req.method === 'POST' && q.has('uploadId')))) {
    const head = await send('HEAD', new URL(url.pathname, url), { ...stripped(req.headers), 'content-length': '0' },
                            Buffer.alloc(0));
    if (head.status === 200) {
      stats.conditional_refusals++;
      xmlError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      return true;
    }
  }
  if (req.method === 'GET' && parts.length === 1 && q.has('uploads')) {
    const prefix = parts[0] + '/' + (q.get('prefix') || '');
    let xml = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>' + parts[0] + '</Bucket>';
    for (const [id, u] of uploads)
      if (u.key.startsWith(prefix))
        xml += `<Upload><Key>${u.key.slice(parts[0].length + 1)}</Key><UploadId>${id}</UploadId>` +
               `<Initiated>${u.initiated}</Initiated></Upload>`;
    xml += '<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>';
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
    return true;
  }
  if (req.method === 'DELETE' && q.has('uploadId')) {
    uploads.delete(q.get('uploadId'));
    res.writeHead(204);
    res.end();
    return true;
  }
  return false;
}

function stripped(headers) {
  const h = { ...headers };
  delete h['if-none-match'];
  delete h['content-length'];
  return h;
}

async function handle(req, res) {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname.startsWith('/__proxy/')) {
    const body = (await readBody(req)).toString();
    if (url.pathname === '/__proxy/faults') rules = JSON.parse(body || '[]');
    else if (url.pathname === '/__proxy/deny-delete') denyDelete = JSON.parse(body).on;
    else if (url.pathname === '/__proxy/age-uploads')  // as if started that many seconds earlier
      for (const u of uploads.values()) u.initiated = new Date(Date.parse(u.initiated) - JSON.parse(body).seconds * 1000).toISOString();
    else if (url.pathname === '/__proxy/reset-stats') for (const k of Object.keys(stats)) stats[k] = typeof stats[k] === 'number' ? 0 : {};
    const out = JSON.stringify({ ...stats, unfinished_uploads: uploads.size });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(out);
    return;
  }
  stats.requests++;
  stats.by_method[req.method] = (stats.by_method[req.method] || 0) + 1;
  const rule = matchRule(req, url);
  if (rule) stats.faults++;
  const body = await readBody(req, rule);
  if (body === null) return;  // reset mid-upload
  stats.bytes_in += body.length;
  if (rule && rule.action === 'status') {
    const h = {};
    if (rule.retry_after !== undefined) h['Retry-After'] = String(rule.retry_after);
    if (rule.retry_after_ms !== undefined) h['x-ms-retry-after-ms'] = String(rule.retry_after_ms);
    const text = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>Injected</Code><Message>injected ${rule.status}</Message></Error>`;
    res.writeHead(rule.status, { ...h, 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if (kind === 's3') {
    const why = await signatureMismatch(req, url, body);
    if (why) {
      stats.signature_failures++;
      process.stderr.write(`refused ${req.method} ${url.pathname}: ${why}\n`);
      return xmlError(res, 403, 'SignatureDoesNotMatch', why);
    }
  }
  if (denyDelete && req.method === 'DELETE' && !url.searchParams.has('uploadId')) {
    stats.deletes_refused++;
    return xmlError(res, 403, kind === 's3' ? 'AccessDenied' : 'AuthorizationPermissionMismatch',
                    'This request is not authorized to perform this operation.');
  }
  if (kind === 's3' && await s3Extras(req, url, body, res)) return;
  const headers = { ...req.headers };
  let up;
  try {
    up = await send(req.method, url, headers, body);
  } catch (e) {
    res.writeHead(502);
    res.end(String(e));
    return;
  }
  if (kind === 's3' && req.method === 'POST' && url.searchParams.has('uploads') && up.status === 200) {
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(up.body.toString());
    if (id) uploads.set(id[1], { key: decodeURIComponent(url.pathname.slice(1)), initiated: new Date().toISOString() });
  }
  if (kind === 's3' && req.method === 'POST' && url.searchParams.has('uploadId') && up.status === 200)
    uploads.delete(url.searchParams.get('uploadId'));
  if (rule && rule.action === 'stall') await sleep(rule.ms || 5000);
  const outHeaders = { ...up.headers };
  delete outHeaders['transfer-encoding'];
  delete outHeaders.connection;
  let payload = up.body;
  if (rule && rule.action === 'wrong_length' && payload.length > 1) {
    payload = payload.subarray(0, payload.length >> 1);  // a shorter body, honestly framed
  }
  if (req.method !== 'HEAD')
    outHeaders['content-length'] = String(rule && rule.action === 'truncate' ? up.body.length : payload.length);
  stats.bytes_out += payload.length;
  res.writeHead(up.status, outHeaders);
  if (rule && rule.action === 'reset_response') {
    res.flushHeaders();
    await sleep(20);
    res.socket.destroy();  // the connection is reset before the body
    return;
  }
  if (rule && rule.action === 'truncate') {
    res.write(payload.subarray(0, payload.length >> 1));
    await sleep(20);
    res.socket.destroy();  // the download breaks off half way
    return;
  }
  res.end(req.method === 'HEAD' ? undefined : payload);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    process.stderr.write(`proxy error: ${e.stack}\n`);
    try {
      res.writeHead(500);
      res.end(String(e));
    } catch {}
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
