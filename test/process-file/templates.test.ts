import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listSecretNames, MissingSecretError, substituteSecrets } from '../../core/secrets';
import { listTemplateRefs, renderTemplate, TemplateError } from '../../workflows/templates';

describe('renderTemplate', () => {
  it('substitutes inputs, step outputs and item fields, with or without spaces in the braces', () => {
    const text = renderTemplate(
      'Hi {{input.name}}, {{ steps.login.result }} ({{steps.login.status}}, ${{steps.login.cost_usd}}) #{{item.id}}',
      {
        input: { name: 'Ada' },
        steps: { login: { status: 'succeeded', result: 'logged in', costUsd: 0.35 } },
        item: { id: 7 },
      },
    );
    assert.equal(text, 'Hi Ada, logged in (succeeded, $0.35) #7');
  });

  it('leaves secrets exactly as written', () => {
    assert.equal(
      renderTemplate('pw {{secret.PORTAL_PASSWORD}} and {{ secret.API_TOKEN }}', {}),
      'pw {{secret.PORTAL_PASSWORD}} and {{ secret.API_TOKEN }}',
    );
  });

  it('renders numbers, booleans, null results and nested item values', () => {
    const text = renderTemplate(
      '{{input.n}} {{input.b}} [{{steps.s.result}}] {{item.tags}} [{{item.none}}]',
      {
        input: { n: 30, b: false },
        steps: { s: { status: 'failed', result: null, costUsd: 0 } },
        item: { tags: ['a', 'b'], none: null },
      },
    );
    assert.equal(text, '30 false [] ["a","b"] []');
  });

  it('inserts values literally, even with $ patterns, and does not render twice', () => {
    const text = renderTemplate('{{input.a}}|{{input.b}}', { input: { a: "$& $1 $' $$", b: '{{input.a}}' } });
    assert.equal(text, "$& $1 $' $$|{{input.a}}");
  });

  it('breaks secret placeholders that arrive inside values, so the activity never fills them in', () => {
    const text = renderTemplate('Result: {{steps.s.result}}', {
      steps: { s: { status: 'succeeded', result: 'type {{secret.PORTAL_PASSWORD}} here', costUsd: 0.1 } },
    });
    assert.equal(listSecretNames(text).length, 0);
    assert.equal(substituteSecrets(text, () => 'hunter2').includes('hunter2'), false);
  });

  it('throws a clear error for references to unknown things', () => {
    assert.throws(
      () => renderTemplate('{{input.missing}}', { input: {} }),
      (e: unknown) => e instanceof TemplateError && /no input "missing"/.test(e.message),
    );
    assert.throws(
      () => renderTemplate('{{steps.later.result}}', { steps: {} }),
      /step "later" has no outcome/,
    );
    assert.throws(() => renderTemplate('{{item.f}}', {}), /only available in a batch/);
    assert.throws(() => renderTemplate('{{item.f}}', { item: { g: 1 } }), /no field "f"/);
    assert.throws(() => renderTemplate('{{foo.bar}}', {}), /not a known reference/);
    assert.throws(() => renderTemplate('{{steps.a}}', { steps: {} }), /steps\.a\.result/);
    assert.throws(() => renderTemplate('oops {{input.a', { input: { a: 'x' } }), /without a matching/);
  });
});

describe('listTemplateRefs', () => {
  it('lists every reference with its kind and place', () => {
    const refs = listTemplateRefs(
      '{{input.a}} {{ steps.s1.status }} {{item.Invoice Number}} {{secret.KEY}} {{step.s1.result}}',
    );
    assert.deepEqual(
      refs.map((r) => r.kind),
      ['input', 'step', 'item', 'secret', 'invalid'],
    );
    assert.deepEqual(refs[1], {
      kind: 'step',
      stepId: 's1',
      property: 'status',
      raw: '{{ steps.s1.status }}',
      index: 12,
    });
    assert.equal(refs[2]?.kind === 'item' && refs[2].field, 'Invoice Number');
    assert.match(refs[4]?.kind === 'invalid' ? refs[4].reason : '', /did you mean \{\{steps\.s1\.result\}\}/);
  });

  it('flags secret names that are not upper case', () => {
    const [ref] = listTemplateRefs('{{secret.portal_password}}');
    assert.equal(ref?.kind, 'invalid');
    assert.match(ref?.kind === 'invalid' ? ref.reason : '', /PORTAL_PASSWORD/);
  });
});

describe('substituteSecrets', () => {
  it('fills in every secret from the lookup', () => {
    const env: Record<string, string> = { A: 'alpha', B_2: 'b$&' };
    assert.equal(
      substituteSecrets('{{secret.A}}/{{ secret.B_2 }}/{{secret.A}}', (n) => env[n]),
      'alpha/b$&/alpha',
    );
  });

  it('names every missing COASTY_SECRET_ variable and never a value', () => {
    const env: Record<string, string> = { PRESENT: 'top-secret-value' };
    assert.throws(
      () =>
        substituteSecrets('{{secret.PRESENT}} {{secret.MISSING_ONE}} {{secret.MISSING_TWO}}', (n) => env[n]),
      (e: unknown) =>
        e instanceof MissingSecretError &&
        e.message.includes('COASTY_SECRET_MISSING_ONE') &&
        e.message.includes('COASTY_SECRET_MISSING_TWO') &&
        !e.message.includes('top-secret-value') &&
        !e.message.includes('COASTY_SECRET_PRESENT'),
    );
  });

  it('leaves text without secrets alone', () => {
    assert.equal(
      substituteSecrets('no {{input.x}} secrets', () => undefined),
      'no {{input.x}} secrets',
    );
  });
});
