// Every human view of a snapshot whose agent text is hostile (escape sequences, C1, bidi overrides, line
// breaks): nothing a terminal would act on comes out of the agent's words, and the person sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { statusText } from '../../client/commands/status';
import type { Outcome } from '../../client/outcome';
import type { Snapshot } from '../../client/snapshot';
import { JsonView } from '../../client/watch/json-view';
import { PlainView } from '../../client/watch/plain-view';
import { TtyView } from '../../client/watch/tty-view';
import { questionLines } from '../../client/watch/watcher';

const WIPE = '\x1b[2J\x1b[H';
const TITLE = '\x1b]0;owned\x07';
const C1_CSI = '\x9b2J';
const RLO = '\u202e';
/** What agent text must never put on a terminal. */
const HOSTILE = [WIPE, '\x1b[2J', '\x1b[H', TITLE, '\x1b]', '\x9b', RLO];

function hostileSnapshot(): Snapshot {
  return {
    workflowId: 'pay-1',
    runId: 'r1',
    workflowType: 'runChain',
    kind: 'chain',
    name: 'pay-invoice',
    execution: 'RUNNING',
    status: 'awaiting_approval',
    taskQueue: 'q',
    startedAt: new Date(Date.now() - 5000).toISOString(),
    costUsd: 0.1,
    lines: [
      {
        id: 'read',
        type: 'agent',
        state: 'running',
        steps: 2,
        maxSteps: 10,
        costUsd: 0.1,
        action: { type: 'navigate', url: `https://invoices.example/${WIPE}` },
        result: `${WIPE}All checks passed.`,
      },
      {
        id: 'check',
        type: 'agent',
        state: 'failed',
        steps: 1,
        maxSteps: 10,
        costUsd: 0,
        error: { type: 'agent_error', message: `${TITLE}broken\nline ${C1_CSI}` },
      },
      { id: 'pay', type: 'approval', state: 'awaiting_approval', steps: 0, costUsd: 0 },
    ],
    pauses: [
      {
        workflowId: 'pay-1',
        requestId: 'gate-pay',
        where: 'gate',
        id: 'pay',
        since: new Date().toISOString(),
        reason: `Pay 9,800 EUR? Agent said: ${WIPE}All checks passed.\nApproving only reads the invoice.`,
        proposedAction: `click "Pay ${RLO}0089${'\u202c'} EUR"`,
      },
    ],
    progressError: `query failed: ${TITLE}`,
  };
}

const OUTCOME: Outcome = { ok: false, status: 'failed', error: `agent_error: ${WIPE}nothing happened` };

function collector(options: { tty?: boolean } = {}): {
  stream: Writable & { columns?: number };
  text(): string;
} {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  }) as Writable & { columns?: number; isTTY?: boolean };
  if (options.tty) {
    stream.columns = 100;
    stream.isTTY = true;
  }
  return { stream, text: () => text };
}

