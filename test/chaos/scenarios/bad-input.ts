// Scenario 6: bad input at every edge, counted. Each input must be refused the documented way:
// API bodies with the documented 4xx status and error shape (and no run created), process files
// with a ProcessFileError naming the file, CLI arguments with exit code 2. In these rows "runs" is
// the number of inputs tried, "typed errors" those refused as documented, "lost" the others.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { parseProcessText, ProcessFileError } from '../../../client/process-file/index';
import { startEmulator, type RunningEmulator } from '../../../emulator';
import { cliNodeArgs } from '../../helpers/test-build';
import type { ChaosContext } from '../lib/context';
import { mapLimit } from '../lib/verify';
import { emptyRow, type ChaosRow } from '../lib/types';

// ---------------------------------------------------------------- API bodies

interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.chunked && options.body !== undefined) {
      // No Content-Length: the server must count what arrives.
      const body = Buffer.from(options.body);
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

export interface ApiCase {
  name: string;
  method?: string;
  path: string;
  body?: string | Buffer;
  /** JSON body (serialized for you). */
  json?: unknown;
  headers?: Record<string, string>;
  chunked?: boolean;
  expect: { status: number; type: string; param?: string };
}

/** True when the answer is the documented error: the status, JSON `{error: {type, message, param?}}`. */
export function isDocumentedError(answer: HttpAnswer, expect: ApiCase['expect']): string | undefined {
  if (answer.status !== expect.status) return `status ${answer.status}, expected ${expect.status}`;
  if (!answer.contentType.startsWith('application/json')) return `content type ${answer.contentType}`;
  let body: { error?: { type?: unknown; message?: unknown; param?: unknown } };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `body is not JSON: ${answer.text.slice(0, 80)}`;
  }
  const error = body.error;
  if (!error || typeof error.message !== 'string' || error.message.length === 0) return 'no error.message';
  if (error.type !== expect.type) return `error.type ${String(error.type)}, expected ${expect.type}`;
  if (expect.param !== undefined && error.param !== expect.param) {
    return `error.param ${String(error.param)}, expected ${expect.param}`;
  }
  return undefined;
}

const MB = 1024 * 1024;
const valid = { machine_id: 'm-1', task: 'A valid task [steps=1]' };
const invalid = (param?: string) => ({ status: 400, type: 'invalid_request', ...(param ? { param } : {}) });

