import { z } from 'zod';
import { LIMITS } from '../../workflows/process-types';

export const DURATION_PATTERN = /^\s*(\d+\s*[smhd]\s*)+$|^\s*\d+\s*$/;
export const PROCESS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const text = (what: string) =>
  z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}, not an empty value` });

function wholeNumber(min: number, max: number, what = 'a whole number') {
  const error = `expected ${what} from ${min} to ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

const durationError = 'expected a duration like 30m, 24h or 2d, or a whole number of seconds';
const duration = z
  .union(
    [
      z.int({ error: durationError }).min(1, { error: durationError }),
      z.string({ error: durationError }).regex(DURATION_PATTERN, { error: durationError }),
    ],
    {
      error: durationError,
    },
  )
  .meta({ description: 'A duration: 90s, 30m, 24h, 2d, 1h30m, or a whole number of seconds.' });

const onAwaitingHuman = oneOf(['pause', 'fail', 'cancel']).meta({
  description: 'What the runs API does when the agent needs a person (pause waits for approve/reject).',
});
const delivery = oneOf(['stream', 'webhook']).meta({
  description:
    "How each run's events reach the workflow: stream (default; one open stream per run) or webhook (the runs API posts them to the worker's receiver, COASTY_WEBHOOK_URL).",
});
const timeoutPolicy = oneOf(['reject', 'cancel', 'fail']).meta({
  description: 'What an unanswered approval becomes.',
});
const failurePolicy = oneOf(['stop', 'continue', 'retry']).meta({
  description: 'When a step fails: stop the chain, continue with the next step, or retry it as a new run.',
});

const runSettings = {
  max_steps: wholeNumber(1, LIMITS.maxSteps)
    .optional()
    .meta({ description: 'Step budget of each run (0.05 USD per step). Default 50.' }),
  deadline_seconds: wholeNumber(1, LIMITS.deadlineSeconds, 'a whole number of seconds').optional().meta({
    description: "Wall-clock budget of each run. Default: the API's.",
  }),
  on_awaiting_human: onAwaitingHuman.optional(),
  delivery: delivery.optional(),
  approval_timeout: duration
    .optional()
    .meta({ description: 'How long a run waits for a person. Default 24h.' }),
  approval_timeout_policy: timeoutPolicy.optional(),
  on_failure: failurePolicy.optional(),
  max_retries: wholeNumber(0, LIMITS.maxRetries)
    .optional()
    .meta({ description: 'With on_failure: retry, how many new runs at most. Default 2.' }),
};

const machine = text('a machine id').meta({ description: 'Id of a provisioned machine the agent runs on.' });

export const chainDefaultsSchema = z.strictObject({ machine: machine.optional(), ...runSettings });
export const batchDefaultsSchema = z.strictObject(runSettings);

const stepId = z.string({ error: 'expected a step id' }).regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
  error: 'expected a step id of lower-case letters, digits, "_" and "-" (at most 63)',
});

export const agentStepSchema = z
  .strictObject({
    id: stepId,
    task: text('the task as text').max(LIMITS.taskChars, {
      error: `expected a task of at most ${LIMITS.taskChars} characters`,
    }),
    description: z.string({ error: 'expected text' }).optional(),
    machine: machine.optional(),
    ...runSettings,
  })
  .meta({
    title: 'Agent step',
    description: 'One agent run. The task may use {{input.x}}, {{steps.<id>.result}} and {{secret.NAME}}.',
  });

export const approvalGateSchema = z
  .strictObject({
    id: stepId,
    approval: text('the question to ask a person, as text').meta({
      description: 'The question; may use {{input.x}} and {{steps.<id>.result}}.',
    }),
    description: z.string({ error: 'expected text' }).optional(),
    timeout: duration.optional(),
    timeout_policy: timeoutPolicy.optional(),
  })
  .meta({ title: 'Approval gate', description: 'Waits for a person to approve or reject.' });

export const inputDeclarationSchema = z.strictObject({
  type: oneOf(['string', 'number', 'boolean']).optional().meta({ description: 'Default: string.' }),
  default: z
    .union([z.string(), z.number(), z.boolean()], { error: 'expected a text, number or true/false default' })
    .optional()
    .meta({ description: 'Without a default the input is required (--input name=value).' }),
  description: z.string({ error: 'expected text' }).optional(),
});

const inputsSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  inputDeclarationSchema.nullable(),
  {
    error: 'expected a mapping of input names to { type, default, description }',
  },
);

const common = {
  $schema: z.string().optional(),
  name: z
    .string({ error: 'expected a name' })
    .regex(PROCESS_NAME, {
      error: 'expected a name of letters, digits, ".", "_" and "-" (it becomes part of workflow ids)',
    })
    .optional()
    .meta({ description: "Default: the file's name without extension." }),
  description: z.string({ error: 'expected text' }).optional(),
  max_cost_usd: z
    .number({ error: 'expected an amount in USD greater than 0, e.g. 5 or 12.50' })
    .positive({ error: 'expected an amount in USD greater than 0, e.g. 5 or 12.50' })
    .optional()
    .meta({
      description: 'Budget: before each new run, spent plus the worst case in flight must stay within it.',
    }),
};

// Validation goes one mapping at a time (nested parts as unknown) so that every error
// knows exactly which keys were valid where; the composed schemas are for JSON Schema.
export const chainRootSchema = z.strictObject({
  ...common,
  inputs: z.unknown().optional(),
  defaults: z.unknown().optional(),
  steps: z
    .array(z.unknown(), { error: 'expected a list of steps' })
    .min(1, { error: 'a chain needs at least one step' }),
});

export const batchRootSchema = z.strictObject({
  ...common,
  inputs: z.unknown().optional(),
  defaults: z.unknown().optional(),
  items: z.unknown(),
  key_field: text('the name of a column or field').optional().meta({
    description: 'Column whose values key the items (stable, id-safe). Default: the item number.',
  }),
  task: text('the task template as text').max(LIMITS.taskChars, {
    error: `expected a task of at most ${LIMITS.taskChars} characters`,
  }),
  concurrency: wholeNumber(1, LIMITS.concurrency)
    .optional()
    .meta({ description: 'Runs at once. Default: one per machine.' }),
  machines: z
    .array(machine, { error: 'expected a list of machine ids, e.g. [m-1, m-2]' })
    .min(1, { error: 'expected at least one machine in the pool' }),
});

const itemsSchema = z.union([
  z
    .array(z.record(z.string(), z.unknown()))
    .min(1)
    .meta({ description: 'Inline items: one mapping per item.' }),
  z.strictObject({
    csv: z.string().meta({ description: 'CSV file with a header row, relative to this file.' }),
  }),
  z.strictObject({
    jsonl: z.string().meta({ description: 'JSON Lines file, one object per line, relative to this file.' }),
  }),
]);

export const chainFileSchema = chainRootSchema
  .extend({
    inputs: inputsSchema.optional(),
    defaults: chainDefaultsSchema.optional(),
    steps: z.array(z.union([agentStepSchema, approvalGateSchema])).min(1),
  })
  .meta({ title: 'Chain', description: 'Agent steps and approval gates, in order.' });

export const batchFileSchema = batchRootSchema
  .extend({ inputs: inputsSchema.optional(), defaults: batchDefaultsSchema.optional(), items: itemsSchema })
  .meta({ title: 'Batch', description: 'One task template for every item.' });

/** JSON Schema of a process file, for editor completion (`coasty-temporal schema`). */
export function processJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.union([chainFileSchema, batchFileSchema]), { io: 'input' }) as Record<
    string,
    unknown
  >;
  return { ...schema, title: 'coasty-temporal process file' };
}
