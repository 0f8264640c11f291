// docs/grafana-dashboard.json queries only metrics the workers export: every coasty_* name in it is
// one of METRIC_NAMES (with Prometheus's _total, _bucket, _count or _sum), and every panel has a query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRIC_NAMES } from '../../workflows/names';

const dashboard = JSON.parse(
  readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

test('the Grafana dashboard queries only the metrics the workers export', () => {
  const known = new Set<string>(Object.values(METRIC_NAMES));
  const used = dashboard.panels.flatMap((panel) =>
    panel.targets.flatMap((target) => target.expr.match(/coasty_[a-z_]+/g) ?? []),
  );
  assert.ok(used.length >= 8, 'the dashboard has its queries');
  const unknown = used.filter((name) => !known.has(name.replace(/_(total|bucket|count|sum)$/, '')));
  assert.deepEqual(unknown, []);
  for (const panel of dashboard.panels) assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
  const inFlight = dashboard.panels
    .flatMap((panel) => panel.targets)
    .find((target) => target.expr.includes(METRIC_NAMES.runsInFlight));
  assert.match(inFlight?.expr ?? '', /by \(status\)/, 'runs in flight are split by status');
  for (const name of [
    'runsCreated',
    'costCents',
    'approvalWait',
    'streamReconnects',
    'streamRetries',
    'runsInFlight',
    'oldestApprovalWait',
  ] as const)
    assert.ok(
      used.some((metric) => metric.startsWith(METRIC_NAMES[name])),
      `${METRIC_NAMES[name]} is on the dashboard`,
    );
});
