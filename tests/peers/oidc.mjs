// oidc-provider (an OpenID-certified authorization server) set up for the client-credentials
// grant, for tests/conformance.rs. See README.md beside this file for the clients and paths.
//
// Listens on 127.0.0.1 on a free port, prints its base URL as the first stdout line, and exits
// when stdin closes (the test process that started it is gone) or on SIGTERM/SIGINT.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

import { exitWithParent, printBaseUrl } from './lifecycle.mjs';

// The resource server that gets JWT access tokens (RFC 8707 resource indicator).
const RESOURCE = 'https://api.conformance.test/';
// Distinct lifetimes so a test can tell which one the library used.
const OPAQUE_TOKEN_TTL_SECS = 600;
const JWT_TOKEN_TTL_SECS = 1800;
// Prefix under which a second provider runs with the client-credentials grant switched off.
const NO_CLIENT_CREDENTIALS_PREFIX = '/without-client-credentials';

// RFC 6749 appendix A allows any visible ASCII and space in a secret.
const SPECIAL_SECRET = 'p&ss:w%rd +/=?';

// Clients of the main provider. Each one allows exactly one client authentication method, so a
// token issued to it proves the library authenticated the way the test configured.
const CLIENTS = [
  { client_id: 'basic-client', token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'post-client', token_endpoint_auth_method: 'client_secret_post' },
  // RFC 6749 section 2.3.1: a secret with reserved characters is form-urlencoded inside the
  // Basic header (oidc-provider decodes it so) and plainly form-encoded in a body.
  { client_id: 'special-basic-client', client_secret: SPECIAL_SECRET, token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'special-post-client', client_secret: SPECIAL_SECRET, token_endpoint_auth_method: 'client_secret_post' },
  // Used with `resource`: tokens are JWTs with `aud` and `exp`.
  { client_id: 'resource-client', token_endpoint_auth_method: 'client_secret_basic' },
  // Its token responses lose `expires_in` (see stripExpiresIn) so the library must read `exp`.
  { client_id: 'no-expires-in-client', token_endpoint_auth_method: 'client_secret_basic' },
  // Registered, but not allowed the client-credentials grant: `unauthorized_client`.
  {
    client_id: 'code-only-client',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: ['https://app.conformance.test/callback'],
  },
].map((client) => ({
  client_secret: `${client.client_id}-secret`,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'read write',
  ...client,
}));

const STRIPS_EXPIRES_IN = new Set(['no-expires-in-client']);

// The provider with the client-credentials grant switched off cannot register clients for it;
// the same ids registered for the authorization-code grant let the request reach the grant check.
const CODE_FLOW_CLIENTS = CLIENTS.map((client) => ({
  ...client,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: ['https://app.conformance.test/callback'],
}));

function signingKeys() {
  // Fresh keys each run instead of oidc-provider's built-in development keys.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'conformance', use: 'sig', alg: 'RS256' }] };
}

function configuration({ clientCredentials }) {
  return {
    clients: clientCredentials ? CLIENTS : CODE_FLOW_CLIENTS,
    jwks: signingKeys(),
    // `admin` exists but no client may ask for it: `invalid_scope`.
    scopes: ['read', 'write', 'admin'],
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? OPAQUE_TOKEN_TTL_SECS,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: clientCredentials },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: 'read write',
            audience: RESOURCE,
            accessTokenTTL: JWT_TOKEN_TTL_SECS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };
}

// oidc-provider accepts client_secret_basic and client_secret_post interchangeably for a client
// registered with either. Real servers often hold a client to its registered method, and the
// tests need to know which one the library used, so this post-middleware refuses a token
// request made with the other method, with the RFC 6749 section 5.2 error such servers send.
async function enforceRegisteredAuthMethod(ctx, next) {
  await next();
  const client = ctx.oidc?.client;
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || !client) return;
  const used = ctx.headers.authorization ? 'client_secret_basic' : 'client_secret_post';
  if (used !== client.clientAuthMethod) {
    ctx.status = 401;
    ctx.body = {
      error: 'invalid_client',
      error_description: `client authenticated with ${used} but is registered for ${client.clientAuthMethod}`,
    };
  }
}

// Post-middleware (oidc-provider's documented extension point): drop `expires_in` from successful
// token responses to the clients in STRIPS_EXPIRES_IN, as some servers in the wild do.
async function stripExpiresIn(ctx, next) {
  await next();
  const clientId = ctx.oidc?.client?.clientId;
  if (ctx.oidc?.route === 'token' && ctx.status === 200 && STRIPS_EXPIRES_IN.has(clientId)) {
    delete ctx.body.expires_in;
  }
}

function provider(issuer, options) {
  const instance = new Provider(issuer, configuration(options));
  instance.use(enforceRegisteredAuthMethod);
  instance.use(stripExpiresIn);
  // Errors are part of the tests; keep stderr for real trouble.
  instance.on('server_error', (_ctx, error) => console.error('oidc-provider server_error:', error));
  return instance;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  const main = provider(baseUrl, { clientCredentials: true }).callback();
  const withoutClientCredentials = provider(`${baseUrl}${NO_CLIENT_CREDENTIALS_PREFIX}`, {
    clientCredentials: false,
  }).callback();

  server.on('request', (req, res) => {
    if (req.url.startsWith(`${NO_CLIENT_CREDENTIALS_PREFIX}/`)) {
      // Mounted the way oidc-provider documents: originalUrl keeps the prefix.
      req.originalUrl = req.url;
      req.url = req.url.slice(NO_CLIENT_CREDENTIALS_PREFIX.length);
      withoutClientCredentials(req, res);
    } else {
      main(req, res);
    }
  });
  printBaseUrl(baseUrl);
});

exitWithParent(server);
