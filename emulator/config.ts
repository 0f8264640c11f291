// Emulator configuration: defaults, validation of user input (file, flags, library call) and merging.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const ENDPOINT_CLASSES = ['create', 'list', 'get', 'stream', 'cancel', 'resume', 'machines'] as const;
export type EndpointClass = (typeof ENDPOINT_CLASSES)[number];

export const MALFORMED_MODES = [
  'garbage_lines',
  'non_json_data',
  'missing_ids',
  'huge_event',
  'wrong_content_type',
  'html_error_200',
] as const;
export type MalformedMode = (typeof MALFORMED_MODES)[number];

const endpointList = z.array(z.enum(ENDPOINT_CLASSES)).optional();
const rate = z.number().min(0).max(1);
const nonNegInt = z.number().int().min(0);
const posInt = z.number().int().min(1);
/**
 * The most machines one emulator simulates: a fleet benchmark runs each of up to 10,000 concurrent
 * runs on its own machine (bench/fleet.ts --full), with room to spare.
 */
export const MAX_MACHINES = 20_000;
const tooManyMachines = `at most ${MAX_MACHINES} machines`;
// A count m-1..m-N, or a list of ids; the list's length is checked after the union (inside it, zod
// would report a list too long as "Invalid input").
const machinesSchema = z
  .union([
    posInt.max(MAX_MACHINES, tooManyMachines),
    z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).min(1),
  ])
  .refine((m) => typeof m === 'number' || m.length <= MAX_MACHINES, tooManyMachines);
// Rule values may reference capture groups of the rule's pattern: "$1".
const captureRef = z.string().regex(/^\$\d$/, 'a capture reference like "$1"');

export const errorFaultSchema = z.strictObject({
  // 4xx faults stand for what a client must not retry: a refused request, a revoked key, a run gone.
  status: z.union([
    z.literal(400),
    z.literal(401),
    z.literal(403),
    z.literal(404),
    z.literal(409),
    z.literal(429),
    z.literal(500),
    z.literal(502),
    z.literal(503),
  ]),
  rate,
  retryAfterSeconds: nonNegInt.optional(),
  endpoints: endpointList,
});

export const faultsSchema = z.strictObject({
  seed: nonNegInt.optional(),
  delayHeadersMs: nonNegInt.optional(),
  delayEndpoints: endpointList,
  errors: z.array(errorFaultSchema).optional(),
  lostResponses: z.strictObject({ rate, endpoints: endpointList }).optional(),
  stream: z
    .strictObject({
      dropAfterEvents: posInt.optional(),
      dropProbability: rate.optional(),
      maxDrops: nonNegInt.optional(),
      resendOnResume: nonNegInt.optional(),
      malformed: z.enum(MALFORMED_MODES).optional(),
    })
    .optional(),
});
export type FaultConfig = z.infer<typeof faultsSchema>;
export type ErrorFault = z.infer<typeof errorFaultSchema>;

const runErrorSchema = z.strictObject({ type: z.string().min(1), message: z.string().min(1) });

export const behaviourSchema = z.strictObject({
  steps: posInt.optional(),
  humanAt: z.union([posInt, z.array(posInt)]).optional(),
  holdAt: z.union([posInt, z.array(posInt)]).optional(),
  failAt: posInt.optional(),
  forever: z.boolean().optional(),
  paceMs: nonNegInt.optional(),
  result: z.string().optional(),
  humanReason: z.string().optional(),
  error: runErrorSchema.optional(),
});
export type Behaviour = z.infer<typeof behaviourSchema>;

export const ruleSchema = z.strictObject({
  pattern: z.string().min(1),
  flags: z
    .string()
    .regex(/^[imsu]*$/)
    .optional(),
  behaviour: z.strictObject({
    steps: z.union([posInt, captureRef]).optional(),
    humanAt: z.union([posInt, z.array(posInt), captureRef]).optional(),
    holdAt: z.union([posInt, z.array(posInt), captureRef]).optional(),
    failAt: z.union([posInt, captureRef]).optional(),
    forever: z.boolean().optional(),
    paceMs: z.union([nonNegInt, captureRef]).optional(),
    result: z.string().optional(),
    humanReason: z.string().optional(),
    error: runErrorSchema.optional(),
  }),
});
export type AgentRule = z.infer<typeof ruleSchema>;

