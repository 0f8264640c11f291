// Templating for tasks and approval questions. Runs inside the workflow sandbox: pure code.
//
//   {{input.<name>}}                      a declared input
//   {{steps.<id>.result|status|cost_usd}} an earlier agent step's outcome (chains)
//   {{item.<field>}}                      a field of the current item (batches)
//   {{secret.NAME}}                       left as is; the createRun activity substitutes it
//
// Spaces inside the braces are allowed: {{ input.vendor }}.
import { SECRET_NAME } from '../core/secrets';
import type { InputValue, JsonValue } from './process-types';

export const STEP_PROPERTIES = ['result', 'status', 'cost_usd'] as const;
export type StepProperty = (typeof STEP_PROPERTIES)[number];

interface RefBase {
  /** The reference exactly as written, braces included. */
  raw: string;
  /** Offset of `raw` in the template. */
  index: number;
}

export type TemplateRef =
  | (RefBase & { kind: 'input'; name: string })
  | (RefBase & { kind: 'step'; stepId: string; property: StepProperty })
  | (RefBase & { kind: 'item'; field: string })
  | (RefBase & { kind: 'secret'; name: string })
  | (RefBase & { kind: 'invalid'; reason: string });

export type TemplateRefKind = TemplateRef['kind'];

export interface TemplateStepOutput {
  status: string;
  result: string | null;
  costUsd: number;
}

export interface TemplateContext {
  input?: Record<string, InputValue>;
  steps?: Record<string, TemplateStepOutput>;
  item?: Record<string, JsonValue>;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const STEP_ID = /^[a-z0-9][a-z0-9_-]*$/;

const REF = /\{\{([^{}]*)\}\}|\{\{/g;
const SECRET_LIKE = /\{\{(?=\s*secret\s*\.)/g;
const KINDS = ['input', 'steps', 'item', 'secret'] as const;
const KIND_ALIASES: Record<string, string> = {
  inputs: 'input',
  step: 'steps',
  items: 'item',
  secrets: 'secret',
  env: 'secret',
};

export function listTemplateRefs(template: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of template.matchAll(REF)) {
    const raw = match[0];
    const index = match.index ?? 0;
    const inner = match[1];
    refs.push(
      inner === undefined
        ? invalid(raw, index, 'has "{{" without a matching "}}"')
        : parseRef(raw, index, inner.trim()),
    );
  }
  return refs;
}

function invalid(raw: string, index: number, reason: string): TemplateRef {
  return { kind: 'invalid', raw, index, reason };
}

function parseRef(raw: string, index: number, expr: string): TemplateRef {
  const dot = expr.indexOf('.');
  const head = dot < 0 ? expr : expr.slice(0, dot);
  const rest = dot < 0 ? '' : expr.slice(dot + 1).trim();
  switch (head) {
    case 'input':
      if (!INPUT_NAME.test(rest))
        return invalid(raw, index, `${raw}: expected {{input.<name>}} with a name of letters, digits and _`);
      return { kind: 'input', name: rest, raw, index };
    case 'steps': {
      const parts = rest.split('.');
      const [stepId = '', property, ...extra] = parts;
      if (!STEP_ID.test(stepId)) return invalid(raw, index, `${raw}: expected {{steps.<step id>.result}}`);
      if (property === undefined)
        return invalid(raw, index, `${raw}: say which output, e.g. {{steps.${stepId}.result}}`);
      if (!isStepProperty(property) || extra.length > 0) {
        return invalid(
          raw,
          index,
          `${raw}: a step has ${STEP_PROPERTIES.join(', ')}; e.g. {{steps.${stepId}.result}}`,
        );
      }
      return { kind: 'step', stepId, property, raw, index };
    }
    case 'item':
      if (rest === '') return invalid(raw, index, `${raw}: expected {{item.<field>}}`);
      return { kind: 'item', field: rest, raw, index };
    case 'secret':
      if (!SECRET_NAME.test(rest)) {
        return invalid(
          raw,
          index,
          `${raw}: a secret name is upper-case letters, digits and _ (the worker reads COASTY_SECRET_<NAME>), e.g. {{secret.${rest.toUpperCase().replace(/[^A-Z0-9_]/g, '_') || 'PORTAL_PASSWORD'}}}`,
        );
      }
      return { kind: 'secret', name: rest, raw, index };
    default: {
      const alias = KIND_ALIASES[head];
      const hint = alias
        ? `did you mean {{${alias}.${rest}}}?`
        : `expected one of ${KINDS.map((k) => `{{${k}.…}}`).join(', ')}`;
      return invalid(raw, index, `${raw} is not a known reference; ${hint}`);
    }
  }
}

function isStepProperty(value: string): value is StepProperty {
  return (STEP_PROPERTIES as readonly string[]).includes(value);
}

/** Renders every reference except secrets; throws a TemplateError for anything unknown. */
export function renderTemplate(template: string, context: TemplateContext): string {
  const values = new Map<number, string>();
  for (const ref of listTemplateRefs(template)) {
    const value = resolveRef(ref, context);
    if (value !== undefined) values.set(ref.index, value);
  }
  return template.replace(
    REF,
    (raw: string, _inner: string | undefined, offset: number) => values.get(offset) ?? raw,
  );
}

function resolveRef(ref: TemplateRef, context: TemplateContext): string | undefined {
  switch (ref.kind) {
    case 'invalid':
      throw new TemplateError(ref.reason);
    case 'secret':
      return undefined;
    case 'input': {
      const inputs = context.input ?? {};
      if (!Object.hasOwn(inputs, ref.name))
        throw new TemplateError(`${ref.raw}: no input "${ref.name}" was given`);
      return neutralize(String(inputs[ref.name]));
    }
    case 'step': {
      const steps = context.steps ?? {};
      const step = Object.hasOwn(steps, ref.stepId) ? steps[ref.stepId] : undefined;
      if (!step) throw new TemplateError(`${ref.raw}: step "${ref.stepId}" has no outcome yet`);
      if (ref.property === 'status') return step.status;
      if (ref.property === 'cost_usd') return step.costUsd.toFixed(2);
      return neutralize(step.result ?? '');
    }
    case 'item': {
      const item = context.item;
      if (!item) throw new TemplateError(`${ref.raw}: {{item.…}} is only available in a batch`);
      if (!Object.hasOwn(item, ref.field))
        throw new TemplateError(`${ref.raw}: the item has no field "${ref.field}"`);
      const value = item[ref.field];
      if (value === null || value === undefined) return '';
      return neutralize(typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
  }
}

// A value (an agent's result, a CSV cell) must not smuggle in a {{secret.X}} that the
// activity would then fill in: break the braces of anything that looks like one.
function neutralize(value: string): string {
  return value.replace(SECRET_LIKE, '{ {');
}
