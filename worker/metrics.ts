// The worker's Prometheus endpoint: the SDK's own worker metrics and ours (workflows/metrics.ts),
// both recorded through the SDK's meter, on one `/metrics`. The runtime is process-wide and is set
// once, before the first connection.
import { Runtime, type TelemetryOptions } from '@temporalio/worker';
import { METRIC_NAMES } from '../workflows/names';

export const METRICS_PORT_VARIABLE = 'COASTY_METRICS_PORT';

/** Seconds: up to a minute, ten, half an hour, one, four and twenty-four hours, three days. */
export const APPROVAL_WAIT_BUCKETS = [1, 10, 60, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600];

/** The port from `--metrics-port` or COASTY_METRICS_PORT; undefined for none. Throws a clear error for a bad one. */
export function metricsPortOf(
  flag: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  if (flag !== undefined) return flag;
  const raw = env[METRICS_PORT_VARIABLE]?.trim();
  if (!raw) return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535)
    throw new Error(`${METRICS_PORT_VARIABLE} must be a port from 1 to 65535, got "${raw}"`);
  return port;
}

/** The runtime's telemetry that serves metrics on http://<host>:<port>/metrics, and that address. */
export function metricsTelemetry(
  port: number,
  host = '127.0.0.1',
): { telemetryOptions: TelemetryOptions; url: string } {
  return {
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress: `${host}:${port}`,
          countersTotalSuffix: true,
          useSecondsForDurations: true,
          // A person answers in seconds to days, not in the SDK's default 50 ms to 10 s.
          histogramBucketOverrides: { [METRIC_NAMES.approvalWait]: APPROVAL_WAIT_BUCKETS },
        },
      },
    },
    url: `http://${host}:${port}/metrics`,
  };
}

/** Serves metrics for this process (installs the SDK runtime: before the first connection); returns the address. */
export function installMetrics(port: number, host = '127.0.0.1'): string {
  const { telemetryOptions, url } = metricsTelemetry(port, host);
  Runtime.install({ telemetryOptions });
  return url;
}