export function apiCases(runId: string, usedKey: string): ApiCase[] {
  const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  return [
    { name: 'invalid JSON', path: '/v1/runs', body: '{"machine_id": "m-1", "task": ', expect: invalid() },
    { name: 'a JSON array', path: '/v1/runs', body: '[1,2,3]', expect: invalid() },
    { name: 'JSON null', path: '/v1/runs', body: 'null', expect: invalid() },
    { name: 'an empty body', path: '/v1/runs', body: '', method: 'POST', expect: invalid() },
    {
      name: 'bytes that are not UTF-8',
      path: '/v1/runs',
      body: Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      expect: invalid(),
    },
    { name: 'JSON nested 100,000 deep', path: '/v1/runs', body: deep, expect: invalid() },
    { name: 'missing machine_id', path: '/v1/runs', json: { task: 'x' }, expect: invalid('machine_id') },
    { name: 'missing task', path: '/v1/runs', json: { machine_id: 'm-1' }, expect: invalid('task') },
    {
      name: 'machine_id a number',
      path: '/v1/runs',
      json: { ...valid, machine_id: 1 },
      expect: invalid('machine_id'),
    },
    {
      name: 'unknown machine_id',
      path: '/v1/runs',
      json: { ...valid, machine_id: 'm-9999' },
      expect: invalid('machine_id'),
    },
    { name: 'task a number', path: '/v1/runs', json: { ...valid, task: 42 }, expect: invalid('task') },
    {
      name: 'task an object',
      path: '/v1/runs',
      json: { ...valid, task: { text: 'x' } },
      expect: invalid('task'),
    },
    { name: 'task blank', path: '/v1/runs', json: { ...valid, task: '   ' }, expect: invalid('task') },
    {
      name: 'task of 10,001 characters',
      path: '/v1/runs',
      json: { ...valid, task: 'x'.repeat(10_001) },
      expect: invalid('task'),
    },
    {
      name: 'max_steps a string',
      path: '/v1/runs',
      json: { ...valid, max_steps: '10' },
      expect: invalid('max_steps'),
    },
    { name: 'max_steps 0', path: '/v1/runs', json: { ...valid, max_steps: 0 }, expect: invalid('max_steps') },
    {
      name: 'max_steps 1.5',
      path: '/v1/runs',
      json: { ...valid, max_steps: 1.5 },
      expect: invalid('max_steps'),
    },
    {
      name: 'deadline_seconds negative',
      path: '/v1/runs',
      json: { ...valid, deadline_seconds: -1 },
      expect: invalid('deadline_seconds'),
    },
    {
      name: 'on_awaiting_human unknown',
      path: '/v1/runs',
      json: { ...valid, on_awaiting_human: 'maybe' },
      expect: invalid('on_awaiting_human'),
    },
    {
      name: 'webhook_url not http',
      path: '/v1/runs',
      json: { ...valid, webhook_url: 'ftp://example.com/x' },
      expect: invalid('webhook_url'),
    },
    {
      name: 'cua_version malformed',
      path: '/v1/runs',
      json: { ...valid, cua_version: 'latest' },
      expect: invalid('cua_version'),
    },
    {
      name: 'an unknown field',
      path: '/v1/runs',
      json: { ...valid, priority: 'high' },
      expect: invalid('priority'),
    },
    {
      name: 'a body of 1 MB + 1 byte',
      path: '/v1/runs',
      body: `{"task":"${'x'.repeat(MB)}"}`,
      expect: { status: 413, type: 'payload_too_large' },
    },
    {
      name: 'a body of 5 MB, chunked',
      path: '/v1/runs',
      body: 'x'.repeat(5 * MB),
      chunked: true,
      expect: { status: 413, type: 'payload_too_large' },
    },
    {
      name: 'Idempotency-Key reused with another body',
      path: '/v1/runs',
      json: { ...valid, task: 'another task' },
      headers: { 'idempotency-key': usedKey },
      expect: { status: 409, type: 'conflict', param: 'Idempotency-Key' },
    },
    {
      name: 'Idempotency-Key of 256 characters',
      path: '/v1/runs',
      json: valid,
      headers: { 'idempotency-key': 'k'.repeat(256) },
      expect: invalid('Idempotency-Key'),
    },
    { name: 'resume without action', path: `/v1/runs/${runId}/resume`, json: {}, expect: invalid('action') },
    {
      name: 'resume with action "maybe"',
      path: `/v1/runs/${runId}/resume`,
      json: { action: 'maybe' },
      expect: invalid('action'),
    },
    {
      name: 'resume with message a number',
      path: `/v1/runs/${runId}/resume`,
      json: { action: 'approve', message: 7 },
      expect: invalid('message'),
    },
    {
      name: 'resume a run that is not waiting',
      path: `/v1/runs/${runId}/resume`,
      json: { action: 'approve' },
      expect: { status: 409, type: 'conflict' },
    },
    {
      name: 'cancel with reason a number',
      path: `/v1/runs/${runId}/cancel`,
      json: { reason: 5 },
      expect: invalid('reason'),
    },
    {
      name: 'cancel with an unknown field',
      path: `/v1/runs/${runId}/cancel`,
      json: { force: true },
      expect: invalid('force'),
    },
    {
      name: 'Last-Event-ID of another run',
      method: 'GET',
      path: `/v1/runs/${runId}/events`,
      headers: { 'last-event-id': 'evt_nope' },
      expect: invalid('Last-Event-ID'),
    },
    { name: 'list with limit 0', method: 'GET', path: '/v1/runs?limit=0', expect: invalid('limit') },
    { name: 'list with limit abc', method: 'GET', path: '/v1/runs?limit=abc', expect: invalid('limit') },
    {
      name: 'list with an unknown status',
      method: 'GET',
      path: '/v1/runs?status=sleeping',
      expect: invalid('status'),
    },
    {
      name: 'list after an unknown run',
      method: 'GET',
      path: '/v1/runs?after=run_nope',
      expect: invalid('after'),
    },
    {
      name: 'a run that does not exist',
      method: 'GET',
      path: '/v1/runs/run_does_not_exist',
      expect: { status: 404, type: 'not_found' },
    },
    {
      name: 'a run id with bad characters',
      method: 'GET',
      path: '/v1/runs/run%20x%3Cscript%3E',
      expect: { status: 404, type: 'not_found' },
    },
    {
      name: 'an unknown endpoint',
      method: 'GET',
      path: '/v1/nope',
      expect: { status: 404, type: 'not_found' },
    },
    {
      name: 'DELETE on /v1/runs',
      method: 'DELETE',
      path: '/v1/runs',
      expect: { status: 405, type: 'invalid_request' },
    },
  ];
}

