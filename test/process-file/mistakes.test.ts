// Each case is one mistake a person makes in a process file; each must give an error
// that names the file, the line (and column where it helps) and what is expected.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import { parseProcessText, ProcessFileError, type ProcessFileIssue } from '../../client/process-file/index';

const lines = (...rows: string[]): string => rows.join('\n') + '\n';

interface Case {
  name: string;
  text: string;
  inputs?: Record<string, string>;
  files?: Record<string, string>;
  expect: { file?: string; line: number; column?: number; includes: (string | RegExp)[] };
}

async function issuesOf(c: Pick<Case, 'text' | 'inputs' | 'files'>): Promise<ProcessFileIssue[]> {
  try {
    await parseProcessText(c.text, {
      filename: 'proc.yaml',
      baseDir: '/virtual',
      inputs: c.inputs ?? {},
      readFile: async (path) => {
        const content = c.files?.[basename(path)];
        if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        return content;
      },
    });
  } catch (error) {
    if (error instanceof ProcessFileError) return error.issues;
    throw error;
  }
  return assert.fail('expected a ProcessFileError');
}

const chain = (...stepRows: string[]): string =>
  lines('name: t', 'defaults:', '  machine: m-1', 'steps:', ...stepRows);
// line 5 is the first step row of chain(...)

