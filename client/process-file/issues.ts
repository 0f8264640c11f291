import type { z } from 'zod';
import { describeValue, formatPath, type PathSegment, type ProcessFileIssue } from './errors';
import type { YamlSource } from './source';
import { didYouMean } from './suggest';

/** Collects every problem of one process file with its place. */
export class IssueList {
  readonly items: ProcessFileIssue[] = [];

  constructor(
    readonly file: string,
    readonly source: YamlSource,
  ) {}

  get count(): number {
    return this.items.length;
  }

  at(path: readonly PathSegment[], message: string, options: { key?: boolean } = {}): void {
    const { line, column } = this.source.locate(path, options);
    this.items.push({ file: this.file, line, column, path: formatPath(path), message });
  }

  /** A problem with a piece of a string value, e.g. one template reference in a task. */
  atText(path: readonly PathSegment[], needle: string, occurrence: number, message: string): void {
    const { line, column } = this.source.locateText(path, needle, occurrence);
    this.items.push({ file: this.file, line, column, path: formatPath(path), message });
  }

  /** A problem in another file (a CSV or JSONL of items). */
  inFile(
    file: string,
    line: number | undefined,
    column: number | undefined,
    path: string,
    message: string,
  ): void {
    this.items.push({
      file,
      ...(line === undefined ? {} : { line }),
      ...(column === undefined ? {} : { column }),
      path,
      message,
    });
  }

  /** Validates one mapping; returns the data when valid, else records every issue. */
  check<S extends z.ZodType>(
    schema: S,
    value: unknown,
    path: readonly PathSegment[],
    knownKeys: readonly string[] = [],
  ): z.output<S> | undefined {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const issuePath = [...path, ...(issue.path as PathSegment[])];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const hint =
            issue.path.length === 0
              ? didYouMean(key, knownKeys) ||
                `; expected one of ${knownKeys.filter((k) => !k.startsWith('$')).join(', ')}`
              : '';
          this.at([...issuePath, key], `unknown key "${key}"${hint}`, { key: true });
        }
        continue;
      }
      const actual = valueAt(value, issue.path as PathSegment[]);
      const message =
        actual === undefined ? `missing; ${issue.message}` : `${issue.message}, got ${describeValue(actual)}`;
      this.at(issuePath, message);
    }
    return undefined;
  }
}

export function valueAt(value: unknown, path: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
