import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startDevServer } from '../../dev/dev-server';
import { findTemporalCli } from '../../dev/temporal-cli';

const dir = mkdtempSync(join(tmpdir(), 'coasty-dev-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a port taken between our pick and the server bind: the server is started again on fresh ports', async () => {
  const real = await findTemporalCli();
  const failedOnce = join(dir, 'failed-once');
  // The first start fails as the CLI does when another process took one of its ports first.
  const script = join(dir, 'temporal-races');
  writeFileSync(
    script,
    `#!/bin/sh
if [ ! -e '${failedOnce}' ]; then
  : > '${failedOnce}'
  echo '{"level":"FATAL","message":"listen tcp 127.0.0.1:34291: bind: address already in use"}' >&2
  exit 1
fi
exec '${real.path}' "$@"
`,
  );
  chmodSync(script, 0o755);
  const log: string[] = [];
  const server = await startDevServer({ cli: { ...real, path: script }, log: (line) => log.push(line) });
  try {
    assert.ok(existsSync(failedOnce), 'the first start failed');
    assert.deepEqual(log, ['port 34291 was taken before the Temporal dev server bound it; starting again']);
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
  } finally {
    await server.stop();
  }
});

test(
  'a given port that a silent listener holds: the start fails with the server output naming the port, not retried',
  { timeout: 150_000 },
  async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    try {
      await assert.rejects(startDevServer({ port, startTimeoutMs: 60_000 }), (error: Error) => {
        assert.match(error.message, /exited|did not accept/);
        assert.match(
          error.message,
          new RegExp(`${port}.*address already in use|address already in use.*${port}`),
        );
        return true;
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  },
);
