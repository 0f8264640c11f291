// Every vector of fixtures/sse-vectors.json (collected from the WPT eventsource/format-* tests) fed
// to our SseReader in many chunkings: whole, every split into two, and fixed sizes of 1, 2, 3 and 5
// bytes. We meet all of them; none is skipped. Our own vectors add id-only blocks, CR runs and
// UTF-8 sequences (valid and invalid) cut by chunk boundaries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SseReader } from '../../api/sse';

interface Dispatched {
  type: string;
  data: string;
  id: string;
}

interface Vector {
  name: string;
  input: string;
  expect: Dispatched[];
  /** Our own vectors say it; for the shared ones it is the id of the last expected event. */
  finalId?: string;
}

interface Vectors {
  vectors: Vector[];
  retry_vectors: { name: string; input: string; expect: number[] }[];
}

const VECTORS_PATH = fileURLToPath(new URL('./fixtures/sse-vectors.json', import.meta.url));
const shared = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vectors;

// Cases the shared file leaves out that our id tracking and CR handling must also get right.
const ours: Vector[] = [
  {
    name: 'id-only block with CRLF, then an event without id',
    input: 'id: 1\r\ndata: a\r\n\r\nid: 2\r\n\r\ndata: b\r\n\r\n',
    expect: [
      { type: 'message', data: 'a', id: '1' },
      { type: 'message', data: 'b', id: '2' },
    ],
  },
  {
    name: 'id-only block after the last event sets the final id',
    input: 'id: 1\ndata: a\n\nid: 9\n\n',
    expect: [{ type: 'message', data: 'a', id: '1' }],
    finalId: '9',
  },
  {
    name: 'id-only block with a comment and an event field',
    input: 'id: 4\n: note\nevent: x\n\ndata: c\n\n',
    expect: [{ type: 'message', data: 'c', id: '4' }],
  },
  {
    name: 'empty id-only block resets the id',
    input: 'id: 1\ndata: a\n\nid\n\ndata: b\n\n',
    expect: [
      { type: 'message', data: 'a', id: '1' },
      { type: 'message', data: 'b', id: '' },
    ],
  },
  {
    name: 'id-only block with NUL is ignored',
    input: 'id: 1\ndata: a\n\nid: 2\u0000\n\ndata: b\n\n',
    expect: [
      { type: 'message', data: 'a', id: '1' },
      { type: 'message', data: 'b', id: '1' },
    ],
  },
  {
    name: 'id-only block at EOF without its blank line is not applied',
    input: 'id: 1\ndata: a\n\nid: 2\n',
    expect: [{ type: 'message', data: 'a', id: '1' }],
  },
  {
    name: 'long id line split anywhere, with CR endings',
    input: `data: a\r\rid: ${'x'.repeat(40)}\r\rdata: b\r\r`,
    expect: [
      { type: 'message', data: 'a', id: '' },
      { type: 'message', data: 'b', id: 'x'.repeat(40) },
    ],
  },
  {
    name: 'a line starting with "id" that is another field',
    input: 'identity: 5\n\ndata: a\n\n',
    expect: [{ type: 'message', data: 'a', id: '' }],
  },
  {
    name: 'runs of CRs and CRLF mixed',
    input: 'data: a\r\r\r\ndata: b\r\n\r\rdata: c\n\r\n',
    expect: [
      { type: 'message', data: 'a', id: '' },
      { type: 'message', data: 'b', id: '' },
      { type: 'message', data: 'c', id: '' },
    ],
  },
];

// Bytes between `data: <` and `>`; the expected text is what one TextDecoder makes of them.
const UTF8_DATA: [string, number[]][] = [
  ['two, three and four bytes', [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]],
  ['E0 with a continuation out of its range', [0xe0, 0x80, 0x78]],
  ['a lead cut short by ASCII', [0xf0, 0x9f, 0x98, 0x41, 0xc3]],
  ['a lead cut short by a four-byte sequence', [0xe2, 0xf0, 0x9f, 0x98, 0x80]],
  ['stray continuation bytes', [0x80, 0xbf, 0x80]],
  ['surrogate, above U+10FFFF, overlong', [0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xc0, 0xaf]],
  ['invalid lead bytes', [0xff, 0xf5, 0xc1, 0xc2]],
  ['BOM bytes inside the data are kept', [0xef, 0xbb, 0xbf]],
];

function chunkings(length: number): number[][] {
  const cuts: number[][] = [[]];
  for (let at = 1; at < length; at++) cuts.push([at]);
  for (const size of [1, 2, 3, 5]) {
    const fixed: number[] = [];
    for (let at = size; at < length; at += size) fixed.push(at);
    cuts.push(fixed);
  }
  return cuts;
}

