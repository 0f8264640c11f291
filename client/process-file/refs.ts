import { listTemplateRefs, type TemplateRef } from '../../workflows/templates';
import type { PathSegment } from './errors';
import type { IssueList } from './issues';
import { rowsMissing, type LoadedItems } from './items';
import { suggestFrom } from './suggest';

export interface StepOutline {
  id: string;
  type: 'agent' | 'approval';
}

export interface RefScope {
  inputs: readonly string[];
  /** Chains: every step in order, and the index of the step whose text this is. */
  steps?: readonly StepOutline[];
  stepIndex?: number;
  /** Batches: the items, once loaded (undefined if they could not be read). */
  items?: LoadedItems | undefined;
  batch?: boolean;
  secretsAllowed: boolean;
  /** What the text is, for messages: "a task", "an approval question". */
  what: string;
}

/** Reports every reference in `template` (at `path`) that would not render. */
export function checkTemplateRefs(
  template: string,
  path: readonly PathSegment[],
  scope: RefScope,
  issues: IssueList,
): void {
  const seen = new Map<string, number>();
  for (const ref of listTemplateRefs(template)) {
    const occurrence = seen.get(ref.raw) ?? 0;
    seen.set(ref.raw, occurrence + 1);
    const problem = refProblem(ref, scope);
    if (problem !== undefined) issues.atText(path, ref.raw, occurrence, problem);
  }
}

function refProblem(ref: TemplateRef, scope: RefScope): string | undefined {
  switch (ref.kind) {
    case 'invalid':
      return ref.reason;
    case 'input':
      if (scope.inputs.includes(ref.name)) return undefined;
      return scope.inputs.length === 0
        ? `${ref.raw}: there is no input "${ref.name}"; declare it under inputs: (e.g. inputs: { ${ref.name}: { type: string } })`
        : `${ref.raw}: there is no input "${ref.name}"${suggestFrom(ref.name, scope.inputs, 'declared inputs')}`;
    case 'secret':
      return scope.secretsAllowed
        ? undefined
        : `${ref.raw}: secrets can only be used in agent tasks (${scope.what} is shown to people and kept in workflow history)`;
    case 'step':
      return stepRefProblem(ref, scope);
    case 'item':
      return itemRefProblem(ref, scope);
  }
}

function stepRefProblem(ref: Extract<TemplateRef, { kind: 'step' }>, scope: RefScope): string | undefined {
  if (!scope.steps || scope.stepIndex === undefined) {
    return `${ref.raw}: a batch has no steps; a batch task can use {{item.<field>}}, {{input.<name>}} and {{secret.NAME}}`;
  }
  const index = scope.steps.findIndex((step) => step.id === ref.stepId);
  const target = scope.steps[index];
  if (!target) {
    const earlier = scope.steps
      .slice(0, scope.stepIndex)
      .filter((step) => step.type === 'agent')
      .map((step) => step.id);
    return `${ref.raw}: there is no step "${ref.stepId}"${suggestFrom(ref.stepId, earlier, 'earlier agent steps')}`;
  }
  if (index === scope.stepIndex) return `${ref.raw}: a step cannot use its own ${ref.property}`;
  if (index > scope.stepIndex) {
    return `${ref.raw}: step "${ref.stepId}" runs later (steps[${index}]); only earlier steps' outputs can be used`;
  }
  if (target.type === 'approval')
    return `${ref.raw}: "${ref.stepId}" is an approval gate; only agent steps have a ${ref.property}`;
  return undefined;
}

function itemRefProblem(ref: Extract<TemplateRef, { kind: 'item' }>, scope: RefScope): string | undefined {
  if (!scope.batch)
    return `${ref.raw}: {{item.<field>}} is only available in a batch (a process file with items:)`;
  const items = scope.items;
  if (!items || items.commonFields.includes(ref.field)) return undefined;
  const { first, count } = rowsMissing(items, ref.field);
  if (items.source === 'csv' || count === items.rows.length) {
    const what = items.source === 'csv' ? 'column' : 'field';
    return `${ref.raw}: ${items.label} has no ${what} "${ref.field}"${suggestFrom(ref.field, items.commonFields, `${what}s`)}`;
  }
  return `${ref.raw}: field "${ref.field}" is missing in ${first?.label ?? 'some items'}${count > 1 ? ` and ${count - 1} more` : ''}; every item needs it`;
}
