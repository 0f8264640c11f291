// `run` in a real pseudo-terminal (util-linux `script` allocates one): the live view draws step bars,
// the inline prompt takes a typed answer, and Ctrl-C typed at the terminal stops watching only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, type TestStack } from '../helpers/stack';
import { FILES } from './fixtures';
import { cliEnv, parseJson, processFiles, runCli, uniqueId } from './helpers';
import { hasScript, inTerminal, killAllTerminals } from './pseudo-terminal';

let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({ label: 'cli-terminal', emulator: { config: { agent: { paceMs: 20 } } } });
  dir = processFiles(FILES);
  env = cliEnv(stack, { COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' });
});
after(async () => {
  killAllTerminals();
  await stack?.stop();
});

test(
  'in a terminal: step bars, the inline prompt answered by typing, a final verdict',
  { skip: !hasScript && 'util-linux script is not installed' },
  async () => {
    const id = uniqueId('tty');
    const term = inTerminal(['run', join(dir, 'gate.yaml'), '--id', id], env);
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
    const term = inTerminal(['run', join(dir, 'gate.yaml'), '--id', id], env);
    await term.waitFor(/Approve\? \[a\]pprove/);
    term.type('\x03');
    assert.equal(await term.exited, 130, term.screen());
    assert.match(term.screen(), new RegExp(`watch ${id}`));
    const status = parseJson<{ execution: string }>(await runCli(['status', id, '--json'], { env }));
    assert.equal(status.execution, 'RUNNING', JSON.stringify(status));
    await runCli(['cancel', id], { env });
  },
);
