// A finished batch's report: the CSV of workflows/report.ts (the input's columns, then each item's
// outcome) and the whole result as JSON, written where the person can find them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { stateDir } from '../dev/stack-file';
import { batchReportCsv } from '../workflows/report';
import type { BatchResult } from '../workflows/run-batch';
import type { BatchSpec } from '../workflows/process-types';

export function writeBatchReport(
  spec: BatchSpec,
  result: BatchResult,
  workflowId: string,
  csvPath?: string,
): { csv: string; json: string } {
  const safeId = workflowId.replace(/[^\w.-]+/g, '_');
  const csv = resolve(csvPath ?? join(stateDir(), 'reports', `${safeId}.csv`));
  const json = csv.replace(/\.csv$/i, '') + '.json';
  mkdirSync(dirname(csv), { recursive: true });
  writeFileSync(csv, batchReportCsv(result, spec));
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  return { csv, json };
}
