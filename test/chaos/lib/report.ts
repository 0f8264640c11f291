// The summary table (terminal and Markdown) and the machine facts written beside it.
import os from 'node:os';
import type { ChaosReport, ChaosRow, MachineFacts } from './types';

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    totalMemoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

const COLUMNS: Array<[string, (row: ChaosRow) => string | number]> = [
  ['scenario', (row) => row.scenario],
  ['runs', (row) => row.runs],
  ['completed', (row) => row.completed],
  ['typed errors', (row) => row.typedErrors],
  ['lost', (row) => row.lost],
  ['duplicated', (row) => row.duplicated],
  ['reconnects', (row) => row.reconnects],
  ['retries', (row) => row.retries],
  ['leaks', (row) => row.leaks],
  ['seconds', (row) => row.seconds.toFixed(1)],
];

export function formatTable(rows: ChaosRow[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, get]) => String(get(row))));
  const widths = COLUMNS.map(([name], i) => Math.max(name.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) =>
    values.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join('  ');
  return [
    line(COLUMNS.map(([name]) => name)),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}

/** The table as the README shows it, with the machine and date under it. */
export function formatMarkdown(report: ChaosReport): string {
  const head = `| ${COLUMNS.map(([name]) => name).join(' | ')} |`;
  const rule = `| ${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = report.rows.map((row) => `| ${COLUMNS.map(([, get]) => String(get(row))).join(' | ')} |`);
  const m = report.machine;
  return [
    head,
    rule,
    ...body,
    '',
    `${report.form} form, N = ${report.n}; ${m.cpus} x ${m.cpuModel}, ${m.totalMemoryGb} GB, Node ${m.node}, ` +
      `${m.os}; ${m.date.slice(0, 10)}; ${report.seconds} s in all.`,
  ].join('\n');
}
