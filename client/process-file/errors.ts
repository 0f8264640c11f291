import { truncate } from '../../core/text';
export type PathSegment = string | number;

export interface ProcessFileIssue {
  file: string;
  line?: number;
  column?: number;
  /** Where in the process file, e.g. `steps[2].max_steps`; '' for the whole file. */
  path: string;
  message: string;
}

export class ProcessFileError extends Error {
  override name = 'ProcessFileError';
  readonly file: string;
  readonly issues: ProcessFileIssue[];

  constructor(file: string, issues: ProcessFileIssue[]) {
    const sorted = [...issues].sort(compareIssues);
    const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
    super(`${file}: ${count}; nothing was started:\n${sorted.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.file = file;
    this.issues = sorted;
  }
}

export function formatIssue(issue: ProcessFileIssue): string {
  const place =
    issue.line === undefined
      ? issue.file
      : `${issue.file}:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  return issue.path === '' ? `${place} ${issue.message}` : `${place} ${issue.path}: ${issue.message}`;
}

function compareIssues(a: ProcessFileIssue, b: ProcessFileIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** How a value the user wrote reads in an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(truncate(value, 60));
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
