import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  visit,
} from 'yaml';
import type { PathSegment } from './errors';

const MAX_ALIAS_COUNT = 1000;

export interface Position {
  line: number;
  column: number;
}

export interface YamlParseProblem extends Position {
  message: string;
}

/** A parsed process file that can say where a path or a piece of text is in the source. */
export class YamlSource {
  readonly data: unknown;
  readonly problems: YamlParseProblem[];
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: true, uniqueKeys: true });
    this.problems = this.doc.errors.map((error) => {
      const message = error.message.split(/ at line \d+, column \d+/)[0]?.trim() ?? error.message;
      if (error.code === 'MISSING_CHAR' && /quote/.test(message)) {
        const opening = openingQuoteBefore(text, error.pos[0]);
        if (opening !== undefined) {
          const { line, col } = this.lines.linePos(opening);
          return { line, column: col, message: 'this quoted value has no closing quote' };
        }
      }
      const [start] = error.linePos ?? [];
      return { line: start?.line ?? 1, column: start?.col ?? 1, message };
    });
    this.data = this.problems.length > 0 ? undefined : this.toData();
  }

  private toData(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // yaml throws when aliases expand too far (a "billion laughs" file): a problem with the file, not a crash.
      if (!(error instanceof ReferenceError)) throw error;
      let first: Node | undefined;
      visit(this.doc, {
        Alias(_, node) {
          first = node;
          return visit.BREAK;
        },
      });
      this.problems.push({
        ...(first ? this.position(first) : { line: 1, column: 1 }),
        message: `aliases (*name) expand to too many values (more than ${MAX_ALIAS_COUNT}); write the values out instead`,
      });
      return undefined;
    }
  }

  /** The node at `path`, or the deepest existing node on the way (a missing key points at its parent). */
  locate(path: readonly PathSegment[], options: { key?: boolean } = {}): Position {
    let node: Node | null | undefined = this.doc.contents;
    let found: Node | null | undefined = node;
    for (let i = 0; i < path.length && node; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = (node.items as Pair<unknown, unknown>[]).find(
          (p) => isScalar(p.key) && String(p.key.value) === String(segment),
        );
        if (!pair) break;
        const keyNode = pair.key as Node;
        const valueNode = pair.value as Node | null;
        if (last && options.key) return this.position(keyNode);
        // `key:` with no value has no node of its own; point at the key.
        node = valueNode ?? keyNode;
        found = node;
        if (!valueNode) break;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | null | undefined;
        if (!item) break;
        node = item;
        found = item;
      } else {
        break;
      }
    }
    return found ? this.position(found) : { line: 1, column: 1 };
  }

  /** Where `needle` occurs inside the scalar at `path`; the scalar's start if not found verbatim. */
  locateText(path: readonly PathSegment[], needle: string, occurrence = 0): Position {
    const node = this.doc.getIn(path as PathSegment[], true) as Node | undefined;
    if (node?.range) {
      const source = this.text.slice(node.range[0], node.range[1]);
      let at = -1;
      for (let n = 0; n <= occurrence; n++) {
        at = source.indexOf(needle, at + 1);
        if (at < 0) break;
      }
      if (at >= 0) return this.offsetPosition(node.range[0] + at);
    }
    return this.locate(path);
  }

  private position(node: Node): Position {
    return this.offsetPosition(node.range?.[0] ?? 0);
  }

  private offsetPosition(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

// yaml reports a missing closing quote where the file ends; people need where it opened.
function openingQuoteBefore(text: string, end: number): number | undefined {
  const before = text.slice(0, end);
  const match = [...before.matchAll(/(?:^|[:\-[{,]\s*|^\s*)(["'])/gm)].pop();
  if (!match || match.index === undefined) return undefined;
  return match.index + match[0].length - 1;
}