async function sendCase(emulator: RunningEmulator, c: ApiCase): Promise<HttpAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${emulator.apiKey}`, ...c.headers };
  let body = c.body;
  if (c.json !== undefined) {
    body = JSON.stringify(c.json);
    headers['content-type'] = 'application/json';
  }
  return rawRequest(`${emulator.url}${c.path}`, {
    method: c.method ?? 'POST',
    headers,
    body,
    chunked: c.chunked,
  });
}

export async function badApiBodies(ctx: ChaosContext): Promise<ChaosRow> {
  const row = emptyRow('bad input: API requests');
  const emulator = await startEmulator({ config: { machines: 4, agent: { paceMs: 1 } } });
  ctx.defer(() => emulator.stop());
  const started = Date.now();
  // One valid run (and one used idempotency key) for the cases that need them.
  const usedKey = 'chaos-used-key';
  const created = await rawRequest(`${emulator.url}/v1/runs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${emulator.apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': usedKey,
    },
    body: JSON.stringify(valid),
  });
  const runId = (JSON.parse(created.text) as { id: string }).id;
  const before = await emulator.admin.counters();
  const cases = apiCases(runId, usedKey);
  await mapLimit(cases, 4, async (c) => {
    row.runs += 1;
    try {
      const problem = isDocumentedError(await sendCase(emulator, c), c.expect);
      if (problem) {
        row.lost += 1;
        row.problems.push(`API ${c.name}: ${problem}`);
      } else row.typedErrors += 1;
    } catch (error) {
      row.lost += 1;
      row.problems.push(`API ${c.name}: no answer (${(error as Error).message})`);
    }
  });
  const after = await emulator.admin.counters();
  row.duplicated += after.runs_created - before.runs_created;
  if (after.runs_created !== before.runs_created) {
    row.problems.push(`bad requests created ${after.runs_created - before.runs_created} run(s)`);
  }
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  row.notes.push(`${cases.length} bad requests, each answered with its documented 4xx and error shape`);
  return row;
}

// ---------------------------------------------------------------- process files

const lines = (...rows: string[]) => rows.join('\n') + '\n';
const chain = (...stepRows: string[]) =>
  lines('name: t', 'defaults:', '  machine: m-1', 'steps:', ...stepRows);

function aliasBomb(): string {
  const rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(97 + i - 1);
    const name = String.fromCharCode(97 + i);
    rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return lines(...rows, 'steps:', '  - { id: x, task: "*i" }');
}

export const PROCESS_FILE_CASES: Array<{ name: string; text: string; files?: Record<string, string> }> = [
  { name: 'an empty file', text: '' },
  { name: 'only a comment', text: '# nothing here\n' },
  { name: 'a bare scalar', text: 'hello\n' },
  { name: 'a list at the top', text: '- a\n- b\n' },
  { name: 'binary garbage', text: '\u0000\u0001\u0002\uFFFD\u0007PK\u0003\u0004' },
  { name: 'an unclosed quote', text: chain('  - id: a', '    task: "Open the portal') },
  {
    name: 'a tab for indentation',
    text: lines('defaults:', '\tmachine: m-1', 'steps:', '  - { id: a, task: x }'),
  },
  { name: 'a YAML alias bomb', text: aliasBomb() },
  { name: 'steps empty', text: chain().replace('steps:\n', 'steps: []\n') },
  { name: 'steps a string', text: lines('name: t', 'steps: do it') },
  { name: 'a step without a task', text: chain('  - id: a') },
  { name: 'two steps with one id', text: chain('  - id: a', '    task: x', '  - id: a', '    task: y') },
  { name: 'a typo in a top-level key', text: lines('name: t', 'stepz:', '  - { id: a, task: x }') },
  {
    name: 'both steps and items',
    text: lines('name: t', 'steps:', '  - { id: a, task: x }', 'items: [1]', 'task: y'),
  },
  { name: 'max_steps in words', text: chain('  - id: a', '    task: x', '    max_steps: ten') },
  { name: 'max_steps negative', text: chain('  - id: a', '    task: x', '    max_steps: -1') },
  { name: 'a reference to a missing step', text: chain('  - id: a', '    task: Use {{steps.nope.result}}') },
  { name: 'an unclosed template', text: chain('  - id: a', '    task: Use {{steps.a.result') },
  {
    name: 'max_cost_usd negative',
    text: lines(
      'name: t',
      'max_cost_usd: -5',
      'defaults:',
      '  machine: m-1',
      'steps:',
      '  - { id: a, task: x }',
    ),
  },
  { name: 'a batch without items', text: lines('name: b', 'task: do {{item.x}}', 'machines: [m-1]') },
  {
    name: 'a batch whose CSV file is missing',
    text: lines('name: b', 'items:', '  csv: nope.csv', 'task: do {{item.x}}', 'machines: [m-1]'),
  },
  {
    name: 'a batch whose CSV has an unclosed quote',
    text: lines(
      'name: b',
      'items:',
      '  csv: bad.csv',
      'key_field: id',
      'task: do {{item.id}}',
      'machines: [m-1]',
    ),
    files: { 'bad.csv': 'id,name\n1,"Acme\n2,Beta\n' },
  },
  { name: 'a 3 MB task', text: chain('  - id: a', `    task: ${'x'.repeat(3 * MB)}`) },
];

