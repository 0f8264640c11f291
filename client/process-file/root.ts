import { basename, extname } from 'node:path';
import type { z } from 'zod';
import { usdToCents } from '../../core/money';
import { describeValue } from './errors';
import type { ResolvedInputs } from './inputs';
import type { IssueList } from './issues';
import { PROCESS_NAME } from './schema';

export interface RootContext {
  name: string;
  description?: string;
  inputs: ResolvedInputs;
  maxCostCents?: number;
}

/** The value of one top-level key if it is valid (the whole-mapping check reports it otherwise). */
export function validField<T extends z.ZodType>(schema: T, value: unknown): z.output<T> | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The valid fields of a mapping whose whole check failed, so that one typo does not cascade. */
export function validFields<T extends z.ZodObject>(schema: T, value: unknown): Partial<z.output<T>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape)) {
    const raw = (value as Record<string, unknown>)[key];
    if (raw === undefined) continue;
    const parsed = (field as z.ZodType).safeParse(raw);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as Partial<z.output<T>>;
}

export function defaultName(filename: string): string {
  const stem = basename(filename, extname(filename))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  const name = stem.slice(0, 64);
  return PROCESS_NAME.test(name) ? name : 'process';
}

export function maxCostCents(usd: number | undefined, issues: IssueList): number | undefined {
  if (usd === undefined) return undefined;
  const cents = usdToCents(usd);
  if (cents < 1) {
    issues.at(['max_cost_usd'], `expected at least 0.01 USD, got ${describeValue(usd)}`);
    return undefined;
  }
  return cents;
}