const cases: Case[] = [
  {
    name: 'YAML syntax error (an unclosed quote)',
    text: chain('  - id: a', '    task: "Open the portal', '  - id: b', '    task: x'),
    expect: { line: 6, column: 11, includes: ['no closing quote'] },
  },
  {
    name: 'a tab used for indentation',
    text: lines('defaults:', '\tmachine: m-1', 'steps:', '  - { id: a, task: x }'),
    expect: { line: 2, column: 1, includes: ['Tabs are not allowed'] },
  },
  {
    name: 'aliases that expand without bound (a YAML "billion laughs")',
    text: lines(
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'
        .split('')
        .map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
      'steps:',
      '  - { id: s, task: x }',
    ),
    expect: { line: 2, column: 8, includes: ['aliases', 'too many values'] },
  },
  {
    name: 'the same key twice in one mapping',
    text: chain('  - id: a', '    task: one', '    task: two'),
    expect: { line: 7, includes: ['unique'] },
  },
  {
    name: 'max_steps written in words',
    text: chain(
      '  - id: a',
      '    task: x',
      '  - id: b',
      '    task: y',
      '  - id: c',
      '    task: z',
      '    max_steps: ten',
    ),
    expect: {
      line: 11,
      column: 16,
      includes: ['steps[2].max_steps: expected a whole number from 1 to 10000, got "ten"'],
    },
  },
  {
    name: 'a typo in a step key',
    text: chain('  - id: a', '    task: x', '    max_step: 10'),
    expect: { line: 7, column: 5, includes: ['unknown key "max_step"', 'did you mean "max_steps"'] },
  },
  {
    name: 'a typo in a top-level key',
    text: lines(
      'name: t',
      'max_cost_ud: 5',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - { id: a, task: x }',
    ),
    expect: { line: 2, column: 1, includes: ['unknown key "max_cost_ud"', 'did you mean "max_cost_usd"'] },
  },
  {
    name: 'a value outside an enumeration',
    text: chain('  - id: a', '    task: x', '    on_awaiting_human: wait'),
    expect: { line: 7, column: 24, includes: ['expected one of pause, fail, cancel, got "wait"'] },
  },
  {
    name: 'a delivery that does not exist',
    text: chain('  - id: a', '    task: x', '    delivery: webhooks'),
    expect: { line: 7, column: 15, includes: ['expected one of stream, webhook, got "webhooks"'] },
  },
  {
    name: 'two steps with the same id',
    text: chain('  - id: login', '    task: x', '  - id: login', '    task: y'),
    expect: { line: 7, column: 9, includes: ['duplicate step id "login"', 'line 5'] },
  },
  {
    name: 'a step id that is not id-safe',
    text: chain('  - id: Log In', '    task: x'),
    expect: { line: 5, column: 9, includes: ['expected a step id of lower-case letters', 'got "Log In"'] },
  },
  {
    name: 'a task that uses the result of a later step',
    text: chain('  - id: a', '    task: Use {{steps.b.result}} now', '  - id: b', '    task: y'),
    expect: { line: 6, column: 15, includes: ['step "b" runs later'] },
  },
  {
    name: 'a task that uses a step that does not exist',
    text: chain(
      '  - id: download',
      '    task: x',
      '  - id: b',
      '    task: >-',
      '      Check {{steps.downlaod.result}}',
    ),
    expect: { line: 9, column: 13, includes: ['there is no step "downlaod"', 'did you mean "download"'] },
  },
  {
    name: 'a task that uses the "result" of an approval gate',
    text: chain(
      '  - id: a',
      '    task: x',
      '  - id: ok',
      '    approval: Go?',
      '  - id: c',
      '    task: "{{steps.ok.result}}"',
    ),
    expect: { line: 10, includes: ['"ok" is an approval gate'] },
  },
  {
    name: 'an input that is not declared',
    text: lines(
      'name: t',
      'inputs:',
      '  vendor_name: { type: string, default: Acme }',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - id: a',
      '    task: Onboard {{input.vendor}}',
    ),
    expect: { line: 7, column: 19, includes: ['there is no input "vendor"', 'did you mean "vendor_name"'] },
  },
  {
    name: 'a required input that was not given',
    text: lines(
      'name: t',
      'inputs:',
      '  vendor_name:',
      '    type: string',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - { id: a, task: "{{input.vendor_name}}" }',
    ),
    expect: {
      line: 3,
      column: 3,
      includes: ['input "vendor_name" is required', '--input vendor_name=<value>'],
    },
  },
  {
    name: 'an input value of the wrong type',
    text: lines(
      'inputs:',
      '  days: { type: number, default: 30 }',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - { id: a, task: "{{input.days}}" }',
    ),
    inputs: { days: 'thirty' },
    expect: { line: 2, column: 3, includes: ['--input days=thirty: expected a number'] },
  },
  {
    name: 'an input default of the wrong type',
    text: lines(
      'inputs:',
      '  notify:',
      '    type: boolean',
      '    default: maybe',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - { id: a, task: "{{input.notify}}" }',
    ),
    expect: {
      line: 4,
      column: 14,
      includes: ['expected true or false as the default of a boolean input, got "maybe"'],
    },
  },
  {
    name: 'an --input the process does not declare',
    text: lines(
      'inputs:',
      '  color: { default: red }',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - { id: a, task: "{{input.color}}" }',
    ),
    inputs: { colour: 'blue' },
    expect: {
      line: 1,
      includes: ['--input colour: this process has no input "colour"', 'did you mean "color"'],
    },
  },
  {
    name: 'a step with neither task nor approval',
    text: chain('  - id: a', '    taks: Open the portal'),
    expect: { line: 5, includes: ['step "a" needs task: (an agent step) or approval: (an approval gate)'] },
  },
  {
    name: 'an approval gate written with question: instead of approval:',
    text: chain('  - id: a', '    task: x', '  - id: ok', '    question: Pay it?'),
    expect: { line: 8, column: 5, includes: ['unknown key "question"', 'approval: "<the question>"'] },
  },
  {
    name: 'no machine anywhere',
    text: lines('name: t', 'steps:', '  - id: a', '    task: x'),
    expect: { line: 3, includes: ['no machine for step "a"', 'defaults:'] },
  },
  {
    name: 'max_retries without on_failure: retry',
    text: chain('  - id: a', '    task: x', '    on_failure: stop', '    max_retries: 3'),
    expect: { line: 8, column: 18, includes: ['max_retries applies only with on_failure: retry'] },
  },
  {
    name: 'a secret in an approval question',
    text: chain(
      '  - id: a',
      '    task: x',
      '  - id: ok',
      '    approval: "Password is {{secret.PORTAL_PASSWORD}}, ok?"',
    ),
    expect: { line: 8, column: 28, includes: ['secrets can only be used in agent tasks'] },
  },
  {
    name: 'a lower-case secret name',
    text: chain('  - id: a', '    task: "Log in with {{secret.portal_password}}"'),
    expect: { line: 6, column: 24, includes: ['{{secret.PORTAL_PASSWORD}}'] },
  },
  {
    name: 'an unclosed template',
    text: chain('  - id: a', '    task: Hello {{input.name}'),
    expect: { line: 6, column: 17, includes: ['"{{" without a matching "}}"'] },
  },
  {
    name: 'a bad duration',
    text: chain('  - id: ok', '    approval: Go?', '    timeout: tomorrow'),
    expect: { line: 7, column: 14, includes: ['expected a duration like 30m, 24h or 2d', 'got "tomorrow"'] },
  },
  {
    name: 'a budget that one run can exceed',
    text: lines(
      'max_cost_usd: 1',
      'defaults: { machine: m-1 }',
      'steps:',
      '  - id: a',
      '    task: x',
      '    max_steps: 100',
    ),
    expect: { line: 6, column: 16, includes: ['may cost up to USD 5.00', 'more than max_cost_usd 1.00'] },
  },
  {
    name: 'a budget of zero',
    text: lines('max_cost_usd: 0', 'defaults: { machine: m-1 }', 'steps:', '  - { id: a, task: x }'),
    expect: { line: 1, column: 15, includes: ['expected an amount in USD greater than 0', 'got 0'] },
  },
  {
    name: 'neither steps nor items',
    text: lines('name: t', 'step:', '  - { id: a, task: x }'),
    expect: { line: 2, column: 1, includes: ['unknown key "step"', 'did you mean "steps"'] },
  },
  {
    name: '{{item.x}} in a chain',
    text: chain('  - id: a', '    task: "Pay {{item.invoice}}"'),
    expect: { line: 6, includes: ['only available in a batch'] },
  },
  // Batches
  {
    name: 'a batch with an empty pool of machines',
    text: lines('items: [{ id: a }]', 'task: x', 'machines: []'),
    expect: { line: 3, column: 11, includes: ['expected at least one machine in the pool'] },
  },
  {
    name: 'a batch with concurrency 0',
    text: lines('items: [{ id: a }]', 'task: x', 'concurrency: 0', 'machines: [m-1]'),
    expect: { line: 3, column: 14, includes: ['expected a whole number from 1 to 1000, got 0'] },
  },
  {
    name: 'a task that uses a column the CSV does not have',
    text: lines('items: { csv: items.csv }', 'task: Pay {{item.amout}}', 'machines: [m-1]'),
    files: { 'items.csv': 'invoice,amount\nA-1,10\n' },
    expect: { line: 2, column: 11, includes: ['items.csv has no column "amout"', 'did you mean "amount"'] },
  },
  {
    name: 'a CSV row with a missing field',
    text: lines('items: { csv: items.csv }', 'task: Pay {{item.amount}}', 'machines: [m-1]'),
    files: { 'items.csv': 'invoice,amount,vendor\nA-1,10,Acme\nA-2,20\nA-3,30,"Smith, Jones"\n' },
    expect: { file: 'items.csv', line: 3, includes: ['expected 3 fields (invoice, amount, vendor), got 2'] },
  },
  {
    name: 'a CSV quote that never closes',
    text: lines('items: { csv: items.csv }', 'task: Pay {{item.amount}}', 'machines: [m-1]'),
    files: { 'items.csv': 'invoice,amount\nA-1,10\nA-2,"20\nA-3,30\n' },
    expect: { file: 'items.csv', line: 3, column: 5, includes: ['never closes'] },
  },
  {
    name: 'a JSONL line that is not JSON',
    text: lines('items: { jsonl: items.jsonl }', 'task: Pay {{item.amount}}', 'machines: [m-1]'),
    files: { 'items.jsonl': '{"amount": 1}\n{"amount": 2,}\n' },
    expect: { file: 'items.jsonl', line: 2, includes: ['not valid JSON'] },
  },
  {
    name: 'a JSONL field missing in one row',
    text: lines('items: { jsonl: items.jsonl }', 'task: Pay {{item.amount}}', 'machines: [m-1]'),
    files: { 'items.jsonl': '{"amount": 1}\n{"amount": 2}\n{"total": 3}\n' },
    expect: { line: 2, column: 11, includes: ['field "amount" is missing in items.jsonl line 3'] },
  },
  {
    name: 'two items with the same key',
    text: lines(
      'items: { csv: items.csv }',
      'key_field: invoice',
      'task: Pay {{item.invoice}}',
      'machines: [m-1]',
    ),
    files: { 'items.csv': 'invoice,amount\r\nA-1,10\r\nA-2,20\r\nA-1,30\r\n' },
    expect: { file: 'items.csv', line: 4, includes: ['duplicate item key "A-1"', 'items.csv line 2'] },
  },
  {
    name: 'an item key that cannot be part of a workflow id',
    text: lines(
      'items:',
      '  - { vendor: Acme Tools }',
      '  - { vendor: Blue/Harbor }',
      'key_field: vendor',
      'task: x',
      'machines: [m-1]',
    ),
    expect: { line: 2, includes: ['item key "Acme Tools" (vendor) is not usable in a workflow id'] },
  },
  {
    name: 'an items file that does not exist',
    text: lines('items:', '  csv: invoces.csv', 'task: x', 'machines: [m-1]'),
    expect: { line: 2, column: 8, includes: ['cannot read the items file "invoces.csv": no such file'] },
  },
  {
    name: "a machine in a batch's defaults",
    text: lines('items: [{ id: a }]', 'task: x', 'machines: [m-1]', 'defaults:', '  machine: m-2'),
    expect: { line: 5, column: 3, includes: ['machines: [...]'] },
  },
  {
    name: 'steps and items in one file',
    text: lines('items: [{ id: a }]', 'steps:', '  - { id: a, task: x }'),
    expect: { line: 1, column: 1, includes: ['not both'] },
  },
];

