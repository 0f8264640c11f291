// Runs a command and makes sure it never outlives whoever started this guard.
// Usage: node orphan-guard.mjs <command> [args...]
// The parent holds our stdin open; when the parent dies for any reason (SIGKILL included) the pipe
// closes and we stop the child: SIGTERM, then SIGKILL after a grace period. Our first stdout line
// is `child-pid <pid>`; the child's own output goes to our stderr.
import { spawn } from 'node:child_process';

const GRACE_MS = Number(process.env.ORPHAN_GUARD_GRACE_MS ?? 5000);
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: orphan-guard.mjs <command> [args...]');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', process.stderr, process.stderr] });
let stopping = false;

child.on('error', (error) => {
  console.error(`orphan-guard: cannot start ${command}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
if (child.pid) process.stdout.write(`child-pid ${child.pid}\n`);

function stop() {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
