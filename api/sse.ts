// An SSE reader on eventsource-parser 3.x that keeps the last event id as the WHATWG spec says.
// eventsource-parser gives each event the id of its own block only, never reports a block that
// has an id but no data, and holds a CR that ends a chunk until more bytes come. This layer:
// - keeps the spec's last event ID buffer: it belongs to a connection (starts "" on each), persists
//   across its events, is reset by an empty `id:`, ignores an id with NUL; the last event id is
//   the buffer at the last dispatched event or id-only block, and survives reconnects until then;
// - watches lines for blocks with an `id` and no `data` and applies their id at their blank line;
// - turns CRs that end a chunk into LFs (dropping the LF that may follow), so `data: a\r\r` at
//   the end of a chunk or of the stream dispatches at once;
// - strips exactly one BOM at the start of each connection itself: the decoder keeps BOMs
//   (ignoreBOM), because Node 24's streaming TextDecoder strips two when the first is split
//   across chunks (its BOM state is not kept while the first bytes are pending).
import {
  createParser,
  type EventSourceMessage,
  type EventSourceParser,
  type ParseError,
} from 'eventsource-parser';

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const LETTER_D = 100;
const LETTER_I = 105;
const BOM = 0xfeff;

function newDecoder() {
  return new TextDecoder('utf-8', { ignoreBOM: true });
}

// What is known about a line split across chunks. Unknown: too short to tell, the head is kept;
// Id: the head is kept until the line ends; Data and Other: nothing more is needed.
const LineKind = { Unknown: 0, Id: 1, Data: 2, Other: 3 } as const;
type LineKind = (typeof LineKind)[keyof typeof LineKind];

export interface SseHandlers {
  /** One dispatched event; `lastEventId` is the connection's last event ID buffer ("" when none). */
  onEvent(data: string, lastEventId: string, eventType: string | undefined): void;
  /** A valid `retry:` (all digits), in milliseconds. */
  onRetry?(ms: number): void;
  /** The parser gave up (buffered more than `maxBufferSize` characters without a line end). */
  onOverflow?(error: ParseError): void;
}

export interface SseReaderOptions {
  lastEventId?: string;
  /** Largest unfinished event (or line) kept between chunks, in characters. */
  maxBufferSize?: number;
}

export const DEFAULT_MAX_BUFFER_SIZE = 16 * 1024 * 1024;

/**
 * Feed it bytes with `feed`; call `endConnection()` when a body ends and `startConnection()`
 * before the next one. `lastEventId` (what to send as Last-Event-ID) survives reconnects until the
 * next connection dispatches an event.
 */
export class SseReader {
  #lastEventId: string;
  #idBuffer = '';
  readonly #handlers: SseHandlers;
  readonly #maxBufferSize: number;
  #decoder = newDecoder();
  /** No text of this connection decoded yet: its first character may be the one BOM to strip. */
  #atConnectionStart = true;
  #parser: EventSourceParser;
  #skipLeadingLf = false;
  /** The parser refuses any feed after an overflow, until the next connection. */
  #overflowed = false;

  #inLine = false;
  #lineKind: LineKind = LineKind.Unknown;
  #lineHead = '';
  #blockHasData = false;
  #blockId: string | undefined = undefined;
  #pendingId = '';