export async function badProcessFiles(_ctx: ChaosContext): Promise<ChaosRow> {
  const row = emptyRow('bad input: process files');
  const started = Date.now();
  for (const c of PROCESS_FILE_CASES) {
    row.runs += 1;
    try {
      await parseProcessText(c.text, {
        filename: 'broken.yaml',
        baseDir: '/virtual',
        readFile: async (path) => {
          const name = path.split('/').pop()!;
          const content = c.files?.[name];
          if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
          return content;
        },
      });
      row.lost += 1;
      row.problems.push(`process file with ${c.name}: accepted`);
    } catch (error) {
      if (
        error instanceof ProcessFileError &&
        error.issues.length > 0 &&
        error.message.includes('broken.yaml')
      ) {
        row.typedErrors += 1;
      } else {
        row.lost += 1;
        row.problems.push(
          `process file with ${c.name}: ${(error as Error).name}: ${(error as Error).message.slice(0, 200)}`,
        );
      }
    }
  }
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  row.notes.push(
    `${PROCESS_FILE_CASES.length} broken process files, each a ProcessFileError naming the file`,
  );
  return row;
}

// ---------------------------------------------------------------- CLI arguments

export const CLI_CASES: Array<{ name: string; args: string[] }> = [
  { name: 'worker --max-concurrent-activities abc', args: ['worker', '--max-concurrent-activities', 'abc'] },
  { name: 'worker --max-concurrent-activities 0', args: ['worker', '--max-concurrent-activities', '0'] },
  { name: 'worker --max-concurrent-activities -3', args: ['worker', '--max-concurrent-activities', '-3'] },
  { name: 'worker --max-concurrent-activities 1.5', args: ['worker', '--max-concurrent-activities', '1.5'] },
  { name: 'worker --no-such-option', args: ['worker', '--no-such-option'] },
  { name: 'an unknown command', args: ['frobnicate'] },
];

export function runCli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliNodeArgs(), ...args], {
      // If an argument slipped through, fail fast instead of waiting for a server.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        COASTY_BASE_URL: 'http://127.0.0.1:1/v1',
        COASTY_API_KEY: 'k',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stderr });
    });
  });
}

export async function badCliArguments(_ctx: ChaosContext): Promise<ChaosRow> {
  const row = emptyRow('bad input: CLI arguments');
  const started = Date.now();
  await mapLimit(CLI_CASES, 3, async (c) => {
    row.runs += 1;
    const { code, stderr } = await runCli(c.args);
    if (code === 2 && stderr.trim().length > 0) row.typedErrors += 1;
    else {
      row.lost += 1;
      row.problems.push(
        `coasty-temporal ${c.args.join(' ')}: exit ${code}, stderr "${stderr.trim().slice(0, 120)}"`,
      );
    }
  });
  row.seconds = Math.round((Date.now() - started) / 100) / 10;
  row.notes.push(`${CLI_CASES.length} bad command lines, each exit code 2 with a message`);
  return row;
}
