import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { loadProcessFile, parseProcessText, processJsonSchema } from '../../client/process-file/index';
import type { AgentStepSpec, BatchSpec, ChainSpec } from '../../workflows/process-types';
import { listTemplateRefs, renderTemplate } from '../../workflows/templates';

const inputsFor: Record<string, Record<string, string>> = {
  'vendor-onboarding.yaml': { vendor_name: 'Acme Tools', vendor_email: 'ap@acme.example' },
};

describe('examples', () => {
  it('every example process file loads and says how to run it', async () => {
    const files = (await readdir('examples')).filter((f) => /\.(ya?ml|json)$/.test(f));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const spec = await loadProcessFile(`examples/${file}`, { inputs: inputsFor[file] ?? {} });
      assert.ok(spec.name, file);
      assert.match(
        await readFile(`examples/${file}`, 'utf8'),
        new RegExp(`npx coasty-temporal run examples/${file}`),
        file,
      );
      assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, `${file}: the spec is plain JSON`);
    }
  });

  it('quickstart: three agent steps with one approval gate between them, nothing that makes the emulator ask for a person', async () => {
    const spec = (await loadProcessFile('examples/quickstart.yaml')) as ChainSpec;
    assert.equal(spec.kind, 'chain');
    assert.deepEqual(
      spec.steps.map((s) => s.type),
      ['agent', 'agent', 'approval', 'agent'],
    );
    for (const step of spec.steps.filter((s): s is AgentStepSpec => s.type === 'agent')) {
      assert.doesNotMatch(step.task, /\bapprov(e|al)\b|\[human@/i);
      assert.equal(step.machineId, 'm-1');
    }
    const rendered = renderTemplate(spec.steps[1]?.type === 'agent' ? spec.steps[1].task : '', {
      steps: { download: { status: 'succeeded', result: 'invoice INV-7 for USD 120', costUsd: 0.3 } },
    });
    assert.match(rendered, /invoice INV-7 for USD 120/);
    assert.equal(spec.maxCostCents, 500);
  });

  it('vendor onboarding: inputs are typed and the secret stays a placeholder', async () => {
    const spec = (await loadProcessFile('examples/vendor-onboarding.yaml', {
      inputs: { vendor_name: 'Acme Tools', vendor_email: 'ap@acme.example', payment_terms_days: '45' },
    })) as ChainSpec;
    assert.deepEqual(spec.inputs, {
      vendor_name: 'Acme Tools',
      vendor_email: 'ap@acme.example',
      payment_terms_days: 45,
      send_welcome_email: true,
    });
    const first = spec.steps[0];
    assert.ok(first?.type === 'agent');
    assert.ok(listTemplateRefs(first.task).some((r) => r.kind === 'secret' && r.name === 'PORTAL_PASSWORD'));
    const task = renderTemplate(first.task, { input: spec.inputs });
    assert.match(task, /\{\{secret\.PORTAL_PASSWORD\}\}/);
    assert.match(task, /"Acme Tools"/);
    assert.deepEqual(spec.steps[1]?.type === 'agent' && spec.steps[1].onFailure, {
      policy: 'retry',
      maxRetries: 2,
    });
  });

  it('invoice batch: 20 CSV rows keyed by invoice_id, quoted fields intact', async () => {
    const spec = (await loadProcessFile('examples/invoice-batch.yaml')) as BatchSpec;
    assert.equal(spec.kind, 'batch');
    assert.equal(spec.source, 'csv');
    assert.equal(spec.items.length, 20);
    assert.deepEqual(spec.csvColumns, [
      'invoice_id',
      'vendor',
      'amount',
      'currency',
      'po_number',
      'due_date',
    ]);
    assert.equal(spec.items[1]?.key, 'INV-2024-0302');
    assert.equal(spec.items[1]?.fields.vendor, 'Smith, Jones & Co');
    assert.equal(spec.items[4]?.fields.vendor, 'The "Paper" Company');
    assert.deepEqual(spec.machines, ['m-1', 'm-2', 'm-3', 'm-4']);
    assert.equal(spec.concurrency, 4);
    const task = renderTemplate(spec.taskTemplate, { input: spec.inputs, item: spec.items[0]?.fields ?? {} });
    assert.match(task, /invoice INV-2024-0301\s+from Acme Tools for 1250\.00 USD/);
  });

  it('accepts JSON, which is YAML', async () => {
    const text = JSON.stringify({
      name: 'j',
      defaults: { machine: 'm-1' },
      steps: [
        { id: 'a', task: 'x' },
        { id: 'ok', approval: 'Go?', timeout: '1h30m' },
      ],
    });
    const spec = (await parseProcessText(text, { filename: 'p.json' })) as ChainSpec;
    assert.deepEqual(spec.steps[1], {
      id: 'ok',
      type: 'approval',
      question: 'Go?',
      timeoutSeconds: 5400,
      timeoutPolicy: 'reject',
    });
    assert.deepEqual(spec.defaults, {
      machineId: 'm-1',
      maxSteps: 50,
      onAwaitingHuman: 'pause',
      approvalTimeoutSeconds: 86400,
      approvalTimeoutPolicy: 'reject',
      onFailure: { policy: 'stop', maxRetries: 0 },
    });
  });

  it('keys inline and JSONL items by their number without key_field', async () => {
    const spec = (await parseProcessText(
      'items: { jsonl: i.jsonl }\ntask: "{{item.n}}"\nmachines: [m-1, m-2]\nmax_cost_usd: 12.5\n',
      {
        filename: 'b.yaml',
        readFile: async () => '{"n": 1}\n\n{"n": {"deep": true}}\n',
      },
    )) as BatchSpec;
    assert.deepEqual(spec.items, [
      { key: '1', fields: { n: 1 } },
      { key: '2', fields: { n: { deep: true } } },
    ]);
    assert.equal(spec.concurrency, 2);
    assert.equal(spec.maxCostCents, 1250);
    assert.deepEqual(spec.stepDefaults.onFailure, { policy: 'continue', maxRetries: 0 });
    assert.equal(renderTemplate(spec.taskTemplate, { item: spec.items[1]?.fields ?? {} }), '{"deep":true}');
  });

  it('exports a JSON Schema that knows both kinds of process file', () => {
    const schema = processJsonSchema();
    const text = JSON.stringify(schema);
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    for (const key of [
      'steps',
      'approval',
      'max_steps',
      'on_failure',
      'items',
      'machines',
      'concurrency',
      'key_field',
      'max_cost_usd',
    ]) {
      assert.ok(text.includes(`"${key}"`), key);
    }
  });
});
