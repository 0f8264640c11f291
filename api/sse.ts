// An SSE reader (the WHATWG "event stream interpretation"), one pass over each chunk's text:
// - lines end at CR, LF or CRLF, also when a CRLF is split across chunks: a CR that ends a chunk
//   ends its line at once and an LF that starts the next chunk is dropped, so `data: a\r\r` at the
//   end of a chunk or of the stream dispatches at once;
// - the spec's last event ID buffer belongs to a connection (starts "" on each), persists across
//   its events, is reset by an empty `id:`, ignores an id with NUL; the last event id is the buffer
//   at the last dispatched event or id-only block, and survives reconnects until then;
// - exactly one BOM is stripped at the start of each connection;
// - the bytes are decoded as UTF-8 with replacement, whatever the chunk boundaries (see `Utf8Text`).

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const BOM = 0xfeff;

export interface SseHandlers {
  /** One dispatched event; `lastEventId` is the connection's last event ID buffer ("" when none). */
  onEvent(data: string, lastEventId: string, eventType: string | undefined): void;
  /** A valid `retry:` (all digits), in milliseconds. */
  onRetry?(ms: number): void;
  /** More than `maxBufferSize` characters buffered without a line end or a blank line. */
  onOverflow?(error: SseOverflow): void;
}

export interface SseOverflow {
  type: 'max-buffer-size-exceeded';
  message: string;
}

export interface SseReaderOptions {
  lastEventId?: string;
  /** Largest unfinished event (or line) kept between chunks, in characters. */
  maxBufferSize?: number;
}

export const DEFAULT_MAX_BUFFER_SIZE = 16 * 1024 * 1024;

/** Bytes after which UTF-8 sequence of `lead` is complete (1 for ASCII and for bytes that cannot lead). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/**
 * Decodes a UTF-8 byte stream chunk by chunk, with the same text as one streaming TextDecoder.
 * Each decode call gets whole sequences only: an unfinished one at a chunk's end is held back
 * and completed from the next chunk's continuation bytes. (Node 20's TextDecoder leaves its fast
 * path for good once called with `stream: true`: decoding took five times as long.) BOMs are
 * kept (`ignoreBOM`): the reader strips the one it must.
 */
class Utf8Text {
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  #held: Uint8Array | undefined;

  decode(bytes: Uint8Array): string {
    let from = 0;
    let head = '';
    const held = this.#held;
    if (held !== undefined) {
      const missing = sequenceLength(held[0] as number) - held.length;
      while (from < missing && from < bytes.length && isContinuation(bytes[from] as number)) from++;
      const joined = new Uint8Array(held.length + from);
      joined.set(held);
      joined.set(bytes.subarray(0, from), held.length);
      if (from === missing || from < bytes.length) {
        this.#held = undefined;
        head = this.#decoder.decode(joined);
      } else {
        this.#held = joined;
        return '';
      }
    }
    let end = bytes.length;
    // The last lead byte, if its sequence is not finished in this chunk.
    for (let at = end - 1; at >= from && at >= end - 3; at--) {
      const byte = bytes[at] as number;
      if (isContinuation(byte)) continue;
      if (sequenceLength(byte) > end - at) {
        this.#held = bytes.slice(at, end);
        end = at;
      }
      break;
    }
    if (from === end) return head;
    const text = this.#decoder.decode(from === 0 && end === bytes.length ? bytes : bytes.subarray(from, end));
    return head === '' ? text : head + text;
  }

  /** The end of the bytes: an unfinished sequence becomes U+FFFD. */
  end(): string {
    const held = this.#held;
    this.#held = undefined;
    return held === undefined ? '' : this.#decoder.decode(held);
  }
}

/**
 * Feed it bytes with `feed`; call `endConnection()` when a body ends and `startConnection()`
 * before the next one. `lastEventId` (what to send as Last-Event-ID) survives reconnects until the
 * next connection dispatches an event.
 */
export class SseReader {
  #lastEventId: string;
  readonly #handlers: SseHandlers;
  readonly #maxBufferSize: number;
  #utf8 = new Utf8Text();
  /** No text of this connection decoded yet: its first character may be the one BOM to strip. */
  #atConnectionStart = true;
  /** The previous chunk ended in CR: an LF starting the next one ends no line. */
  #skipLeadingLf = false;
  /** Nothing more is read on this connection (it buffered more than allowed). */
  #overflowed = false;
  /** The start of a line whose end has not come yet. */
  #partialLine = '';

  #idBuffer = '';
  #data = '';
  #hasData = false;
  #hasId = false;
  #eventType: string | undefined = undefined;

