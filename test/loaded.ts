// `npm run test:loaded`: the whole `npm test`, several times in a row, while burner processes keep
// every core busy; then the same on an idle machine. The proof that the suite does not flake.
//   npm run test:loaded                          5 loaded runs, then 2 idle ones
//   npm run test:loaded -- --runs 1 --idle-runs 0 --burners 4
//   npm run test:loaded -- --runs 1 --idle-runs 0 test/unit   (files or folders for test/run.ts)
// Bounded: each burner spins for at most --max-minutes (default 150) and exits by itself even if
// this process dies; all are killed (by pid) when the loaded runs end or on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '5' },
    'idle-runs': { type: 'string', default: '2' },
    burners: { type: 'string', default: String(availableParallelism()) },
    'max-minutes': { type: 'string', default: '150' },
  },
});

function count(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`test:loaded: --${name} must be an integer from ${min} to ${max}, got "${value}"`);
    process.exit(2);
  }
  return n;
}

const loadedRuns = count('runs', values.runs!, 0, 20);
const idleRuns = count('idle-runs', values['idle-runs']!, 0, 20);
const burnerCount = count('burners', values.burners!, 0, 64);
const maxMs = count('max-minutes', values['max-minutes']!, 1, 600) * 60_000;
const runner = fileURLToPath(new URL('./run.ts', import.meta.url));

// A burner spins in 50 ms slices until its own deadline: bounded even if nobody kills it.
const BURN = `const end = Date.now() + Number(process.argv[1]); while (Date.now() < end) { const s = Date.now() + 50; while (Date.now() < s); }`;
let burners: ChildProcess[] = [];

function startBurners(): void {
  burners = Array.from({ length: burnerCount }, () =>
    spawn(process.execPath, ['-e', BURN, String(maxMs)], { stdio: 'ignore' }),
  );
  console.log(`# ${burnerCount} CPU burners started (pids ${burners.map((b) => b.pid).join(', ')})`);
}

function stopBurners(): void {
  for (const burner of burners)
    if (burner.exitCode === null && burner.pid) process.kill(burner.pid, 'SIGKILL');
  if (burners.length) console.log(`# CPU burners stopped`);
  burners = [];
}

let current: ChildProcess | undefined;
// Ctrl-C, or a kill by pid: neither the burners nor the suite outlive this process.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)
  process.on(signal, () => {
    stopBurners();
    current?.kill(signal);
    process.exit(code);
  });

interface RunOutcome {
  label: string;
  code: number;
  seconds: number;
  summary: string;
}

function oneRun(label: string): Promise<RunOutcome> {
  const started = Date.now();
  const counts: Record<string, string> = {};
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...positionals], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    current = child;
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        // The spec reporter's summary, "ℹ pass 417" (TAP's "# pass 417" too).
        const match = /^(?:#|ℹ) (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line.trim());
        if (match) counts[match[1]!] = match[2]!;
      }
    });
    child.on('exit', (code) => {
      const summary = ['tests', 'pass', 'fail', 'cancelled', 'skipped']
        .map((k) => `${k} ${counts[k] ?? '?'}`)
        .join(', ');
      resolve({ label, code: code ?? 1, seconds: Math.round((Date.now() - started) / 1000), summary });
    });
  });
}

const outcomes: RunOutcome[] = [];
if (loadedRuns > 0) startBurners();
try {
  for (let i = 1; i <= loadedRuns; i++) outcomes.push(await oneRun(`loaded ${i}/${loadedRuns}`));
} finally {
  stopBurners();
}
for (let i = 1; i <= idleRuns; i++) outcomes.push(await oneRun(`idle ${i}/${idleRuns}`));

console.log(
  `\n# test:loaded on Node ${process.version}, ${availableParallelism()} cores, ${burnerCount} burners:`,
);
for (const o of outcomes)
  console.log(`#   ${o.label.padEnd(12)} exit ${o.code}  ${o.summary}  ${o.seconds} s`);
const failed = outcomes.filter((o) => o.code !== 0).length;
console.log(
  `# ${failed === 0 ? 'OK' : 'FAILED'}: ${outcomes.length - failed} of ${outcomes.length} runs passed`,
);
process.exit(failed === 0 ? 0 : 1);
