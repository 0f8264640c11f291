const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in `30m`, `24h`, `1h30m`, `2d`, `90` or 90; undefined if not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const compact = value.replace(/\s+/g, '');
  if (/^\d+$/.test(compact)) return Number(compact) || undefined;
  if (!/^(\d+[smhd])+$/.test(compact)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+)([smhd])/g))
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  return seconds > 0 ? seconds : undefined;
}