export const configInputSchema = z.strictObject({
  seed: nonNegInt.optional(),
  machines: machinesSchema.optional(),
  apiKeys: z.array(z.string().min(1)).optional(),
  agent: z
    .strictObject({
      paceMs: nonNegInt.optional(),
      minSteps: posInt.optional(),
      maxSteps: posInt.optional(),
      humanReason: z.string().min(1).optional(),
      rules: z.array(ruleSchema).optional(),
      defaultRules: z.boolean().optional(),
    })
    .optional(),
  stream: z
    .strictObject({
      retryMs: nonNegInt.optional(),
      retryJitterMs: nonNegInt.optional(),
      keepaliveMs: posInt.max(15000).optional(),
      maxOpenPerKey: posInt.nullable().optional(),
    })
    .optional(),
  rateLimit: z
    .strictObject({ requestsPerSecond: z.number().positive(), burst: posInt })
    .nullable()
    .optional(),
  limits: z.strictObject({ maxBodyBytes: posInt.optional(), maxTaskChars: posInt.optional() }).optional(),
  webhooks: z
    .strictObject({
      secret: z.string().min(1).optional(),
      maxAttempts: z.number().int().min(5).optional(),
      backoffBaseMs: nonNegInt.optional(),
      backoffMaxMs: nonNegInt.optional(),
      timeoutMs: posInt.optional(),
    })
    .optional(),
  retentionMs: posInt.optional(),
  idempotencyTtlMs: posInt.optional(),
  faults: faultsSchema.optional(),
});
export type EmulatorConfigInput = z.input<typeof configInputSchema>;

export interface EmulatorConfig {
  seed: number;
  machines: string[];
  apiKeys: string[];
  agent: {
    paceMs: number;
    minSteps: number;
    maxSteps: number;
    humanReason: string;
    rules: AgentRule[];
    defaultRules: boolean;
  };
  stream: { retryMs: number; retryJitterMs: number; keepaliveMs: number; maxOpenPerKey: number | null };
  rateLimit: { requestsPerSecond: number; burst: number } | null;
  limits: { maxBodyBytes: number; maxTaskChars: number };
  webhooks: {
    secret: string;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    timeoutMs: number;
  };
  retentionMs: number;
  idempotencyTtlMs: number;
  faults: FaultConfig;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export function defaultConfig(): EmulatorConfig {
  return {
    seed: 1,
    machines: machineIds(4),
    apiKeys: [],
    agent: {
      paceMs: 300,
      minSteps: 4,
      maxSteps: 8,
      humanReason: 'The next action has an effect a person should approve',
      rules: [],
      defaultRules: true,
    },
    stream: { retryMs: 1000, retryJitterMs: 1000, keepaliveMs: 10000, maxOpenPerKey: 10000 },
    rateLimit: null,
    limits: { maxBodyBytes: 1024 * 1024, maxTaskChars: 10000 },
    webhooks: {
      secret: 'whsec_emulator',
      maxAttempts: 6,
      backoffBaseMs: 1000,
      backoffMaxMs: 60000,
      timeoutMs: 10000,
    },
    retentionMs: DAY_MS,
    idempotencyTtlMs: DAY_MS,
    faults: {},
  };
}

export function machineIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m-${i + 1}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseConfigInput(input: unknown, source: string): EmulatorConfigInput {
  const parsed = configInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new ConfigError(`invalid emulator configuration in ${source}:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export function parseFaults(input: unknown): FaultConfig {
  const parsed = faultsSchema.safeParse(input ?? {});
  if (!parsed.success) throw new ConfigError(z.prettifyError(parsed.error));
  return parsed.data;
}

export async function loadConfigFile(path: string): Promise<EmulatorConfigInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read emulator config ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `emulator config ${path} is not valid ${extname(path) || 'YAML'}: ${(err as Error).message}`,
    );
  }
  return parseConfigInput(data, path);
}

// Later inputs win; nested sections merge field by field, lists are replaced.
export function resolveConfig(...inputs: Array<EmulatorConfigInput | undefined>): EmulatorConfig {
  const config = defaultConfig();
  for (const raw of inputs) {
    if (!raw) continue;
    const input = parseConfigInput(raw, 'options');
    if (input.seed !== undefined) config.seed = input.seed;
    if (input.machines !== undefined) {
      config.machines = typeof input.machines === 'number' ? machineIds(input.machines) : [...input.machines];
    }
    if (input.apiKeys) config.apiKeys = [...input.apiKeys];
    if (input.agent) Object.assign(config.agent, stripUndefined(input.agent));
    if (input.stream) Object.assign(config.stream, stripUndefined(input.stream));
    if (input.rateLimit !== undefined) config.rateLimit = input.rateLimit;
    if (input.limits) Object.assign(config.limits, stripUndefined(input.limits));
    if (input.webhooks) Object.assign(config.webhooks, stripUndefined(input.webhooks));
    if (input.retentionMs !== undefined) config.retentionMs = input.retentionMs;
    if (input.idempotencyTtlMs !== undefined) config.idempotencyTtlMs = input.idempotencyTtlMs;
    if (input.faults) config.faults = input.faults;
  }
  if (config.agent.minSteps > config.agent.maxSteps) {
    throw new ConfigError(
      `agent.minSteps (${config.agent.minSteps}) is above agent.maxSteps (${config.agent.maxSteps})`,
    );
  }
  if (new Set(config.machines).size !== config.machines.length) {
    throw new ConfigError('machines: ids must be unique');
  }
  for (const rule of config.agent.rules) {
    try {
      new RegExp(rule.pattern, rule.flags);
    } catch (err) {
      throw new ConfigError(
        `agent.rules: pattern ${JSON.stringify(rule.pattern)} is not a valid regex: ${(err as Error).message}`,
      );
    }
  }
  return config;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
