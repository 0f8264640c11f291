// serve's pure parts: the escaping helper, link signatures, operator tokens, the Slack message, and
// the live poller's stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeText, html } from '../../serve/html';
import { checkLink, signLink, type SignedLink } from '../../serve/links';
import { parseOperators, publicUrlOf } from '../../serve/config';
import { operatorOfToken } from '../../serve/sessions';
import { slackMessage } from '../../serve';
import { LiveTopic } from '../../serve/live';

test('html escapes every value, keeps nested html, and shows bidi controls as marks', () => {
  const evil = `"><script>x</script>'&\u202Eabc\u2066`;
  assert.equal(
    html`<p title="${evil}">${evil}${html`<b>${'<i>'}</b>`}</p>`.text,
    '<p title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;&amp;[U+202E]abc[U+2066]">' +
      '&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;&amp;[U+202E]abc[U+2066]<b>&lt;i&gt;</b></p>',
  );
  assert.equal(escapeText('plain text, 1 < 2'), 'plain text, 1 &lt; 2');
  assert.equal(html`${undefined}${null}${false}${0}${['a', 'b']}`.text, '0ab');
});

test('a signed link verifies; any changed part, a wrong secret, a cut link or an expired one does not', () => {
  const secret = 'x'.repeat(32);
  const link: SignedLink = {
    workflowId: 'chain-1/pay',
    requestId: 'evt_9',
    action: 'approve',
    by: 'ana',
    expiresAt: 2_000_000_000,
  };
  const params = Object.fromEntries(signLink(link, secret));
  const now = 1_900_000_000;
  assert.deepEqual(checkLink(params, secret, now), { ok: true, link, signature: params.s });
  for (const [field, value] of [
    ['w', 'chain-2/pay'],
    ['r', 'evt_8'],
    ['a', 'reject'],
    ['b', 'bo'],
    ['e', '2000000001'],
  ]) {
    const check = checkLink({ ...params, [field!]: value }, secret, now);
    assert.equal(check.ok ? 'ok' : check.problem, 'forged', field);
  }
  const other = checkLink(params, 'y'.repeat(32), now);
  assert.equal(other.ok ? 'ok' : other.problem, 'forged');
  const cut = checkLink({ ...params, s: undefined }, secret, now);
  assert.equal(cut.ok ? 'ok' : cut.problem, 'malformed');
  const late = checkLink(params, secret, 2_000_000_000);
  assert.equal(late.ok ? 'ok' : late.problem, 'expired');
});

test('operator tokens: parsed with errors that say where, matched by value', () => {
  const operators = parseOperators(
    'ops=aaaaaaaaaaaaaaaa1,\n# finance\nfinance=bbbbbbbbbbbbbbbb2',
    'COASTY_SERVE_TOKENS',
  );
  assert.equal(operatorOfToken(operators, 'bbbbbbbbbbbbbbbb2'), 'finance');
  assert.equal(operatorOfToken(operators, 'bbbbbbbbbbbbbbbb'), undefined);
  assert.throws(() => parseOperators('ops', 'f'), /f, entry 1: expected name=token .*no "="/);
  assert.throws(() => parseOperators('o ps=aaaaaaaaaaaaaaaa1', 'f'), /letters, digits/);
  assert.throws(
    () => parseOperators('a=aaaaaaaaaaaaaaaa1,b=aaaaaaaaaaaaaaaa1', 'f'),
    /entry 2: "b" has the same token as "a"/,
  );
  assert.equal(
    publicUrlOf('https://approvals.example.com/inbox', 'http://127.0.0.1:1/').toString(),
    'https://approvals.example.com/inbox/',
  );
  assert.throws(() => publicUrlOf('ftp://x', 'http://127.0.0.1:1/'), /must be http\(s\)/);
});

test('the Slack message escapes agent text and carries signed links only with a link secret', () => {
  const item = {
    key: 'c/pay#evt_1',
    where: 'step' as const,
    processId: 'c',
    processName: 'pay <@channel> & co',
    processKind: 'chain' as const,
    workflowId: 'c/pay',
    requestId: 'evt_1',
    id: 'pay',
    reason: 'Pay <https://evil.example|your bank>?',
    since: '2026-01-01T00:00:00.000Z',
    costUsd: 0.25,
  };
  const base = new URL('https://approvals.example.com/');
  const message = slackMessage(item, base, 'z'.repeat(32), 3600);
  const text = JSON.stringify(message);
  assert.ok(!text.includes('<https://evil.example'), 'no link from agent text');
  assert.ok(text.includes('&lt;https://evil.example|your bank&gt;'));
  assert.ok(!text.includes('<@channel>'));
  assert.match(text, /https:\/\/approvals\.example\.com\/link\?w=c%2Fpay&r=evt_1&a=approve/);
  assert.doesNotMatch(JSON.stringify(slackMessage(item, base, undefined, 3600)), /\/link\?/);
});

test('a live topic stops only after its read in flight, and reads nothing after', async () => {
  let reads = 0;
  let finishRead!: () => void;
  const topic = new LiveTopic(
    () => {
      reads += 1;
      return new Promise<number>((resolve) => (finishRead = () => resolve(reads)));
    },
    60_000,
    (error) => assert.fail(String(error)),
  );
  topic.subscribe(() => undefined);
  assert.equal(reads, 1);
  let stopped = false;
  const stopping = topic.stop().then(() => (stopped = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false, 'stop waits for the read in flight');
  finishRead();
  await stopping;
  assert.equal(reads, 1, 'the poll interval is cut short, and no read follows the stop');
  topic.subscribe(() => undefined);
  assert.equal(reads, 1, 'a stopped topic does not start again');
});
