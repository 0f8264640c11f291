import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();

async function lintWorkflow(source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: 'workflows/probe.ts' });
  return result!.messages.filter((message) => message.severity === 2).map((message) => message.message);
}

test('workflow code may not import Node built-ins, undici, or runtime code from api/', async () => {
  const errors = await lintWorkflow(
    [
      "import { readFileSync } from 'node:fs';",
      "import { createHash } from 'crypto';",
      "import { request } from 'undici';",
      "import { RunsClient } from '../api/runs-client';",
      'export const used = [readFileSync, createHash, request, RunsClient, process.env];',
    ].join('\n'),
  );
  assert.equal(errors.length, 5, errors.join('\n'));
  assert.ok(errors.some((message) => /Node built-ins/.test(message)));
  assert.ok(errors.some((message) => /api\/ types only/.test(message)));
});

test('workflow code may import @temporalio/workflow and api/ types', async () => {
  const errors = await lintWorkflow(
    [
      "import { sleep } from '@temporalio/workflow';",
      "import type { Run } from '../api/types';",
      "import type { RunsClient } from '../api/runs-client';",
      'export async function probe(run: Run, client?: RunsClient): Promise<string> {',
      '  await sleep(1);',
      '  return run.id + String(client);',
      '}',
    ].join('\n'),
  );
  assert.deepEqual(errors, []);
});
