// Scenario 5: malformed streams, one phase per mode of the emulator. Each run either completes
// (the reader tolerates garbage lines and events without SSE ids; a wrong content type or an HTML
// page with status 200 is retried until the fault goes away) or fails with a clear typed error
// (non-JSON data, an event without an id such as the 2 MB one: CoastyStreamProtocol, not retried,
// since the same bytes would come back).
import { MALFORMED_MODES, type MalformedMode } from '../../../emulator/config';
import { waitUntil } from '../../helpers/wait';
import { startScenarioStack, type ChaosContext } from '../lib/context';
import { settleAll, startRuns } from '../lib/runs';
import { emptyRow, type ChaosRow } from '../lib/types';
import { scanForLeaks, verifyAgainstTruth } from '../lib/verify';

interface Expectation {
  outcome: 'completed' | 'typed';
  /** The fault is cleared once every run met it (retryable modes). */
  transient?: boolean;
  /** Also cut the stream every k events: resuming must work in this mode too. */
  dropAfterEvents?: number;
}

export const MALFORMED_EXPECTATIONS: Record<MalformedMode, Expectation> = {
  garbage_lines: { outcome: 'completed', dropAfterEvents: 6 },
  non_json_data: { outcome: 'typed' },
  // Without SSE ids the client resumes from the event's own id (its data's "id").
  missing_ids: { outcome: 'completed', dropAfterEvents: 6 },
  huge_event: { outcome: 'typed' },
  wrong_content_type: { outcome: 'completed', transient: true },
  html_error_200: { outcome: 'completed', transient: true },
};

export async function malformedStreams(
  ctx: ChaosContext,
  modes: readonly MalformedMode[] = MALFORMED_MODES,
): Promise<ChaosRow[]> {
  const stack = await startScenarioStack(ctx, { label: 'malformed' });
  const rows: ChaosRow[] = [];
  for (const mode of modes) {
    const expected = MALFORMED_EXPECTATIONS[mode];
    const row = emptyRow(`malformed: ${mode}`);
    const countersBefore = await stack.emulator.admin.counters();
    await stack.emulator.admin.setFaults({
      stream: {
        malformed: mode,
        ...(expected.dropAfterEvents ? { dropAfterEvents: expected.dropAfterEvents } : {}),
      },
    });
    const started = Date.now();
    const runs = await startRuns(stack, {
      n: ctx.n,
      prefix: mode,
      shape: { steps: 20, paceMs: 3 },
    });
    const settling = settleAll(stack, runs, 120_000 * (ctx.long ? 3 : 1));
    if (expected.transient) {
      // Every run's stream meets the fault at least twice (first attempt and one retry), then the
      // "proxy" goes away and the retries get through.
      await waitUntil(
        `every run to meet ${mode}`,
        async () =>
          (await stack.emulator.admin.counters()).stream_connections >=
          countersBefore.stream_connections + 2 * ctx.n,
        60_000,
        100,
      ).catch((error: Error) => row.problems.push(error.message));
      await stack.emulator.admin.clearFaults();
    }
    const outcomes = await settling;
    row.seconds = Math.round((Date.now() - started) / 100) / 10;
    await stack.emulator.admin.clearFaults();
    await verifyAgainstTruth(stack, row, { runs, outcomes, countersBefore });
    const wrong = outcomes.filter(
      (o) => o.kind !== expected.outcome || (o.kind === 'typed' && o.type !== 'CoastyStreamProtocol'),
    );
    if (wrong.length > 0) {
      const first = wrong[0]!;
      row.problems.push(
        `${wrong.length} run(s) did not end ${expected.outcome === 'typed' ? 'with CoastyStreamProtocol' : 'completed'}, ` +
          `e.g. ${first.workflowId}: ${first.kind === 'typed' ? first.type : first.kind}`,
      );
    }
    if (expected.dropAfterEvents && row.reconnects < row.completed) {
      row.problems.push(`${row.reconnects} reconnects for ${row.completed} runs: the drops did not happen`);
    }
    if (expected.dropAfterEvents && row.retries > 0) {
      row.problems.push(`${row.retries} stream retries: a drop must cost a reconnect, not a retry`);
    }
    if (expected.transient && row.retries < row.runs) {
      row.problems.push(`${row.retries} stream retries for ${row.runs} runs: the fault was not met`);
    }
    const typed = outcomes.find((o) => o.kind === 'typed');
    if (typed?.kind === 'typed') row.notes.push(`e.g. ${typed.type}: ${typed.message.slice(0, 160)}`);
    await scanForLeaks(
      stack,
      row,
      runs.map((run) => run.workflowId),
    );
    ctx.log(
      `${row.scenario}: ${row.completed} completed, ${row.typedErrors} typed errors, ${row.lost} lost, ` +
        `${row.duplicated} duplicated, ${row.reconnects} reconnects, ${row.retries} retries, ${row.seconds} s`,
    );
    rows.push(row);
  }
  return rows;
}
