// The simulated agent: what a run will do (its plan) and what each step looks like.
import type { RunError, StepAction } from '../api/types';
import type { AgentRule, Behaviour, EmulatorConfig } from './config';
import { createPrng, hashSeed, type Prng } from './prng';

export interface AgentPlan {
  steps: number;
  humanAt: number[];
  /** Steps before which the run waits until the admin API releases it; steps + 1: before its end. */
  holdAt: number[];
  failAt: number | null;
  forever: boolean;
  paceMs: number;
  result: string;
  humanReason: string;
  error: RunError;
}

export interface AgentStep {
  action: StepAction;
  observation: string;
}

// Rules are tried in order; for each behaviour field the first matching rule that sets it wins.
export const DEFAULT_RULES: AgentRule[] = [
  { pattern: '\\[steps=(\\d+)\\]', behaviour: { steps: '$1' } },
  { pattern: '\\[human@(\\d+(?:,\\d+)*)\\]', behaviour: { humanAt: '$1' } },
  { pattern: '\\[hold@(\\d+(?:,\\d+)*)\\]', behaviour: { holdAt: '$1' } },
  { pattern: '\\[fail@(\\d+)\\]', behaviour: { failAt: '$1' } },
  { pattern: '\\[forever\\]', behaviour: { forever: true } },
  { pattern: '\\[pace=(\\d+)\\]', behaviour: { paceMs: '$1' } },
  { pattern: '\\bapprov(?:e|al)\\b', flags: 'i', behaviour: { humanAt: 3 } },
];

const DIRECTIVE = /\[(?:steps=\d+|human@[\d,]+|hold@[\d,]+|fail@\d+|forever|pace=\d+)\]/g;

export function rulesFor(config: EmulatorConfig): AgentRule[] {
  return config.agent.defaultRules ? [...config.agent.rules, ...DEFAULT_RULES] : [...config.agent.rules];
}

export function behaviourFromRules(task: string, rules: readonly AgentRule[]): Behaviour {
  const out: Behaviour = {};
  for (const rule of rules) {
    const match = new RegExp(rule.pattern, rule.flags).exec(task);
    if (!match) continue;
    const b = rule.behaviour;
    const ref = (value: number | string): string =>
      typeof value === 'string' ? (match[Number(value.slice(1))] ?? '') : String(value);
    const int = (value: number | string): number | undefined => {
      const n = Number.parseInt(ref(value), 10);
      return Number.isFinite(n) ? n : undefined;
    };
    if (b.steps !== undefined && out.steps === undefined) out.steps = positive(int(b.steps));
    if (b.humanAt !== undefined && out.humanAt === undefined) {
      out.humanAt = stepList(b.humanAt, task, rule);
    }
    if (b.holdAt !== undefined && out.holdAt === undefined) out.holdAt = stepList(b.holdAt, task, rule);
    if (b.failAt !== undefined && out.failAt === undefined) out.failAt = positive(int(b.failAt));
    if (b.forever !== undefined && out.forever === undefined) out.forever = b.forever;
    if (b.paceMs !== undefined && out.paceMs === undefined) out.paceMs = int(b.paceMs);
    if (b.result !== undefined && out.result === undefined) out.result = b.result;
    if (b.humanReason !== undefined && out.humanReason === undefined) out.humanReason = b.humanReason;
    if (b.error !== undefined && out.error === undefined) out.error = b.error;
  }
  return out;
}

// A directive may appear several times ("[human@2] ... [human@5]"): every occurrence counts.
function stepList(value: number | number[] | string, task: string, rule: AgentRule): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value;
  const group = Number(value.slice(1));
  const all = task.matchAll(new RegExp(rule.pattern, `${rule.flags ?? ''}g`));
  return [...all]
    .flatMap((m) => (m[group] ?? '').split(',').map((s) => Number.parseInt(s, 10)))
    .filter((n) => n >= 1);
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n >= 1 ? n : undefined;
}

export function planRun(
  task: string,
  config: EmulatorConfig,
  runSeed: number,
  script?: Behaviour,
): AgentPlan {
  const b: Behaviour = { ...behaviourFromRules(task, rulesFor(config)), ...stripUndefined(script ?? {}) };
  const prng = createPrng(hashSeed(runSeed, 'plan'));
  const humanAt = sortedSteps(b.humanAt);
  const holdAt = sortedSteps(b.holdAt);
  const failAt = b.failAt ?? null;
  const steps = Math.max(
    b.steps ?? prng.int(config.agent.minSteps, config.agent.maxSteps),
    failAt ?? 0,
    humanAt[humanAt.length - 1] ?? 0,
    (holdAt[holdAt.length - 1] ?? 1) - 1,
  );
  return {
    steps,
    humanAt,
    holdAt,
    failAt,
    forever: b.forever ?? false,
    paceMs: b.paceMs ?? config.agent.paceMs,
    result: b.result ?? resultText(task, steps, prng),
    humanReason: b.humanReason ?? config.agent.humanReason,
    error: b.error ?? {
      type: 'agent_error',
      message: `step ${failAt ?? '?'}: the page did not respond as expected (element not found)`,
    },
  };
}

