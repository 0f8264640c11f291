import { readFile as readFileFromDisk } from 'node:fs/promises';
import { isAbsolute, join, dirname, resolve } from 'node:path';
import type { JsonValue } from '../../workflows/process-types';
import { describeValue, type PathSegment } from './errors';
import { parseCsv } from './csv';
import { isMapping, type IssueList } from './issues';

export type ReadTextFile = (absolutePath: string) => Promise<string>;

export type RowPlace = { file: string; line: number } | { path: PathSegment[] };

export interface ItemRow {
  fields: Record<string, JsonValue>;
  place: RowPlace;
  /** How a person finds this row: `invoices.csv line 7` or `items[3]`. */
  label: string;
}

export interface LoadedItems {
  source: 'inline' | 'csv' | 'jsonl';
  rows: ItemRow[];
  /** Where the items are, for messages: `invoices.csv` or `the inline items`. */
  label: string;
  csvColumns?: string[];
  /** Fields that every row has (the CSV header for a CSV). */
  commonFields: string[];
}

export interface ItemFileContext {
  filename: string;
  baseDir: string;
  readFile?: ReadTextFile;
}

export async function loadItems(
  raw: unknown,
  context: ItemFileContext,
  issues: IssueList,
): Promise<LoadedItems | undefined> {
  if (Array.isArray(raw)) return inlineItems(raw, issues);
  if (isMapping(raw)) {
    const keys = Object.keys(raw);
    const kind = keys.length === 1 && (keys[0] === 'csv' || keys[0] === 'jsonl') ? keys[0] : undefined;
    const file = kind === undefined ? undefined : raw[kind];
    if (kind !== undefined && typeof file === 'string' && file.trim() !== '') {
      const text = await readItemsFile(file, kind, context, issues);
      if (text === undefined) return undefined;
      const label = displayPath(file, context.filename);
      return kind === 'csv' ? csvItems(text, label, issues) : jsonlItems(text, label, issues);
    }
    if (kind !== undefined) {
      issues.at(
        ['items', kind],
        `expected the path of a ${kind.toUpperCase()} file, relative to this file, got ${describeValue(file)}`,
      );
      return undefined;
    }
  }
  issues.at(
    ['items'],
    `expected a list of items, or { csv: <file> }, or { jsonl: <file> }, got ${describeValue(raw)}`,
  );
  return undefined;
}

function displayPath(file: string, processFile: string): string {
  return isAbsolute(file) ? file : join(dirname(processFile), file);
}

async function readItemsFile(
  file: string,
  kind: 'csv' | 'jsonl',
  context: ItemFileContext,
  issues: IssueList,
): Promise<string | undefined> {
  const absolute = resolve(context.baseDir, file);
  try {
    return await (context.readFile ?? ((p: string) => readFileFromDisk(p, 'utf8')))(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : ((error as Error).message ?? String(error));
    issues.at(
      ['items', kind],
      `cannot read the items file "${file}": ${why} (looked for ${absolute}; the path is relative to the process file)`,
    );
    return undefined;
  }
}

function inlineItems(raw: unknown[], issues: IssueList): LoadedItems | undefined {
  if (raw.length === 0) {
    issues.at(['items'], 'a batch needs at least one item');
    return undefined;
  }
  const rows: ItemRow[] = [];
  raw.forEach((item, index) => {
    if (!isMapping(item)) {
      issues.at(
        ['items', index],
        `expected an item as a mapping of fields (e.g. { invoice: INV-1, amount: 120 }), got ${describeValue(item)}`,
      );
      return;
    }
    rows.push({
      fields: item as Record<string, JsonValue>,
      place: { path: ['items', index] },
      label: `items[${index}]`,
    });
  });
  if (rows.length < raw.length) return undefined;
  return { source: 'inline', rows, label: 'the inline items', commonFields: commonFields(rows) };
}

function csvItems(text: string, label: string, issues: IssueList): LoadedItems | undefined {
  const { records, problems } = parseCsv(text);
  for (const problem of problems) issues.inFile(label, problem.line, problem.column, '', problem.message);
  const [header, ...data] = records;
  if (!header) {
    issues.inFile(label, 1, 1, '', 'the CSV file is empty: expected a header row, then one row per item');
    return undefined;
  }
  const columns = header.fields.map((name) => name.trim());
  let ok = problems.length === 0;
  columns.forEach((name, index) => {
    if (name === '') {
      issues.inFile(label, header.line, undefined, '', `column ${index + 1} of the header has no name`);
      ok = false;
    } else if (columns.indexOf(name) !== index) {
      issues.inFile(label, header.line, undefined, '', `column "${name}" appears twice in the header`);
      ok = false;
    }
  });
  if (data.length === 0) {
    issues.inFile(
      label,
      header.line,
      undefined,
      '',
      'the CSV file has a header but no rows: a batch needs at least one item',
    );
    return undefined;
  }
  const rows: ItemRow[] = [];
  for (const record of data) {
    if (record.fields.length !== columns.length) {
      issues.inFile(
        label,
        record.line,
        undefined,
        '',
        `expected ${columns.length} fields (${columns.join(', ')}), got ${record.fields.length}; quote a value that contains a comma`,
      );
      ok = false;
      continue;
    }
    const fields: Record<string, JsonValue> = {};
    columns.forEach((name, index) => (fields[name] = record.fields[index] ?? ''));
    rows.push({ fields, place: { file: label, line: record.line }, label: `${label} line ${record.line}` });
  }
  if (!ok) return undefined;
  return { source: 'csv', rows, label, csvColumns: columns, commonFields: columns };
}

function jsonlItems(text: string, label: string, issues: IssueList): LoadedItems | undefined {
  const rows: ItemRow[] = [];
  let ok = true;
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r?\n/);
  lines.forEach((lineText, index) => {
    const line = index + 1;
    if (lineText.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (error) {
      const message = (error as Error).message;
      const position = /position (\d+)/.exec(message)?.[1];
      const column = position === undefined ? undefined : Number(position) + 1;
      issues.inFile(
        label,
        line,
        column,
        '',
        `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`,
      );
      ok = false;
      return;
    }
    if (!isMapping(value)) {
      issues.inFile(label, line, 1, '', `expected one JSON object per line, got ${describeValue(value)}`);
      ok = false;
      return;
    }
    rows.push({
      fields: value as Record<string, JsonValue>,
      place: { file: label, line },
      label: `${label} line ${line}`,
    });
  });
  if (!ok) return undefined;
  if (rows.length === 0) {
    issues.inFile(label, 1, 1, '', 'the JSONL file has no items: expected one JSON object per line');
    return undefined;
  }
  return { source: 'jsonl', rows, label, commonFields: commonFields(rows) };
}

function commonFields(rows: ItemRow[]): string[] {
  const [first, ...rest] = rows;
  if (!first) return [];
  return Object.keys(first.fields).filter((field) => rest.every((row) => Object.hasOwn(row.fields, field)));
}

/** The first row that lacks `field`, and how many lack it. */
export function rowsMissing(
  items: LoadedItems,
  field: string,
): { first: ItemRow | undefined; count: number } {
  const missing = items.rows.filter((row) => !Object.hasOwn(row.fields, field));
  return { first: missing[0], count: missing.length };
}

export function reportAtRow(issues: IssueList, row: ItemRow, message: string): void {
  if ('file' in row.place) issues.inFile(row.place.file, row.place.line, undefined, '', message);
  else issues.at(row.place.path, message);
}
