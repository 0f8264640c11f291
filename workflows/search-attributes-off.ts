// A workflow interceptor module (WorkerOptions.interceptors.workflowModules): loaded into the bundle by
// `CoastyPlugin({ searchAttributes: false })`; its factory runs before each workflow's code.
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { disableSearchAttributes } from './search-attributes';

export function interceptors(): WorkflowInterceptors {
  disableSearchAttributes();
  return {};
}
