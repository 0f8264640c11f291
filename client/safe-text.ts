// Text from outside (what an agent reports, read from pages an attacker may write) made safe to show a
// person: every character that a terminal would act on, or that hides or reorders text, is replaced
// by a visible stand-in, so nothing can clear the screen, move the cursor, retitle the window, or
// make a question read differently from what it says; and the person sees that something was there.
// `--json` output never goes through here: it stays exact.

export interface SafeTextOptions {
  /** Keep line breaks (a block of text under a heading); otherwise each one shows as ⏎. */
  multiline?: boolean;
}

// C0 and C1 controls, DEL, lone surrogates, line and paragraph separators, and format characters
// (bidirectional marks, overrides and isolates, zero-width characters, the soft hyphen, tag characters),
// plus the few blank-looking letters and selectors that are not format characters but hide text.
const UNSAFE =
  /\r\n|[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]|\u034f|\u17b4|\u17b5|[\u180b-\u180f]|[\u{e0100}-\u{e01ef}]/gu;

/** Zero-width joiners that scripts (Persian, Indic) and emoji sequences need: they hide nothing. */
const KEPT = new Set(['\u200c', '\u200d']);

// Scripts stack at most a few combining marks on a letter; dozens ("Zalgo" text) draw over the lines
// above and below, where the question is.
const MAX_MARKS = 4;
const MARK_RUN = new RegExp(`(\\p{M}{${MAX_MARKS}})(\\p{M}+)`, 'gu');

/**
 * `\x1b[2J` shows as `␛[2J`, `\u202e` as `<U+202E>`, a newline as `⏎` (or a line break, multiline),
 * and a letter keeps at most 4 combining marks (`<+N marks>` says how many more there were).
 */
export function safeText(text: string, options: SafeTextOptions = {}): string {
  return visibleControls(text, options).replace(
    MARK_RUN,
    (_run, kept: string, more: string) => `${kept}<+${[...more].length} marks>`,
  );
}

function visibleControls(text: string, options: SafeTextOptions): string {
  return text.replace(UNSAFE, (char) => {
    if (char === '\n' || char === '\r\n') return options.multiline ? '\n' : '⏎';
    if (char === '\t') return ' ';
    if (KEPT.has(char)) return char;
    const code = char.codePointAt(0)!;
    if (code < 0x20) return String.fromCodePoint(0x2400 + code); // ␀..␟: ␛ for ESC, ␍ for CR
    if (code === 0x7f) return '␡';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/** A copy of `value` (a snapshot, an outcome) with every string in it made safe to show on one line. */
export function safeValue<T>(value: T): T {
  return mapStrings(value) as T;
}

function mapStrings(value: unknown): unknown {
  if (typeof value === 'string') return safeText(value);
  if (Array.isArray(value)) return value.map(mapStrings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, mapStrings(inner)]));
  }
  return value;
}

export interface SafeBlockOptions {
  /** Put before every line (the block's indentation). */
  indent: string;
  maxLines: number;
  maxChars: number;
  /** Where the whole text can be read when the block is cut (e.g. `status <id> --json`). */
  whereInFull: string;
}

/**
 * A multi-line text under a heading: safe, every line indented the same (so the text cannot pose as
 * the lines around it), and bounded so that it cannot push its heading off the screen.
 */
export function safeBlock(text: string, options: SafeBlockOptions): string[] {
  const all = safeText(text, { multiline: true }).split('\n');
  const total = all.reduce((sum, line) => sum + line.length, 0);
  const lines: string[] = [];
  let shown = 0;
  for (const line of all) {
    if (lines.length >= options.maxLines || shown >= options.maxChars) break;
    const room = options.maxChars - shown;
    if (line.length > room) {
      // Never cut between the two halves of a surrogate pair.
      const end = /[\ud800-\udbff]/.test(line[room - 1] ?? '') ? room - 1 : room;
      lines.push(`${line.slice(0, end)}…`);
      shown += end;
      break;
    }
    lines.push(line);
    shown += line.length;
  }
  const out = lines.map((line) => `${options.indent}${line}`);
  if (shown < total) {
    const more = lines.length < all.length ? ` on ${all.length - lines.length} more lines` : '';
    out.push(
      `${options.indent}${safeText(`(${total - shown} more characters${more} not shown: ${options.whereInFull} shows all)`)}`,
    );
  }
  return out;
}