  constructor(handlers: SseHandlers, options: SseReaderOptions = {}) {
    this.#handlers = handlers;
    this.#lastEventId = options.lastEventId ?? '';
    this.#maxBufferSize = options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE;
    this.#parser = this.#createParser();
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** A new connection: new decoder (one BOM stripped again), new parser, no pending event. */
  startConnection(): void {
    this.#decoder = newDecoder();
    this.#atConnectionStart = true;
    this.#parser = this.#createParser();
    this.#skipLeadingLf = false;
    this.#overflowed = false;
    this.#idBuffer = '';
    this.#inLine = false;
    this.#lineKind = LineKind.Unknown;
    this.#lineHead = '';
    this.#blockHasData = false;
    this.#blockId = undefined;
  }

  feed(bytes: Uint8Array): void {
    this.feedText(this.#stripBom(this.#decoder.decode(bytes, { stream: true })));
  }

  /** The body ended: flush the decoder; an event without its blank line is dropped, id included. */
  endConnection(): void {
    this.feedText(this.#stripBom(this.#decoder.decode()));
    this.startConnection();
  }

  #stripBom(text: string): string {
    if (!this.#atConnectionStart || text.length === 0) return text;
    this.#atConnectionStart = false;
    return text.charCodeAt(0) === BOM ? text.slice(1) : text;
  }

  /** Decoded text (its leading BOM already removed), for callers that decode themselves. */
  feedText(text: string): void {
    if (text.length === 0 || this.#overflowed) return;
    if (this.#skipLeadingLf) {
      this.#skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) {
        if (text.length === 1) return;
        text = text.slice(1);
      }
    }
    const last = text.length - 1;
    if (text.charCodeAt(last) === CR) {
      // Every CR of a trailing run but the last is followed by a CR, so is a line end of its own.
      let first = last;
      while (first > 0 && text.charCodeAt(first - 1) === CR) first--;
      text = text.slice(0, first) + '\n'.repeat(text.length - first);
      this.#skipLeadingLf = true;
    }
    this.#scanAndFeed(text);
  }

  #createParser(): EventSourceParser {
    return createParser({
      onEvent: (message: EventSourceMessage) => {
        if (message.id !== undefined) this.#idBuffer = message.id;
        this.#lastEventId = this.#idBuffer;
        this.#handlers.onEvent(message.data, this.#lastEventId, message.event);
      },
      onRetry: (ms: number) => this.#handlers.onRetry?.(ms),
      onError: (error: ParseError) => {
        if (error.type !== 'max-buffer-size-exceeded') return;
        this.#overflowed = true;
        this.#handlers.onOverflow?.(error);
      },
      maxBufferSize: this.#maxBufferSize,
    });
  }

  // Splits lines as the parser does (CR, LF, CRLF; the text never ends in CR) and feeds the
  // parser up to the end of each id-only block before applying its id, so that events before
  // and after it see the right last event id.
  #scanAndFeed(text: string): void {
    const length = text.length;
    let nextLf = text.indexOf('\n');
    let nextCr = text.indexOf('\r');
    let position = 0;
    let fedUpTo = 0;
    while (position < length) {
      if (nextLf !== -1 && nextLf < position) nextLf = text.indexOf('\n', position);
      if (nextCr !== -1 && nextCr < position) nextCr = text.indexOf('\r', position);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : nextCr < nextLf ? nextCr : nextLf;
      if (end === -1) {
        this.#carryPartialLine(text, position, length);
        break;
      }
      let endsIdOnlyBlock: boolean;
      if (this.#inLine) {
        endsIdOnlyBlock = this.#finishCarriedLine(text, position, end);
      } else {
        endsIdOnlyBlock = this.#classifyLine(text, position, end);
      }
      position = end + 1;
      if (text.charCodeAt(end) === CR && text.charCodeAt(position) === LF) position++;
      if (endsIdOnlyBlock) {
        if (this.#overflowed) return;
        this.#parser.feed(text.slice(fedUpTo, position));
        fedUpTo = position;
        this.#idBuffer = this.#pendingId;
        this.#lastEventId = this.#pendingId;
      }
    }
    if (this.#overflowed) return;
    if (fedUpTo === 0) this.#parser.feed(text);
    else if (fedUpTo < length) this.#parser.feed(text.slice(fedUpTo));
  }

  /** Returns true when this line is the blank line that ends a block with an id and no data. */
  #classifyLine(text: string, start: number, end: number): boolean {
    if (start === end) {
      const idOnly = !this.#blockHasData && this.#blockId !== undefined;
      if (idOnly) this.#pendingId = this.#blockId as string;
      this.#blockHasData = false;
      this.#blockId = undefined;
      return idOnly;
    }
    const first = text.charCodeAt(start);
    if (first === LETTER_D) {
      if (
        text.charCodeAt(start + 1) === 97 &&
        text.charCodeAt(start + 2) === 116 &&
        text.charCodeAt(start + 3) === 97 &&
        (start + 4 === end || text.charCodeAt(start + 4) === COLON)
      ) {
        this.#blockHasData = true;
      }
    } else if (first === LETTER_I && text.charCodeAt(start + 1) === 100) {
      if (start + 2 === end) {
        this.#blockId = '';
      } else if (text.charCodeAt(start + 2) === COLON) {
        const valueStart = text.charCodeAt(start + 3) === SPACE && start + 3 < end ? start + 4 : start + 3;
        const value = text.slice(valueStart, end);
        if (value.indexOf('\0') === -1) this.#blockId = value;
      }
    }
    return false;
  }

  #carryPartialLine(text: string, start: number, end: number): void {
    if (!this.#inLine) {
      this.#inLine = true;
      this.#lineKind = LineKind.Unknown;
      this.#lineHead = '';
    }
    if (this.#lineKind === LineKind.Data || this.#lineKind === LineKind.Other) return;
    this.#lineHead += text.slice(start, end);
    if (this.#lineKind === LineKind.Unknown) this.#lineKind = kindOfHead(this.#lineHead);
    if (this.#lineKind === LineKind.Data || this.#lineKind === LineKind.Other) this.#lineHead = '';
  }

  #finishCarriedLine(text: string, start: number, end: number): boolean {
    const kind = this.#lineKind;
    const head = this.#lineHead;
    this.#inLine = false;
    this.#lineHead = '';
    if (kind === LineKind.Data) this.#blockHasData = true;
    if (kind === LineKind.Data || kind === LineKind.Other) return false;
    const line = head + text.slice(start, end);
    return this.#classifyLine(line, 0, line.length);
  }
}

function kindOfHead(head: string): LineKind {
  if (head.startsWith('data:')) return LineKind.Data;
  if (head.startsWith('id:')) return LineKind.Id;
  if ('data:'.startsWith(head) || 'id:'.startsWith(head)) return LineKind.Unknown;
  return LineKind.Other;
}