function readAll(
  bytes: Uint8Array,
  cuts: number[],
): { events: Dispatched[]; retries: number[]; finalId: string } {
  const events: Dispatched[] = [];
  const retries: number[] = [];
  const reader = new SseReader({
    onEvent: (data, id, type) => events.push({ type: type ?? 'message', data, id }),
    onRetry: (ms) => retries.push(ms),
  });
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.feed(bytes.subarray(start, cut));
    start = cut;
  }
  reader.endConnection();
  return { events, retries, finalId: reader.lastEventId };
}

function expectedFinalId(vector: Vector): string {
  return vector.finalId ?? vector.expect.at(-1)?.id ?? '';
}

describe('SSE conformance vectors', () => {
  for (const [source, vectors] of [
    ['shared', shared.vectors],
    ['ours', ours],
  ] as const) {
    for (const vector of vectors) {
      test(`${source}: ${vector.name}`, () => {
        const bytes = Buffer.from(vector.input, 'utf8');
        for (const cuts of chunkings(bytes.length)) {
          const { events, finalId } = readAll(bytes, cuts);
          const label = `chunk boundaries at [${cuts.slice(0, 8).join(', ')}${cuts.length > 8 ? ', …' : ''}]`;
          assert.deepEqual(events, vector.expect, label);
          assert.equal(finalId, expectedFinalId(vector), `final last event id, ${label}`);
        }
      });
    }
  }

  for (const vector of shared.retry_vectors) {
    test(`retry: ${vector.name}`, () => {
      const bytes = Buffer.from(vector.input, 'utf8');
      for (const cuts of chunkings(bytes.length)) {
        assert.deepEqual(readAll(bytes, cuts).retries, vector.expect);
      }
    });
  }

  for (const [name, bytes] of UTF8_DATA) {
    test(`utf-8 split anywhere: ${name}`, () => {
      const input = Buffer.concat([
        Buffer.from('id: 1\r\ndata: <'),
        Buffer.from(bytes),
        Buffer.from('>\r\n\r\n'),
      ]);
      const data = `<${new TextDecoder('utf-8', { ignoreBOM: true }).decode(Buffer.from(bytes))}>`;
      for (const cuts of chunkings(input.length)) {
        assert.deepEqual(readAll(input, cuts).events, [{ type: 'message', data, id: '1' }], `cuts ${cuts}`);
      }
    });
  }

  test('an unfinished UTF-8 sequence at the end of the body becomes U+FFFD in a line that is then dropped', () => {
    const input = Buffer.from([...Buffer.from('data: a\n\ndata: b'), 0xe2, 0x82]);
    for (const cuts of chunkings(input.length)) {
      const { events } = readAll(input, cuts);
      assert.deepEqual(events, [{ type: 'message', data: 'a', id: '' }]);
    }
  });

  test('the last event id survives a new connection until that connection dispatches', () => {
    const events: Dispatched[] = [];
    const reader = new SseReader(
      { onEvent: (data, id, type) => events.push({ type: type ?? 'message', data, id }) },
      { lastEventId: 'seed' },
    );
    reader.feed(Buffer.from('retry: 10\n\n: keepalive\n\n'));
    reader.endConnection();
    assert.equal(reader.lastEventId, 'seed');
    reader.feed(Buffer.from('id: 3\ndata: a\n\n'));
    reader.endConnection();
    assert.equal(reader.lastEventId, '3');
    reader.feed(Buffer.from('data: b\n\n'));
    assert.deepEqual(events.at(-1), { type: 'message', data: 'b', id: '' });
  });

  test('an unfinished event over maxBufferSize is reported once, then the connection is ignored', () => {
    const overflows: string[] = [];
    const events: string[] = [];
    const reader = new SseReader(
      { onEvent: (data) => events.push(data), onOverflow: (error) => overflows.push(error.type) },
      { maxBufferSize: 100 },
    );
    reader.feed(Buffer.from('data: ok\n\n'));
    reader.feed(Buffer.from(`data: ${'x'.repeat(60)}`));
    reader.feed(Buffer.from(`${'x'.repeat(60)}`));
    reader.feed(Buffer.from('x\n\nid: 1\n\ndata: late\n\n'));
    reader.feed(Buffer.from('data: later\n\n'));
    assert.deepEqual(overflows, ['max-buffer-size-exceeded']);
    assert.deepEqual(events, ['ok']);
    reader.startConnection();
    reader.feed(Buffer.from('data: fresh\n\n'));
    assert.deepEqual(events, ['ok', 'fresh']);
  });
});
