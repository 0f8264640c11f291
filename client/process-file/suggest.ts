export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate nearest to `word`, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[] | Set<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(word.length / 3));
  if (bestDistance <= tolerance) return best;
  // A shortened name (`vendor` for `vendor_name`) is a likely mistake too.
  const list = [...candidates];
  const prefixed = list.filter((c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()));
  return lower.length >= 3 && prefixed.length === 1 ? prefixed[0] : undefined;
}

export function didYouMean(word: string, candidates: readonly string[] | Set<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : `; did you mean "${match}"?`;
}

/** `; did you mean "x"? (label: a, b)` or `; label: a, b`. */
export function suggestFrom(word: string, candidates: readonly string[], label: string): string {
  const list = `${label}: ${candidates.length > 0 ? candidates.join(', ') : 'none'}`;
  const match = closest(word, candidates);
  return match === undefined ? `; ${list}` : `; did you mean "${match}"? (${list})`;
}
