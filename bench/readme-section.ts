// Replaces a generated block of README.md, between `<!-- generated:NAME -->` and
// `<!-- /generated:NAME -->`, so measured numbers reach the README only through the scripts that
// measure them (`npm run bench`, `npm run test:chaos`), formatted as `npm run lint` expects.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { ROOT } from './lib';

export const README_PATH = join(ROOT, 'README.md');

export async function writeReadmeSection(
  name: string,
  markdown: string,
  path: string = README_PATH,
): Promise<void> {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const text = await readFile(path, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`${path} has no block "${start}" ... "${end}" to write the ${name} results into`);
  }
  const next = `${text.slice(0, from + start.length)}\n\n${markdown.trim()}\n\n${text.slice(to)}`;
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(path, await prettier.format(next, { ...options, parser: 'markdown' }));
}
