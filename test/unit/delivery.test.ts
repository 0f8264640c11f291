import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withDelivery } from '../../client/delivery';
import { parseProcessText } from '../../client/process-file/index';
import type { BatchSpec, ChainSpec } from '../../workflows/process-types';
import { agentRunInput } from '../../workflows/agent-input';

const parse = (text: string) =>
  parseProcessText(text, { filename: 'p.yaml', baseDir: '/virtual', inputs: {} });

test('delivery: in defaults applies to every step, a step may choose its own, stream leaves inputs as before', async () => {
  const spec = (await parse(
    [
      'name: t',
      'defaults: { machine: m-1, delivery: webhook }',
      'steps:',
      '  - { id: a, task: x }',
      '  - { id: b, task: y, delivery: stream }',
    ].join('\n'),
  )) as ChainSpec;
  const [a, b] = spec.steps as Array<ChainSpec['steps'][number] & { delivery?: string }>;
  assert.equal(a!.delivery, 'webhook');
  assert.equal(b!.delivery, 'stream');
  const input = (step: typeof a) => agentRunInput(step as never, 'task', 'key');
  assert.equal(input(a).delivery, 'webhook');
  assert.equal('delivery' in input(b), false, 'a stream run has the input it had before webhooks existed');
});

test('--delivery sets every agent step of a chain, or the step defaults of a batch', async () => {
  const chain = (await parse(
    'name: t\ndefaults: { machine: m-1 }\nsteps:\n  - { id: a, task: x, delivery: webhook }\n  - { id: g, approval: ok? }\n',
  )) as ChainSpec;
  const streamed = withDelivery(chain, 'stream') as ChainSpec;
  assert.equal((streamed.steps[0] as { delivery?: string }).delivery, undefined);
  const hooked = withDelivery(chain, 'webhook') as ChainSpec;
  assert.equal((hooked.steps[0] as { delivery?: string }).delivery, 'webhook');
  assert.equal((hooked.steps[1] as { delivery?: string }).delivery, undefined, 'a gate has no run');
  assert.equal(withDelivery(chain, undefined), chain);
  const batch = (await parse(
    'name: b\nmachines: [m-1]\ntask: "do {{item.x}}"\nitems:\n  - { x: 1 }\n',
  )) as BatchSpec;
  assert.equal((withDelivery(batch, 'webhook') as BatchSpec).stepDefaults.delivery, 'webhook');
});
