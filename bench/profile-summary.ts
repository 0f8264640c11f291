// Summarizes a V8 .cpuprofile (node --cpu-prof, or the inspector): self time by file and by function,
// and by coarse buckets for the stream benchmark's "where the time goes" table.
//   node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  functionName: string;
  /** node_modules/<pkg>/..., a project path, node:..., or '' for native frames. */
  file: string;
  line: number;
}

export function loadProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'node_modules/')
    .replace(/^.*?\/(activities|api|bench|emulator|workflows|worker|client|dev)\//, '$1/');

/** Self time in microseconds, summed by `key(frame)`. */
export function selfTime(profile: CpuProfile, key: (frame: Frame) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const k = key({ functionName, file: url ? shortUrl(url) : '', line: lineNumber + 1 });
    out.set(k, (out.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return out;
}

export const packageOf = (f: Frame) =>
  f.file ? f.file.replace(/^(node_modules\/(@[^/]+\/)?[^/]+).*/, '$1') : `(${f.functionName || 'native'})`;

/** Buckets for a stream reader's CPU time. */
export function streamBucket(f: Frame): string {
  const p = packageOf(f);
  // (dispatch) without a file: the inspector session itself (one long sample at the profile's start).
  if (p === '((idle))' || p === '((program))' || p === '(dispatch)') return 'idle';
  if (p === '((garbage collector))') return 'garbage collection';
  // Native frames of the core bridge carry folded Rust symbol names (recordActivityHeartbeat shows as
  // another function of the same machine code), so any of them counts as the bridge.
  if (
    p === 'node_modules/@temporalio/core-bridge' ||
    f.functionName.startsWith('temporal_sdk_typescript_bridge::')
  )
    return 'SDK: native core bridge calls (recordActivityHeartbeat, ...)';
  if (
    /^node_modules\/(@temporalio\/(common|worker|proto)|rxjs|protobufjs|long)$/.test(p) ||
    /^node:(internal\/)?buffer/.test(f.file)
  )
    return 'SDK: heartbeat details to payload, protobuf, rxjs (JS)';
  if (
    /^api\/(stream-events|sse|runs-client)/.test(f.file) ||
    /^node_modules\/(eventsource-parser|undici)$/.test(p) ||
    p === '(decode)' ||
    /^node:internal\/(encoding|streams)/.test(f.file)
  )
    return 'reader: HTTP, SSE parse, JSON.parse, validation (api/)';
  if (/^activities\//.test(f.file)) return 'activity per event: dedupe, summary, redaction (activities/)';
  if (/async_hooks/.test(f.file)) return 'promise hooks (AsyncLocalStorage of the activity context)';
  if (p === '(runMicrotasks)' || /task_queues|node:events/.test(f.file)) return 'microtasks, events';
  return 'other (startup, module loading, timers, ...)';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  if (!positionals[0]) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
  const profile = loadProfile(positionals[0]);
  const top = Number(values.top);
  const show = (title: string, map: Map<string, number>) => {
    const total = [...map.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms sampled)`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(
        `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
      );
    }
  };
  show('self time by bucket', selfTime(profile, streamBucket));
  show('self time by file or package', selfTime(profile, packageOf));
  show(
    'self time by function',
    selfTime(profile, (f) => `${f.functionName || '(anonymous)'}  ${f.file || '(native)'}:${f.line}`),
  );
}