describe('mistakes in process files', () => {
  it('has at least 15 distinct cases', () => {
    assert.ok(cases.length >= 15);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const issues = await issuesOf(c);
      const file = c.expect.file ?? 'proc.yaml';
      const match = issues.find(
        (i) =>
          i.file === file &&
          i.line === c.expect.line &&
          (c.expect.column === undefined || i.column === c.expect.column) &&
          c.expect.includes.every((p) =>
            typeof p === 'string' ? `${i.path}: ${i.message}`.includes(p) : p.test(i.message),
          ),
      );
      assert.ok(
        match,
        `no issue at ${file}:${c.expect.line}${c.expect.column ? `:${c.expect.column}` : ''} with ${c.expect.includes.join(' & ')}; got:\n${JSON.stringify(issues, null, 1)}`,
      );
    });
  }

  it('collects every problem of a file into one error, in file order, with a readable message', async () => {
    const text = chain(
      '  - id: a',
      '    task: x',
      '    max_steps: ten',
      '  - id: a',
      '    task: "{{input.nope}}"',
      '    on_awaiting_human: wait',
    );
    let error: unknown;
    try {
      await parseProcessText(text, { filename: 'quickstart.yaml' });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ProcessFileError);
    assert.deepEqual(
      error.issues.map((i) => i.line),
      [7, 8, 9, 10],
    );
    const [first, ...rest] = error.message.split('\n');
    assert.equal(first, 'quickstart.yaml: 4 problems; nothing was started:');
    assert.equal(
      rest[0],
      '  quickstart.yaml:7:16 steps[0].max_steps: expected a whole number from 1 to 10000, got "ten"',
    );
    assert.equal(rest.length, 4);
  });

  it('names the missing process file', async () => {
    const { loadProcessFile } = await import('../../client/process-file/index');
    await assert.rejects(
      loadProcessFile('examples/nope.yaml'),
      (e: unknown) => e instanceof ProcessFileError && /examples\/nope\.yaml.*no such file/.test(e.message),
    );
  });
});
