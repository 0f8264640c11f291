import { STEP_COST_CENTS } from '../../api/types';
import type { BatchItem, BatchSpec, JsonValue } from '../../workflows/process-types';
import { describeValue } from './errors';
import { isMapping, type IssueList } from './issues';
import { loadItems, reportAtRow, rowsMissing, type ItemFileContext, type LoadedItems } from './items';
import { checkTemplateRefs } from './refs';
import { formatUsd } from '../../core/money';
import { validField, validFields, type RootContext } from './root';
import { batchDefaultsSchema, batchRootSchema } from './schema';
import { resolveDefaults, withoutUndefined } from './settings';
import { suggestFrom } from './suggest';

export const ITEM_KEY = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export async function buildBatch(
  data: Record<string, unknown>,
  root: RootContext,
  files: ItemFileContext,
  issues: IssueList,
): Promise<BatchSpec | undefined> {
  const rawDefaults = data.defaults === undefined || data.defaults === null ? {} : data.defaults;
  if (isMapping(rawDefaults) && 'machine' in rawDefaults) {
    issues.at(
      ['defaults', 'machine'],
      'a batch runs on a pool: list the machines in machines: [...] at the top level',
      { key: true },
    );
  }
  const defaultsValue = isMapping(rawDefaults) ? withoutKey(rawDefaults, 'machine') : rawDefaults;
  const defaultsInput =
    issues.check(batchDefaultsSchema, defaultsValue, ['defaults'], Object.keys(batchDefaultsSchema.shape)) ??
    validFields(batchDefaultsSchema, defaultsValue);
  const { machineId: _unused, ...stepDefaults } = resolveDefaults(defaultsInput, 'batch', issues);

  const machines = validField(batchRootSchema.shape.machines, data.machines);
  machines?.forEach((machine, index) => {
    if (machines.indexOf(machine) < index)
      issues.at(['machines', index], `machine "${machine}" is listed twice`);
  });

  const items = await loadItems(data.items, files, issues);
  const keyField = validField(batchRootSchema.shape.key_field, data.key_field);
  const keyed = items ? itemKeys(items, keyField, issues) : undefined;

  const task = validField(batchRootSchema.shape.task, data.task);
  if (task !== undefined) {
    checkTemplateRefs(
      task,
      ['task'],
      { inputs: root.inputs.declared, items, batch: true, secretsAllowed: true, what: 'a task' },
      issues,
    );
  }

  const cents = root.maxCostCents;
  const worst = stepDefaults.maxSteps * STEP_COST_CENTS;
  if (cents !== undefined && worst > cents) {
    const ownMaxSteps = isMapping(rawDefaults) && 'max_steps' in rawDefaults;
    issues.at(
      ownMaxSteps ? ['defaults', 'max_steps'] : ['max_cost_usd'],
      `one run may cost up to USD ${formatUsd(worst)} (${stepDefaults.maxSteps} steps x 0.05), more than max_cost_usd ${formatUsd(cents)}; lower max_steps or raise max_cost_usd`,
    );
  }

  if (!items || !keyed || !machines || task === undefined) return undefined;
  const concurrency = validField(batchRootSchema.shape.concurrency, data.concurrency);
  return withoutUndefined({
    kind: 'batch' as const,
    name: root.name,
    description: root.description,
    inputs: root.inputs.values,
    taskTemplate: task,
    items: keyed,
    keyField,
    concurrency: concurrency ?? machines.length,
    machines,
    stepDefaults,
    maxCostCents: cents,
    source: items.source,
    csvColumns: items.csvColumns,
  });
}

function withoutKey(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}

function itemKeys(
  items: LoadedItems,
  keyField: string | undefined,
  issues: IssueList,
): BatchItem[] | undefined {
  if (keyField === undefined)
    return items.rows.map((row, index) => ({ key: String(index + 1), fields: row.fields }));
  if (!items.commonFields.includes(keyField)) {
    const { first, count } = rowsMissing(items, keyField);
    const what = items.source === 'csv' ? 'column' : 'field';
    const message =
      count === items.rows.length || !first
        ? `${items.label} has no ${what} "${keyField}"${suggestFrom(keyField, items.commonFields, `${what}s`)}`
        : `field "${keyField}" is missing in ${first.label}${count > 1 ? ` and ${count - 1} more` : ''}; every item needs a key`;
    issues.at(['key_field'], message);
    return undefined;
  }
  const seen = new Map<string, string>();
  let ok = true;
  const keyed = items.rows.map((row) => {
    const key = keyText(row.fields[keyField]);
    if (key === undefined || !ITEM_KEY.test(key)) {
      reportAtRow(
        issues,
        row,
        `item key ${describeValue(row.fields[keyField])} (${keyField}) is not usable in a workflow id: use 1 to 128 letters, digits, ".", "_", ":", "@" and "-"`,
      );
      ok = false;
    } else if (seen.has(key)) {
      reportAtRow(
        issues,
        row,
        `duplicate item key "${key}" (${keyField}); it is also the key of ${seen.get(key)}; item keys must be unique`,
      );
      ok = false;
    } else seen.set(key, row.label);
    return { key: key ?? '', fields: row.fields };
  });
  return ok ? keyed : undefined;
}

function keyText(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
