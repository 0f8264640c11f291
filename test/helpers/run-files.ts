// Runs test files in the order given, each in its own process, some at once, and reports with the
// spec reporter: `node --test` sorts its files by name, so the longest files could not start first.
//   node run-files.js --concurrency=4 [--name-pattern=P ...] -- <file.js> ...
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const options = split === -1 ? args : args.slice(0, split);
const files = split === -1 ? [] : args.slice(split + 1);
const valueOf = (arg: string, name: string) =>
  arg.startsWith(`--${name}=`) ? arg.slice(name.length + 3) : undefined;
const concurrency = Number(options.map((arg) => valueOf(arg, 'concurrency')).find(Boolean) ?? 1);
const testNamePatterns = options.flatMap((arg) => valueOf(arg, 'name-pattern') ?? []);

run({ files, concurrency, ...(testNamePatterns.length ? { testNamePatterns } : {}) })
  .on('test:fail', (event) => {
    if (!event.todo) process.exitCode = 1;
  })
  .compose(new spec())
  .pipe(process.stdout);