function sortedSteps(value: number | number[] | undefined): number[] {
  return [...new Set(typeof value === 'number' ? [value] : (value ?? []))].sort((x, y) => x - y);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const SITES = [
  'portal.example.com',
  'erp.example.com',
  'crm.example.com',
  'invoices.example.org',
  'shop.example.net',
];
const PAGES = [
  'login',
  'dashboard',
  'invoices',
  'uploads',
  'orders/new',
  'settings/profile',
  'reports',
  'approvals',
];
const LABELS = [
  'Sign in',
  'Submit',
  'Next',
  'Upload',
  'Save',
  'Search',
  'Confirm',
  'Open details',
  'Continue',
];
const FIELDS = ['email', 'search', 'invoice number', 'amount', 'reference', 'comment'];
const KEYS = ['Enter', 'Tab', 'Escape', 'Control+S', 'PageDown'];
const TYPED = [
  'ops@example.com',
  'INV-2024-0042',
  '1,250.00',
  'Q3 report',
  'approved by finance',
  'ACME GmbH',
];

export function siteFor(task: string): string {
  const url = /https?:\/\/[^\s"'<>)\]]+/.exec(task)?.[0];
  if (url) return url.replace(/[.,;:]+$/, '');
  return `https://${SITES[hashSeed(task) % SITES.length]}`;
}

export function stepAt(task: string, runSeed: number, n: number): AgentStep {
  const prng = createPrng(hashSeed(runSeed, 'step', n));
  const site = siteFor(task);
  if (n === 1) {
    return {
      action: { type: 'navigate', url: site },
      observation: `The start page of ${hostOf(site)} loaded.`,
    };
  }
  return randomStep(prng, site);
}

function randomStep(prng: Prng, site: string): AgentStep {
  const kind = prng.pick([
    'click',
    'click',
    'type',
    'type',
    'navigate',
    'scroll',
    'key',
    'screenshot',
    'wait',
  ] as const);
  const x = prng.int(16, 1264);
  const y = prng.int(16, 784);
  switch (kind) {
    case 'click': {
      const label = prng.pick(LABELS);
      return {
        action: { type: 'click', x, y, target: label },
        observation: `Clicked "${label}"; the page updated.`,
      };
    }
    case 'type': {
      const field = prng.pick(FIELDS);
      const text = prng.pick(TYPED);
      return {
        action: { type: 'type', text, x, y, field },
        observation: `Typed "${text}" into the ${field} field.`,
      };
    }
    case 'navigate': {
      const url = `${site.replace(/\/+$/, '')}/${prng.pick(PAGES)}`;
      return { action: { type: 'navigate', url }, observation: `Opened ${url}; the page finished loading.` };
    }
    case 'scroll': {
      const deltaY = prng.pick([-600, -300, 300, 600, 900]);
      return {
        action: { type: 'scroll', x, y, delta_y: deltaY },
        observation: `Scrolled ${deltaY > 0 ? 'down' : 'up'}; more of the list is visible.`,
      };
    }
    case 'key': {
      const key = prng.pick(KEYS);
      return { action: { type: 'key', text: key }, observation: `Pressed ${key}.` };
    }
    case 'screenshot':
      return {
        action: { type: 'screenshot' },
        observation: 'Took a screenshot to check the current state of the page.',
      };
    case 'wait': {
      const seconds = prng.int(1, 3);
      return {
        action: { type: 'wait', seconds },
        observation: `Waited ${seconds} s for the page to settle.`,
      };
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

// What the agent reports, as a person would: the task's first sentence without directives and
// without the text it quotes (often an earlier run's result, which must not nest inside this one),
// shortened at a word.
export function resultText(task: string, steps: number, prng: Prng): string {
  const [first = ''] = task
    .replace(DIRECTIVE, '')
    .replace(/"[^"]*"|\u201c[^\u201d]*\u201d/g, '')
    .split(/(?<=[.!?])\s/);
  const summary = first
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/[\s,.;:]+$/, '')
    .trim();
  const cut = summary.length > 120 ? summary.lastIndexOf(' ', 117) : -1;
  const short = cut > 0 ? `${summary.slice(0, cut).replace(/[\s,.;:]+$/, '')}...` : summary;
  const ref = `REF-${prng.int(10000, 99999)}`;
  return `Done in ${steps} steps: ${short || 'the task'}${/[.!?]$/.test(short) ? '' : '.'} Confirmation ${ref}.`;
}
