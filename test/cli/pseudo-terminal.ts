// `coasty-temporal <args>` on a pseudo-terminal (util-linux `script`), for the tests of what a person
// sees in a real terminal: the live view, the inline prompt, hostile agent text.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { waitUntil } from '../helpers/wait';
import { cliNodeArgs } from '../helpers/test-build';

export const hasScript = spawnSync('script', ['--version']).status === 0;

const open = new Set<ChildProcess>();

/** Kills every terminal still open (an `after` hook's job). */
export function killAllTerminals(): void {
  for (const child of open) child.kill('SIGKILL');
}

/** Everything written to the terminal is in `screen()`; `type` types at it. */
export function inTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, ...cliNodeArgs(), ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  open.add(child);
  let screen = '';
  child.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (screen += chunk.toString('utf8')));
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code) => {
      open.delete(child);
      resolve(code ?? -1);
    }),
  );
  return {
    exited,
    screen: () => screen,
    type: (text: string) => child.stdin!.write(text),
    waitFor: (pattern: RegExp) =>
      waitUntil(`${pattern} on the terminal`, () => pattern.test(screen) || undefined, 90_000, 50),
  };
}
