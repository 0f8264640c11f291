import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ProcessSpec } from '../../workflows/process-types';
import { buildBatch } from './batch';
import { buildChain } from './chain';
import { describeValue, ProcessFileError } from './errors';
import { resolveInputs, type GivenInputs } from './inputs';
import { isMapping, IssueList } from './issues';
import type { ReadTextFile } from './items';
import { defaultName, maxCostCents, validField, type RootContext } from './root';
import { batchRootSchema, chainRootSchema } from './schema';
import { YamlSource } from './source';
import { closest } from './suggest';

export interface ParseOptions {
  /** How the file is named in errors, e.g. `examples/quickstart.yaml`. */
  filename: string;
  /** Where item files (csv:, jsonl:) are looked up. Default: the file's directory. */
  baseDir?: string;
  /** Values for declared inputs, e.g. from `--input name=value`. */
  inputs?: GivenInputs;
  /** Reads an item file; default: from disk. */
  readFile?: ReadTextFile;
}

// Temporal refuses payloads above 2 MB by default; the spec is one workflow argument.
const MAX_SPEC_BYTES = 1_900_000;

export async function loadProcessFile(
  path: string,
  options: { inputs?: GivenInputs } = {},
): Promise<ProcessSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no such file (looked for ${resolve(path)})` : (error as Error).message;
    throw new ProcessFileError(path, [
      { file: path, path: '', message: `cannot read the process file: ${why}` },
    ]);
  }
  return parseProcessText(text, { filename: path, baseDir: dirname(resolve(path)), ...options });
}

/** Parses and validates a whole process file; throws one ProcessFileError listing every problem. */
export async function parseProcessText(text: string, options: ParseOptions): Promise<ProcessSpec> {
  const file = options.filename;
  const source = new YamlSource(text);
  const issues = new IssueList(file, source);
  if (source.problems.length > 0) {
    for (const problem of source.problems)
      issues.items.push({
        file,
        line: problem.line,
        column: problem.column,
        path: '',
        message: problem.message,
      });
    throw new ProcessFileError(file, issues.items);
  }
  const data = source.data;
  if (!isMapping(data)) {
    issues.at(
      [],
      `expected a mapping with steps: (a chain) or items: and task: (a batch), got ${describeValue(data)}`,
    );
    throw new ProcessFileError(file, issues.items);
  }
  const kind = processKind(data, issues);
  if (kind === undefined) throw new ProcessFileError(file, issues.items);

  const rootSchema = kind === 'chain' ? chainRootSchema : batchRootSchema;
  issues.check(rootSchema, data, [], Object.keys(rootSchema.shape));
  const root: RootContext = {
    name: validField(rootSchema.shape.name, data.name) ?? defaultName(file),
    description: validField(rootSchema.shape.description, data.description),
    inputs: resolveInputs(data.inputs, options.inputs ?? {}, issues),
    maxCostCents: maxCostCents(validField(rootSchema.shape.max_cost_usd, data.max_cost_usd), issues),
  };
  if (root.description === undefined) delete root.description;
  if (root.maxCostCents === undefined) delete root.maxCostCents;

  const spec =
    kind === 'chain'
      ? buildChain(data, root, issues)
      : await buildBatch(
          data,
          root,
          { filename: file, baseDir: options.baseDir ?? dirname(resolve(file)), readFile: options.readFile },
          issues,
        );

  if (spec && issues.count === 0) {
    const bytes = Buffer.byteLength(JSON.stringify(spec));
    if (bytes > MAX_SPEC_BYTES) {
      issues.at(
        kind === 'batch' ? ['items'] : [],
        `the process is ${(bytes / 1e6).toFixed(1)} MB as a workflow input, above Temporal's 2 MB limit; split the items into several batches`,
      );
    }
  }
  if (issues.count > 0 || !spec) throw new ProcessFileError(file, issues.items);
  return spec;
}

function processKind(data: Record<string, unknown>, issues: IssueList): 'chain' | 'batch' | undefined {
  const isChain = 'steps' in data;
  const isBatch = 'items' in data;
  if (isChain && isBatch) {
    issues.at(['items'], 'a process file is a chain (steps:) or a batch (items: and task:), not both', {
      key: true,
    });
    return undefined;
  }
  if (isChain) return 'chain';
  if (isBatch) return 'batch';
  const known = new Set([...Object.keys(chainRootSchema.shape), ...Object.keys(batchRootSchema.shape)]);
  for (const key of Object.keys(data)) {
    if (known.has(key)) continue;
    const match = closest(key, known);
    issues.at([key], `unknown key "${key}"${match ? `; did you mean "${match}"?` : ''}`, { key: true });
  }
  issues.at(
    [],
    'expected steps: (a chain of agent steps and approval gates) or items: with a task: (a batch)',
  );
  return undefined;
}
