// A real OpenID Connect provider (oidc-provider from npm) on loopback for the
// access-control tests: clients get signed JWT access tokens for the
// audience "backspan" with the client credentials grant, carrying the group,
// role and tenant claims the test configures per client.
//
//   node provider.mjs CONFIG.json
//     CONFIG: {"clients": [{"client_id", "client_secret", "claims": {...}}]}
//   stdout: {"issuer": "http://127.0.0.1:PORT", "kid": "..."} when ready
//   stdin:  "rotate" replaces the signing key (a new kid, the old one gone),
//           answering {"rotated": "<new kid>"}
import {generateKeyPairSync, randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';

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
const server = http.createServer((req, res) => handler(req, res));
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  handler = makeProvider(issuer, key).callback();
  console.log(JSON.stringify({issuer, kid: key.kid}));
  readline.createInterface({input: process.stdin}).on('line', (line) => {
    if (line.trim() !== 'rotate') return;
    // A new key of another algorithm: the old kid disappears from the JWK Set.
    key = signingKey(key.alg === 'ES256' ? 'RS256' : 'ES256');
    handler = makeProvider(issuer, key).callback();
    console.log(JSON.stringify({rotated: key.kid}));
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
