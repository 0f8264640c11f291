import type { InputType, InputValue } from '../../workflows/process-types';
import { INPUT_NAME } from '../../workflows/templates';
import { describeValue } from './errors';
import { isMapping, type IssueList } from './issues';
import { inputDeclarationSchema } from './schema';
import { suggestFrom } from './suggest';

export type GivenInputs = Record<string, string | number | boolean>;

export interface ResolvedInputs {
  declared: string[];
  values: Record<string, InputValue>;
}

export function coerceInput(type: InputType, value: string | number | boolean): InputValue | undefined {
  if (type === 'string') return String(value);
  if (type === 'number') {
    if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
    if (typeof value === 'boolean') return undefined;
    return /^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$/i.test(value) ? Number(value) : undefined;
  }
  if (typeof value === 'boolean') return value;
  const word = String(value).trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(word)) return true;
  if (['false', 'no', 'off', '0'].includes(word)) return false;
  return undefined;
}

const EXPECTED: Record<InputType, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

export function resolveInputs(raw: unknown, given: GivenInputs, issues: IssueList): ResolvedInputs {
  const declared: string[] = [];
  const values: Record<string, InputValue> = {};
  if (raw !== undefined && raw !== null && !isMapping(raw)) {
    issues.at(
      ['inputs'],
      `expected a mapping of input names to { type, default, description }, got ${describeValue(raw)}`,
    );
  }
  const declarations = isMapping(raw) ? raw : {};
  for (const [name, rawDeclaration] of Object.entries(declarations)) {
    declared.push(name);
    if (!INPUT_NAME.test(name)) {
      issues.at(
        ['inputs', name],
        `"${name}" is not a valid input name: use letters, digits and _ (it is written {{input.${name}}})`,
        { key: true },
      );
    }
    const declaration = issues.check(
      inputDeclarationSchema,
      rawDeclaration ?? {},
      ['inputs', name],
      Object.keys(inputDeclarationSchema.shape),
    );
    if (!declaration) continue;
    const type = declaration.type ?? 'string';
    const path = ['inputs', name];
    if (Object.hasOwn(given, name)) {
      const givenValue = given[name] as string | number | boolean;
      const value = coerceInput(type, givenValue);
      if (value === undefined)
        issues.at(path, `--input ${name}=${givenValue}: expected ${EXPECTED[type]} (a ${type} input)`, {
          key: true,
        });
      else values[name] = value;
    } else if (declaration.default !== undefined) {
      const value = coerceInput(type, declaration.default);
      if (value === undefined) {
        issues.at(
          [...path, 'default'],
          `expected ${EXPECTED[type]} as the default of a ${type} input, got ${describeValue(declaration.default)}`,
        );
      } else values[name] = value;
    } else {
      issues.at(
        path,
        `input "${name}" is required and has no default: pass it with --input ${name}=<value>`,
        { key: true },
      );
    }
  }
  for (const name of Object.keys(given)) {
    if (declared.includes(name)) continue;
    const known =
      declared.length > 0 ? suggestFrom(name, declared, 'declared inputs') : '; it declares no inputs';
    issues.at(
      declared.length > 0 ? ['inputs'] : [],
      `--input ${name}: this process has no input "${name}"${known}`,
      { key: true },
    );
  }
  return { declared, values };
}
