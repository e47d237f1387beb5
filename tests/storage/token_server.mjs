// A loopback stand-in for Microsoft Entra ID's token endpoints, for the
// Azure backend's bearer-token tests against Azurite in OAuth mode:
//
//   POST /{tenant}/oauth2/v2.0/token      client credentials (a client secret)
//   GET  /msi/token?resource=...           a managed identity, App Service style
//                                          (IDENTITY_ENDPOINT, X-IDENTITY-HEADER)
//   GET  /metadata/identity/oauth2/token   a managed identity, instance metadata
//                                          style (Metadata: true)
//
// Tokens are JWTs with the issuer and audience Azurite checks
// (https://sts.windows.net/{tenant}/, https://storage.azure.com), living
// --lifetime seconds, so a job that outlives one must fetch another.
//
//   node token_server.mjs --tenant T --client-id C --client-secret S
//                         --identity-header H [--lifetime SECONDS]
//
// Prints {"port": N}; GET /__stats counts the tokens issued and refused.
import crypto from 'node:crypto';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const tenant = opt('--tenant');
const clientId = opt('--client-id');
const clientSecret = opt('--client-secret');
const identityHeader = opt('--identity-header');
const lifetime = Number(opt('--lifetime', '3600'));
const key = crypto.randomBytes(32);
const stats = { issued: 0, refused: 0, by_flow: {} };

const b64url = (b) => Buffer.from(b).toString('base64url');

function mint(subject) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({
    aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${tenant}/`, iat: now, nbf: now - 5,
    exp: now + lifetime, oid: subject, sub: subject, tid: tenant, appid: clientId,
  }));
  const sig = b64url(crypto.createHmac('sha256', key).update(`${header}.${payload}`).digest());
  return { token: `${header}.${payload}.${sig}`, expiresOn: now + lifetime };
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function refuse(res, why) {
  stats.refused++;
  json(res, 401, { error: 'invalid_client', error_description: why });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let body = '';
  for await (const c of req) body += c;
  if (url.pathname === '/__stats') return json(res, 200, stats);
  const count = (flow) => {
    stats.issued++;
    stats.by_flow[flow] = (stats.by_flow[flow] || 0) + 1;
  };
  if (req.method === 'POST' && url.pathname === `/${tenant}/oauth2/v2.0/token`) {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return refuse(res, 'grant_type must be client_credentials');
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return refuse(res, 'AADSTS7000215: Invalid client secret provided.');
    if (form.get('scope') !== 'https://storage.azure.com/.default') return refuse(res, `unexpected scope ${form.get('scope')}`);
    const t = mint(clientId);
    count('client_secret');
    return json(res, 200, { token_type: 'Bearer', expires_in: lifetime, access_token: t.token });
  }
  if (req.method === 'GET' && url.pathname === '/msi/token') {
    if (req.headers['x-identity-header'] !== identityHeader) return refuse(res, 'X-IDENTITY-HEADER is wrong');
    if (url.searchParams.get('resource') !== 'https://storage.azure.com/') return refuse(res, 'unexpected resource');
    const t = mint('managed-identity');
    count('identity_endpoint');
    // App Service answers expires_on as text.
    return json(res, 200, { access_token: t.token, expires_on: String(t.expiresOn), resource: 'https://storage.azure.com/',
                            token_type: 'Bearer' });
  }
  if (req.method === 'GET' && url.pathname === '/metadata/identity/oauth2/token') {
    if (req.headers.metadata !== 'true') return refuse(res, 'Metadata: true is required');
    const t = mint('vm-identity');
    count('imds');
    return json(res, 200, { access_token: t.token, expires_in: String(lifetime), expires_on: String(t.expiresOn),
                            token_type: 'Bearer' });
  }
  json(res, 404, { error: 'not_found' });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => process.exit(0));