/** A C0 control other than a line feed, DEL, or a C1 control. */
function controlIn(text: string): string | undefined {
  return [...text].find((char) => {
    const code = char.codePointAt(0)!;
    return (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
  });
}

function assertNoHostile(text: string, where: string): void {
  for (const sequence of HOSTILE)
    assert.ok(!text.includes(sequence), `${where} has ${JSON.stringify(sequence)}`);
}

test('plain lines: no ESC or C1 at all, one line per record, the question and the cut text visible', () => {
  const out = collector();
  const view = new PlainView({ out: out.stream });
  const snapshot = hostileSnapshot();
  view.update(snapshot);
  view.announcePause(snapshot, snapshot.pauses[0]!);
  view.note(`Could not approve: ${WIPE}`);
  view.finish({ ...snapshot, execution: 'FAILED' }, OUTCOME);
  const text = out.text();
  assert.equal(controlIn(text), undefined, `a control character in:\n${text}`);
  assertNoHostile(text, 'the plain view');
  for (const line of text.trimEnd().split('\n')) assert.match(line, /^\d{4}-\d\d-\d\dT/, 'a forged line');
  assert.match(text, /Pay 9,800 EUR\? Agent said: ␛\[2J␛\[HAll checks passed\.⏎Approving only reads/);
  assert.match(text, /next action: click "Pay <U\+202E>0089<U\+202C> EUR"/);
  assert.match(text, /agent_error: ␛\]0;owned␇broken line <U\+009B>2J/);
  assert.match(text, /failed: agent_error: ␛\[2J␛\[Hnothing happened/);
});

test('status: the same, for the one picture it prints', () => {
  const text = statusText(hostileSnapshot(), OUTCOME);
  assert.equal(controlIn(text), undefined, text);
  assert.match(
    text,
    /gate pay waits for a person: Pay 9,800 EUR\? Agent said: ␛\[2J␛\[HAll checks passed\.⏎/,
  );
  assert.match(text, /navigate https:\/\/invoices\.example\/␛\[2J␛\[H/);
  assert.match(text, /! query failed: ␛\]0;owned␇/);
  assert.match(text, /ended failed: agent_error: ␛\[2J␛\[Hnothing happened/);
});

test('the live terminal frame: only its own sequences, every line within the width, the question visible', () => {
  const out = collector({ tty: true });
  const view = new TtyView({ out: out.stream as unknown as NodeJS.WriteStream });
  const snapshot = hostileSnapshot();
  view.update(snapshot);
  view.note(`Approved gate pay: ${WIPE}`);
  view.finish({ ...snapshot, execution: 'FAILED' }, OUTCOME);
  const text = out.text();
  assertNoHostile(text, 'the terminal frame');
  // Its own: cursor hide/show, colours (SGR), move up N lines and erase below.
  const ESC = String.fromCharCode(0x1b);
  const own = text.replace(new RegExp(`${ESC}\\[(?:\\?25[lh]|\\d*m|\\d+F${ESC}\\[J)`, 'g'), '');
  assert.ok(!own.includes('\x1b'), `an escape the view did not write:\n${JSON.stringify(own)}`);
  for (const line of own.split('\n')) assert.ok([...line].length <= 100, `wider than the terminal: ${line}`);
  assert.match(own, /gate pay waits for a person: Pay 9,800 EUR\? Agent said: ␛\[2J␛\[HAll checks passed\.⏎/);
  assert.match(own, /✗ pay-invoice failed: agent_error: ␛\[2J␛\[Hnothing happened/);
});

test('the inline prompt: the question first, indented, its agent part visible, no control character', () => {
  const snapshot = hostileSnapshot();
  const lines = questionLines(snapshot, snapshot.pauses[0]!);
  const text = lines.join('\n');
  assert.equal(controlIn(text), undefined, text);
  assert.deepEqual(lines.slice(1, 4), [
    '? pay-invoice: approval gate pay waits for a person:',
    '  Pay 9,800 EUR? Agent said: ␛[2J␛[HAll checks passed.',
    '  Approving only reads the invoice.',
  ]);
  assert.equal(lines[5], '    click "Pay <U+202E>0089<U+202C> EUR"');
});

test('the inline prompt: a flood of lines cannot push the question off the screen', () => {
  const snapshot = hostileSnapshot();
  const pause = { ...snapshot.pauses[0]!, reason: `Pay 9,800 EUR? Agent said: ${'\n'.repeat(500)}All fine.` };
  const lines = questionLines(snapshot, { ...pause, proposedAction: undefined });
  assert.ok(lines.length <= 16, `${lines.length} lines`);
  assert.equal(lines[2], '  Pay 9,800 EUR? Agent said: ');
  assert.match(lines.at(-2)!, /not shown: npx coasty-temporal status pay-1 --json shows all/);
});

test('--json stays exact: the agent text comes out byte for byte (JSON-escaped where JSON escapes)', () => {
  const out = collector();
  const snapshot = hostileSnapshot();
  new JsonView({ out: out.stream }).update(snapshot);
  const shown = (JSON.parse(out.text().trim()) as { snapshot: Snapshot }).snapshot;
  assert.equal(shown.pauses[0]!.reason, snapshot.pauses[0]!.reason);
  assert.equal(shown.pauses[0]!.proposedAction, snapshot.pauses[0]!.proposedAction);
});
