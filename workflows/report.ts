// The CSV report of a batch: the input's columns as they were, then the outcome columns.
// Pure code (the CLI writes the file); RFC 4180 quoting, LF line ends, no cell a spreadsheet runs.
import type { BatchResult } from './batch-state';
import type { BatchSpec, JsonValue } from './process-types';

export const OUTCOME_COLUMNS = [
  'status',
  'run_id',
  'cost_usd',
  'steps',
  'attempts',
  'result',
  'error',
] as const;

export function batchReportCsv(result: BatchResult, spec: BatchSpec): string {
  const inputColumns = spec.csvColumns ?? fieldNames(spec);
  const header = [...inputColumns, ...OUTCOME_COLUMNS.map((name) => uniqueName(name, inputColumns))];
  const byKey = new Map(result.items.map((item) => [item.key, item]));
  const lines = [header.map(csvCell).join(',')];
  for (const item of spec.items) {
    const outcome = byKey.get(item.key);
    const cells = [
      ...inputColumns.map((column) => cellText(item.fields[column])),
      outcome?.status ?? 'pending',
      outcome?.runId ?? '',
      (outcome?.costUsd ?? 0).toFixed(2),
      String(outcome?.steps ?? 0),
      String(outcome?.attempts ?? (outcome?.runId ? 1 : 0)),
      outcome?.result ?? '',
      outcome?.error ? `${outcome.error.type}: ${outcome.error.message}` : '',
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function fieldNames(spec: BatchSpec): string[] {
  const names = new Set<string>();
  for (const item of spec.items) for (const name of Object.keys(item.fields)) names.add(name);
  return [...names];
}

/** An input column named like an outcome column keeps its name; the outcome one gets a prefix. */
function uniqueName(name: string, taken: readonly string[]): string {
  let candidate = name;
  while (taken.includes(candidate)) candidate = `outcome_${candidate}`;
  return candidate;
}

function cellText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function csvCell(text: string): string {
  const cell = spreadsheetSafe(text);
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A cell a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a CR: an agent's
 * result or an input value may be `=HYPERLINK(...)`) gets a leading ' (OWASP's advice), which makes it
 * text. A plain number such as -12.50 is no formula and stays a number.
 */
export function spreadsheetSafe(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}
