// A real OpenID Connect provider (oidc-provider from npm) on loopback for the
// access-control tests: clients get signed JWT access tokens for the
// audience "backspan" with the client credentials grant, carrying the group,
// role and tenant claims the test configures per client.
//
//   node provider.mjs CONFIG.json
//     CONFIG: {"clients": [{"client_id", "client_secret", "claims": {...}}],
//              "tls": {"cert": PEM_FILE, "key": PEM_FILE}}  (tls optional: https)
//   stdout: {"issuer": "http(s)://127.0.0.1:PORT", "kid": "..."} when ready
//   stdin:  "rotate" replaces the signing key (a new kid, the old one gone),
//           answering {"rotated": "<new kid>"};
//           "sign {"header": {...}, "claims": {...}, "key": "provider"|"stranger"}"
//           answers {"token": ...}: a token shaped by the attack tests, signed
//           with the provider's own key or a key nobody trusts.
import {createPrivateKey, generateKeyPairSync, randomUUID, sign} from 'node:crypto';
import {readFileSync} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import readline from 'node:readline';
import Provider from 'oidc-provider';

// stdout carries this script's answers only; the library's notices go to stderr.
const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
for (const level of ['log', 'info', 'warn']) console[level] = (...args) => process.stderr.write(`${args.join(' ')}\n`);

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const claimsOf = Object.fromEntries(config.clients.map((c) => [c.client_id, c.claims || {}]));

function signingKey(alg) {
  const {privateKey} = alg === 'ES256' ? generateKeyPairSync('ec', {namedCurve: 'P-256'})
                                       : generateKeyPairSync('rsa', {modulusLength: 2048});
  return {...privateKey.export({format: 'jwk'}), kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`, alg, use: 'sig'};
}

function makeProvider(issuer, key) {
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      client_id: c.client_id, client_secret: c.client_secret, grant_types: ['client_credentials'],
      redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: key.alg})),
    cookies: {keys: [randomUUID()]},
    ttl: {ClientCredentials: 600},
    jwks: {keys: [key]},
    features: {
      devInteractions: {enabled: false},
      clientCredentials: {enabled: true},
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:backspan',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'observatory', audience: 'backspan', accessTokenTTL: 600, accessTokenFormat: 'jwt',
          jwt: {sign: {alg: key.alg}}}),
      },
    },
    extraTokenClaims: async (ctx, token) => claimsOf[token.clientId] || {},
  });
  provider.proxy = false;
  return provider;
}

let key = signingKey('ES256');
let handler = null;
const server = config.tls
  ? https.createServer({cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key)}, (req, res) => handler(req, res))
  : http.createServer((req, res) => handler(req, res));
server.listen(0, '127.0.0.1', () => {
  const issuer = `${config.tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
  handler = makeProvider(issuer, key).callback();
  reply({issuer, kid: key.kid});
  readline.createInterface({input: process.stdin}).on('line', (line) => {
    if (line.startsWith('sign ')) {
      const req = JSON.parse(line.slice(5));
      const jwk = req.key === 'stranger' ? signingKey(key.alg) : key;
      const header = {alg: jwk.alg, typ: 'at+jwt', kid: key.kid, ...req.header};
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const input = `${b64(header)}.${b64(req.claims)}`;
      const pk = createPrivateKey({key: jwk, format: 'jwk'});
      const sig = sign('sha256', Buffer.from(input),
                       jwk.alg === 'ES256' ? {key: pk, dsaEncoding: 'ieee-p1363'} : pk);
      reply({token: `${input}.${sig.toString('base64url')}`});
      return;
    }
    if (line.trim() !== 'rotate') return;
    // A new key of another algorithm: the old kid disappears from the JWK Set.
    key = signingKey(key.alg === 'ES256' ? 'RS256' : 'ES256');
    handler = makeProvider(issuer, key).callback();
    reply({rotated: key.kid});
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
