// The chaos suite: every scenario in turn, each with its own emulator and workers, everything it
// started stopped before the next one. Used by test/chaos/run.ts and the short form in npm test (test/chaos/short-form.ts).
import type { ChaosContext } from './lib/context';
import { suiteTag } from './lib/context';
import { machineFacts } from './lib/report';
import { emptyRow, rowPassed, type ChaosReport, type ChaosRow } from './lib/types';
import { faultsAfterCreation } from './scenarios/after-creation';
import { badApiBodies, badCliArguments, badProcessFiles } from './scenarios/bad-input';
import { errorStorms } from './scenarios/error-storms';
import { malformedStreams } from './scenarios/malformed';
import { serverKilled } from './scenarios/server-kill';
import { streamDropsAtRandom, streamDropsEveryK } from './scenarios/stream-drops';
import { webhookFaults } from './scenarios/webhooks';
import { workerKilled } from './scenarios/worker-kill';

export interface ScenarioEntry {
  name: string;
  run(ctx: ChaosContext): Promise<ChaosRow | ChaosRow[]>;
}

export const SCENARIOS: ScenarioEntry[] = [
  { name: 'worker-kill', run: workerKilled },
  { name: 'server-kill', run: serverKilled },
  { name: 'drops', run: async (ctx) => [await streamDropsEveryK(ctx), await streamDropsAtRandom(ctx)] },
  { name: 'storms', run: errorStorms },
  { name: 'malformed', run: malformedStreams },
  { name: 'after-creation', run: faultsAfterCreation },
  { name: 'webhooks', run: webhookFaults },
  {
    name: 'bad-input',
    run: async (ctx) => [await badApiBodies(ctx), await badProcessFiles(ctx), await badCliArguments(ctx)],
  },
];

export interface SuiteOptions {
  n: number;
  long: boolean;
  temporalAddress: string;
  /** Scenario names (see SCENARIOS); default all. */
  only?: string[];
  log?: (line: string) => void;
}

let activeStops: Array<() => Promise<unknown> | unknown> = [];

/** Stops whatever the running scenario started (for signal handlers). */
export async function stopActiveScenario(): Promise<void> {
  const stops = activeStops.reverse();
  activeStops = [];
  for (const stop of stops)
    await Promise.resolve()
      .then(stop)
      .catch(() => undefined);
}

export async function runChaosSuite(options: SuiteOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const tag = suiteTag();
  const started = Date.now();
  const rows: ChaosRow[] = [];
  const unknown = (options.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  for (const entry of SCENARIOS) {
    if (options.only?.length && !options.only.includes(entry.name)) continue;
    const ctx: ChaosContext = {
      n: options.n,
      long: options.long,
      temporalAddress: options.temporalAddress,
      tag,
      log: (line) => log(`[${entry.name}] ${line}`),
      defer: (stop) => void activeStops.push(stop),
    };
    log(`[${entry.name}] starting (N = ${options.n})`);
    try {
      const result = await entry.run(ctx);
      rows.push(...(Array.isArray(result) ? result : [result]));
    } catch (error) {
      const row = emptyRow(entry.name);
      row.problems.push(`the scenario crashed: ${(error as Error).stack ?? String(error)}`);
      rows.push(row);
      log(`[${entry.name}] crashed: ${(error as Error).message}`);
    } finally {
      await stopActiveScenario();
    }
  }
  return {
    form: options.long ? 'long' : 'short',
    n: options.n,
    machine: machineFacts(),
    seconds: Math.round((Date.now() - started) / 1000),
    ok: rows.every(rowPassed),
    rows,
  };
}
