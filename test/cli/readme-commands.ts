// The shell commands of README sections: `npx coasty-temporal ...` and `npm run <script> -- ...`
// lines of their ```sh blocks, split into arguments as a shell would (quotes, no expansion), with
// `npm run` resolved through package.json to the CLI's arguments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReadmeCommand {
  /** The line as written (without its comment). */
  line: string;
  /** The arguments after `coasty-temporal`. */
  args: string[];
}

const ROOT = join(import.meta.dirname, '../..');

export function readmeCommands(readme: string, sections: string[]): ReadmeCommand[] {
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const out: ReadmeCommand[] = [];
  for (const title of sections) {
    const body = section(readme, title);
    for (const block of body.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
      for (const raw of block[1]!.split('\n')) {
        const line = withoutComment(raw).trim();
        if (!line || line.startsWith('export ')) continue;
        const words = shellWords(line);
        // Variables before the command (VAR=value npx ...) are the reader's; the tests set their own.
        while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
        if (words[0] === 'npx' && words[1] === 'coasty-temporal') out.push({ line, args: words.slice(2) });
        if (words[0] === 'npm' && words[1] === 'run' && words[2]) {
          const script = scripts[words[2]];
          const cli = script && /^node bin\/coasty-temporal\.js (.*)$/.exec(script);
          if (!cli)
            throw new Error(`README: \`${line}\`: npm script ${words[2]} is not a coasty-temporal command`);
          const rest = words[3] === '--' ? words.slice(4) : words.slice(3);
          out.push({ line, args: [...shellWords(cli[1]!), ...rest] });
        }
      }
    }
  }
  return out;
}

function section(readme: string, title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README: no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

// A `#` that starts a word begins a comment (as in sh); inside quotes it does not.
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
