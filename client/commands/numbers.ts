import { InvalidArgumentError } from 'commander';
import { centsToUsd, usdToCents } from '../../core/money';

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got "${value}"`);
  return parsed;
}

export function positiveUsd(value: string): number {
  const parsed = Number(value.replace(/^\$/, ''));
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError(`expected an amount in USD > 0, got "${value}"`);
  return centsToUsd(usdToCents(parsed));
}
