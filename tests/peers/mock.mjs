// oauth2-mock-server set up for the client-credentials grant, for tests/conformance.rs.
// See README.md beside this file for the clients and what the tokens carry.
//
// Listens on 127.0.0.1 on a free port, prints its base URL as the first stdout line (the token
// endpoint is `<base>/token`), and exits when stdin closes or on SIGTERM/SIGINT.

import { OAuth2Server } from 'oauth2-mock-server';

import { exitWithParent, printBaseUrl } from './lifecycle.mjs';

// oauth2-mock-server issues a token to anyone; these hooks give it a client registry so that
// wrong and unknown credentials get the RFC 6749 section 5.2 answer a real server sends.
const CLIENT_SECRETS = new Map([
  ['mock-client', 'mock-client-secret'],
  // Its token responses lose `expires_in`, so the library must read the JWT `exp`.
  ['no-expires-in-client', 'no-expires-in-client-secret'],
]);

// RFC 6749 section 2.3.1: Basic credentials are form-urlencoded before base64.
function formDecode(text) {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

// How the client authenticated, as the server saw it.
function clientCredentials(req) {
  const authorization = req.headers.authorization ?? '';
  if (/^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return {
      method: 'client_secret_basic',
      clientId: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  }
  const json = (req.headers['content-type'] ?? '').startsWith('application/json');
  return {
    method: json ? 'json_body' : 'client_secret_post',
    clientId: req.body?.client_id,
    secret: req.body?.client_secret,
  };
}

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// The access token (a JWT) records what reached the server, so the test can check that
// the client authentication, scope and audience arrived as the library was configured.
server.service.on('beforeTokenSigning', (token, req) => {
  const { method, clientId } = clientCredentials(req);
  Object.assign(token.payload, {
    client_id: clientId,
    client_auth: method,
    content_type: (req.headers['content-type'] ?? '').split(';')[0],
    ...(req.body?.audience !== undefined && { audience: req.body.audience }),
    ...(req.body?.resource !== undefined && { resource: req.body.resource }),
  });
});

server.service.on('beforeResponse', (response, req) => {
  if (response.statusCode !== 200) return;
  const { clientId, secret } = clientCredentials(req);
  if (!CLIENT_SECRETS.has(clientId) || CLIENT_SECRETS.get(clientId) !== secret) {
    response.statusCode = 401;
    response.body = { error: 'invalid_client', error_description: 'unknown client or wrong secret' };
    return;
  }
  if (clientId === 'no-expires-in-client') delete response.body.expires_in;
});

await server.start(0, '127.0.0.1');
// The issuer URL says `localhost`; print the address it really listens on.
printBaseUrl(`http://127.0.0.1:${server.address().port}`);
exitWithParent({ close: () => server.stop() });