  constructor(handlers: SseHandlers, options: SseReaderOptions = {}) {
    this.#handlers = handlers;
    this.#lastEventId = options.lastEventId ?? '';
    this.#maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** A new connection: new decoder (one BOM stripped again), no pending line or event, id buffer "". */
  startConnection(): void {
    this.#utf8 = new Utf8Text();
    this.#atConnectionStart = true;
    this.#skipLeadingLf = false;
    this.#overflowed = false;
    this.#partialLine = '';
    this.#idBuffer = '';
    this.#resetBlock();
  }

  feed(bytes: Uint8Array): void {
    this.#feedText(this.#utf8.decode(bytes));
  }

  /** The body ended: flush the decoder; an event without its blank line is dropped, id included. */
  endConnection(): void {
    this.#feedText(this.#utf8.end());
    this.startConnection();
  }

  #feedText(text: string): void {
    if (text.length === 0 || this.#overflowed) return;
    if (this.#atConnectionStart) {
      this.#atConnectionStart = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    const length = text.length;
    let position = 0;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) position = 1;
    }
    let nextLf = text.indexOf('\n', position);
    let nextCr = text.indexOf('\r', position);
    while (position < length) {
      if (nextLf !== -1 && nextLf < position) nextLf = text.indexOf('\n', position);
      if (nextCr !== -1 && nextCr < position) nextCr = text.indexOf('\r', position);
      const end = nextCr === -1 ? nextLf : nextLf === -1 || nextCr < nextLf ? nextCr : nextLf;
      if (end === -1) {
        this.#partialLine += position === 0 ? text : text.slice(position);
        break;
      }
      if (this.#partialLine === '') {
        this.#line(text, position, end);
      } else {
        const line = this.#partialLine + text.slice(position, end);
        this.#partialLine = '';
        this.#line(line, 0, line.length);
      }
      position = end + 1;
      if (text.charCodeAt(end) === CR) {
        if (position === length) this.#skipLeadingLf = true;
        else if (text.charCodeAt(position) === LF) position++;
      }
    }
    if (this.#partialLine.length + this.#data.length > this.#maxBufferSize) this.#overflow();
  }

  /** One line, `text` from `start` to `end` (its line end excluded). */
  #line(text: string, start: number, end: number): void {
    if (start === end) {
      this.#dispatch();
      return;
    }
    const first = text.charCodeAt(start);
    if (
      first === 100 && // data:
      text.charCodeAt(start + 1) === 97 &&
      text.charCodeAt(start + 2) === 116 &&
      text.charCodeAt(start + 3) === 97 &&
      text.charCodeAt(start + 4) === COLON
    ) {
      this.#addData(text.slice(valueStart(text, start + 5, end), end));
    } else if (
      first === 105 && // id:
      text.charCodeAt(start + 1) === 100 &&
      text.charCodeAt(start + 2) === COLON
    ) {
      this.#setId(text.slice(valueStart(text, start + 3, end), end));
    } else if (first !== COLON) {
      this.#field(text, start, end);
    }
  }

  /** Any field line but the common `data:` and `id:` ones, and comments. */
  #field(text: string, start: number, end: number): void {
    let colon = start;
    while (colon < end && text.charCodeAt(colon) !== COLON) colon++;
    const name = text.slice(start, colon);
    const value = colon === end ? '' : text.slice(valueStart(text, colon + 1, end), end);
    if (name === 'data') this.#addData(value);
    else if (name === 'id') this.#setId(value);
    else if (name === 'event') this.#eventType = value === '' ? undefined : value;
    else if (name === 'retry' && /^[0-9]+$/.test(value)) this.#handlers.onRetry?.(Number.parseInt(value, 10));
  }

  #addData(value: string): void {
    this.#data = this.#hasData ? `${this.#data}\n${value}` : value;
    this.#hasData = true;
  }

  #setId(value: string): void {
    if (value.indexOf('\0') !== -1) return;
    this.#idBuffer = value;
    this.#hasId = true;
  }

  // A blank line. The spec copies the id buffer to the last event id at every one; a block with
  // neither data nor id (a `retry:` block, a keepalive) leaves it alone here, so that a reconnect
  // opening with `retry:` keeps the resume point.
  #dispatch(): void {
    if (this.#hasData) {
      const data = this.#data;
      const eventType = this.#eventType;
      this.#resetBlock();
      this.#lastEventId = this.#idBuffer;
      this.#handlers.onEvent(data, this.#idBuffer, eventType);
    } else {
      if (this.#hasId) this.#lastEventId = this.#idBuffer;
      this.#resetBlock();
    }
  }

  #resetBlock(): void {
    this.#data = '';
    this.#hasData = false;
    this.#hasId = false;
    this.#eventType = undefined;
  }

  #overflow(): void {
    this.#overflowed = true;
    this.#partialLine = '';
    this.#resetBlock();
    this.#handlers.onOverflow?.({
      type: 'max-buffer-size-exceeded',
      message: `Buffered data exceeded max buffer size of ${this.#maxBufferSize} characters`,
    });
  }
}

/** After a field's colon: one leading space is not part of the value. */
function valueStart(text: string, afterColon: number, end: number): number {
  return afterColon < end && text.charCodeAt(afterColon) === SPACE ? afterColon + 1 : afterColon;
}
