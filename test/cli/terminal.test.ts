// `run` in a real pseudo-terminal (util-linux `script` allocates one): the live view draws step bars,
// the inline prompt takes a typed answer, and Ctrl-C typed at the terminal stops watching only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { waitUntil } from '../helpers/wait';
import { FILES } from './fixtures';
import { BIN, cliEnv, parseJson, processFiles, runCli, uniqueId } from './helpers';

const hasScript = spawnSync('script', ['--version']).status === 0;
let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;
const terminals = new Set<ChildProcess>();

before(async () => {
  stack = await startStack({ label: 'cli-terminal', emulator: { config: { agent: { paceMs: 20 } } } });
  dir = processFiles(FILES);
  env = cliEnv(stack, { COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' });
});
after(async () => {
  for (const child of terminals) child.kill('SIGKILL');
  await stack?.stop();
});

/** `coasty-temporal <args>` on a pseudo-terminal; what is written to `input` is typed at it. */
function inTerminal(args: string[]) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  terminals.add(child);
  let screen = '';
  child.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code) => {
      terminals.delete(child);
      resolve(code ?? -1);
    }),
  );
  return {
    exited,
    screen: () => screen,
    type: (text: string) => child.stdin!.write(text),
    waitFor: (pattern: RegExp) =>
      waitUntil(`${pattern} on the terminal`, () => pattern.test(screen) || undefined, 90_000, 50),
  };
}

test(
  'in a terminal: step bars, the inline prompt answered by typing, a final verdict',
  { skip: !hasScript && 'util-linux script is not installed' },
  async () => {
    const id = uniqueId('tty');
    const term = inTerminal(['run', join(dir, 'gate.yaml'), '--id', id]);
    await term.waitFor(/Approve\? \[a\]pprove/);
    assert.match(
      term.screen(),
      /work +succeeded +\[█{3}░{13}\] +2\/10/,
      'a finished step shows its 2 of 10 steps as a bar',
    );
    assert.ok(term.screen().includes('\x1b[?25l'), 'the live frame hides the cursor while it redraws');
    term.type('a typed at the terminal\r');
    assert.equal(await term.exited, 0, term.screen());
    assert.match(term.screen(), /✓ gate-chain succeeded/);
    const status = parseJson<{
      outcome: { result: { approvals: Array<{ action: string; message?: string }> } };
    }>(await runCli(['status', id, '--json'], { env }));
    assert.deepEqual(
      status.outcome.result.approvals.map((a) => [a.action, a.message]),
      [['approve', 'typed at the terminal']],
    );
  },
);

test(
  'Ctrl-C typed in a terminal stops watching, says how to watch again, and the process goes on',
  { skip: !hasScript && 'util-linux script is not installed' },
  async () => {
    const id = uniqueId('tty-int');
    const term = inTerminal(['run', join(dir, 'gate.yaml'), '--id', id]);
    await term.waitFor(/Approve\? \[a\]pprove/);
    term.type('\x03');
    assert.equal(await term.exited, 130, term.screen());
    assert.match(term.screen(), new RegExp(`watch ${id}`));
    const status = parseJson<{ execution: string }>(await runCli(['status', id, '--json'], { env }));
    assert.equal(status.execution, 'RUNNING', JSON.stringify(status));
    await runCli(['cancel', id], { env });
  },
);
