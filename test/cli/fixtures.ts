// Process files of the CLI tests. The [steps=N] / [human@K] tags script the emulator's agent.
export const GATE_CHAIN = `
name: gate-chain
defaults:
  machine: m-1
  max_steps: 10
steps:
  - id: work
    task: Prepare the payment [steps=2]
  - id: review
    approval: 'Pay {{steps.work.status}}?'
  - id: finish
    task: Send the payment [steps=2]
`;

export const CHILD_WAIT_CHAIN = `
name: child-wait
defaults:
  machine: m-2
  max_steps: 10
steps:
  - id: pay
    task: Pay the invoice [steps=3] [human@2]
`;

export const WAITING_BATCH = `
name: waiting-batch
items:
  - { id: a }
  - { id: b }
key_field: id
task: Handle item {{item.id}} [steps=2] [human@1]
machines: [m-3, m-4]
`;

export const PLAIN_BATCH = `
name: plain-batch
items:
  - { id: x1, amount: 10 }
  - { id: x2, amount: 20 }
  - { id: x3, amount: 30 }
key_field: id
task: Book {{item.id}} for {{item.amount}} [steps=2]
machines: [m-5, m-6]
`;

export const BROKEN = `
name: broken
steps:
  - id: one
    tsak: typo
`;

export const FILES = {
  'gate.yaml': GATE_CHAIN,
  'child-wait.yaml': CHILD_WAIT_CHAIN,
  'waiting-batch.yaml': WAITING_BATCH,
  'plain-batch.yaml': PLAIN_BATCH,
  'broken.yaml': BROKEN,
};
