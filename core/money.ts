// Money: the runs API bills USD 0.05 a step; we count in integer cents so sums never drift, and
// show dollars with two decimals. Pure and sandbox-safe.

export function usdToCents(usd: number): number {
  return Math.round(usd * 100);
}

export function centsToUsd(cents: number): number {
  return Math.round(cents) / 100;
}

/** `12.50`: cents as dollars, for a person (without the currency). */
export function formatUsd(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** `$12.50`: dollars for a person. */
export function dollars(usd: number): string {
  return `$${usd.toFixed(2)}`;
}
