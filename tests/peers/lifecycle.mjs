// What every peer server script shares: how it announces itself and when it stops.

// The test reads the first stdout line as the server's base URL, so print it at once and alone.
export function printBaseUrl(baseUrl) {
  process.stdout.write(`${baseUrl}\n`);
}

// The test process holds our stdin open; when it exits (even by a crash) stdin reaches end of
// file, so the server never outlives the tests. SIGTERM and SIGINT stop it too.
export function exitWithParent(server) {
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
