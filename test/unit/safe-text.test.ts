// Agent text made safe for a person's screen: each class of character a terminal acts on, or that
// hides or reorders text, shows as a visible stand-in; ordinary text of any script is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeBlock, safeText, safeValue } from '../../client/safe-text';

test('ordinary text of any script, emoji and their joiners pass unchanged', () => {
  for (const text of [
    'Pay 9,800 EUR to ACME GmbH (REF-42)?',
    'Überweisung an Müller · 支払い · оплата · دفع · תשלום · भुगतान',
    'family 👨‍👩‍👧, flag 🇫🇷, heart ❤️, NBSP\u00a0here',
    'می‌خواهم', // Persian with a zero-width non-joiner
  ]) {
    assert.equal(safeText(text), text);
  }
});

test('C0 controls show as control pictures; ESC sequences (CSI, OSC) become inert and visible', () => {
  assert.equal(safeText('\x1b[2J\x1b[HAll checks passed.'), '␛[2J␛[HAll checks passed.');
  assert.equal(safeText('\x1b]0;owned\x07title'), '␛]0;owned␇title', 'an OSC window title ended by BEL');
  assert.equal(
    safeText('\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\'),
    '␛]8;;https://evil.example␛\\click␛]8;;␛\\',
    'an OSC 8 hyperlink shows its hidden target',
  );
  assert.equal(safeText('\x1b[1A\x1b[2K'), '␛[1A␛[2K', 'cursor up and erase line');
  assert.equal(safeText('a\x00b\x07c\x08d\x0be\x0cf'), 'a␀b␇c␈d␋e␌f');
  assert.equal(safeText('Pay 9,800\rPay 0'), 'Pay 9,800␍Pay 0', 'a CR cannot overwrite the line');
  assert.equal(safeText('a\tb'), 'a b', 'a tab is a space');
});

test('line breaks: ⏎ on one line; kept (CRLF as one) in a multi-line block', () => {
  assert.equal(safeText('one\ntwo\r\nthree'), 'one⏎two⏎three');
  assert.equal(safeText('one\ntwo\r\nthree', { multiline: true }), 'one\ntwo\nthree');
  assert.equal(safeText('a\u2028b\u2029c'), 'a<U+2028>b<U+2029>c', 'Unicode line and paragraph separators');
});

test('DEL and C1 controls (an 8-bit CSI a terminal may obey) are escaped', () => {
  assert.equal(safeText('a\x7fb'), 'a␡b');
  assert.equal(safeText('\x9b2J\x9d0;t\x9c'), '<U+009B>2J<U+009D>0;t<U+009C>');
  assert.equal(safeText('next\x85line'), 'next<U+0085>line');
  assert.ok(
    !/[\x80-\x9f]/.test(safeText(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 0x80 + i)))),
  );
});

test('bidirectional overrides, isolates and marks are escaped, so text reads as it is stored', () => {
  // "Pay 0089 EUR" shown reversed by RLO reads as "Pay 9800 EUR" on screen.
  assert.equal(safeText('Pay \u202e0089\u202c EUR'), 'Pay <U+202E>0089<U+202C> EUR');
  for (const code of [
    0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c,
  ]) {
    const char = String.fromCodePoint(code);
    assert.equal(safeText(`x${char}y`), `x<U+${code.toString(16).toUpperCase().padStart(4, '0')}>y`);
  }
});

test('invisible characters that hide text are escaped: zero-width, soft hyphen, BOM, tags, fillers', () => {
  assert.equal(safeText('ap\u200bprove'), 'ap<U+200B>prove');
  assert.equal(safeText('ap\u00adprove'), 'ap<U+00AD>prove');
  assert.equal(safeText('\ufeffstart'), '<U+FEFF>start');
  assert.equal(
    safeText('a\u2060b\u2062c\u180ed\u3164e\u115ff'),
    'a<U+2060>b<U+2062>c<U+180E>d<U+3164>e<U+115F>f',
  );
  // Tag characters carry text no one sees ("ASCII smuggling"): U+E0041 is a hidden "A".
  assert.equal(safeText('ok\u{e0041}\u{e0042}'), 'ok<U+E0041><U+E0042>');
  assert.equal(safeText('x\u{e0100}'), 'x<U+E0100>', 'a variation selector supplement carries hidden bytes');
  assert.equal(safeText('lone \ud800 half'), 'lone <U+D800> half');
});

test('a letter keeps at most 4 combining marks: stacked ones cannot draw over the question', () => {
  assert.equal(safeText('Tiếng Việt, שָׁלוֹם, नमस्ते'), 'Tiếng Việt, שָׁלוֹם, नमस्ते', 'real scripts keep theirs');
  const zalgo = `P${'\u0336\u0489\u035c'.repeat(10)}ay`;
  assert.equal(safeText(zalgo), `P\u0336\u0489\u035c\u0336<+26 marks>ay`);
});

test('safeValue makes every string of a nested value safe, keeps numbers and shape, leaves the input alone', () => {
  const snapshot = {
    name: 'n\x1b[2J',
    costUsd: 0.15,
    lines: [{ id: 'read', action: { type: 'type', text: 'a\nb', x: 3 }, error: null }],
  };
  const shown = safeValue(snapshot);
  assert.deepEqual(shown, {
    name: 'n␛[2J',
    costUsd: 0.15,
    lines: [{ id: 'read', action: { type: 'type', text: 'a⏎b', x: 3 }, error: null }],
  });
  assert.equal(snapshot.name, 'n\x1b[2J', 'the original (what --json prints) is unchanged');
});

test('safeBlock indents every line and bounds lines and characters, saying how much is cut and where', () => {
  const options = { indent: '  ', maxLines: 3, maxChars: 50, whereInFull: 'status x --json' };
  assert.deepEqual(safeBlock('Pay 9,800 EUR?\nAgent said: \x1b[2Jfine', options), [
    '  Pay 9,800 EUR?',
    '  Agent said: ␛[2Jfine',
  ]);
  const flood = `Pay 9,800 EUR? Agent said: ${'\n'.repeat(200)}All checks passed.`;
  const lines = safeBlock(flood, options);
  assert.equal(lines.length, 4);
  assert.equal(lines[0], '  Pay 9,800 EUR? Agent said: ');
  assert.match(
    lines[3]!,
    /^ {2}\(18 more characters on 198 more lines not shown: status x --json shows all\)$/,
  );
  const long = safeBlock('y'.repeat(120), options);
  assert.deepEqual(long, [
    `  ${'y'.repeat(50)}…`,
    '  (70 more characters not shown: status x --json shows all)',
  ]);
  assert.ok(!safeBlock(`${'y'.repeat(49)}😀`, options)[0]!.includes('\ud83d'), 'no half of a surrogate pair');
});
