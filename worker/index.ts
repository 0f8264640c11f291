import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { RunsClient } from '../api/runs-client';
import { CoastyPlugin, type CoastyPluginOptions } from './plugin';
import { DEFAULT_TASK_QUEUE } from '../workflows/names';

export {
  CoastyPlugin,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_HEARTBEAT_THROTTLE,
  type CoastyPluginOptions,
} from './plugin';
export { MissingSearchAttributeError, createSearchAttributeCommand } from './search-attribute-check';

export { DEFAULT_TASK_QUEUE };

/** Our workflows alone (agentRun, runChain, runBatch, batchItem): the workflowsPath of createWorker. */
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/**
 * The workflow code bundled once when the package is built (`npm run build:dist`, so `npm pack`):
 * a worker of the installed package starts from it without bundling for seconds. Absent in a
 * checkout, where workers bundle the sources they run.
 */
export const prebuiltBundlePath = fileURLToPath(new URL('../workflows/bundle.js', import.meta.url));
const packaged = existsSync(prebuiltBundlePath);

/**
 * A workflow bundle (a file written from `bundleWorkflowCode`, with the tracing module) that workers
 * given no workflow code start from, before the package's own: `npm test` bundles once and sets it
 * for every process it starts, so the CLI's local stacks in tests do not bundle each time either.
 */
export const WORKFLOW_BUNDLE_VARIABLE = 'COASTY_WORKFLOW_BUNDLE';

function workflowCodeOf(
  env: NodeJS.ProcessEnv,
): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const given = env[WORKFLOW_BUNDLE_VARIABLE]?.trim();
  if (given) return { workflowBundle: { codePath: given } };
  return packaged ? { workflowBundle: { codePath: prebuiltBundlePath } } : { workflowsPath };
}

/** Where createWorker takes the workflow code from when given none, for a worker's start-up line. */
export function workflowCodeSource(env: NodeJS.ProcessEnv = process.env): string {
  const code = workflowCodeOf(env);
  return 'workflowBundle' in code
    ? `prebuilt bundle ${code.workflowBundle.codePath}`
    : 'bundled at start from the sources';
}

export interface CreateWorkerOptions extends Partial<
  Omit<WorkerOptions, 'connection' | 'taskQueue' | 'activities'>
> {
  connection: NativeConnection;
  taskQueue?: string;
  namespace?: string;
  /** The runs API client; default `RunsClient.fromEnv()` (COASTY_BASE_URL, COASTY_API_KEY). */
  client?: RunsClient;
  /** Environment for `{{secret.NAME}}` (COASTY_SECRET_NAME) and the codec; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Further CoastyPlugin options (searchAttributes, codec, secrets). */
  coasty?: Omit<CoastyPluginOptions, 'runsClient' | 'env'>;
  // dataConverter (from WorkerOptions): default the plugin's, payload encryption when
  // COASTY_CODEC_KEY is set (codec/); clients must use the same converter.
}

/** A worker of our workflows only: `Worker.create` with `CoastyPlugin` and our workflowsPath. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const {
    connection,
    taskQueue = DEFAULT_TASK_QUEUE,
    client = RunsClient.fromEnv(),
    env,
    coasty,
    plugins = [],
    ...rest
  } = options;
  const plugin = new CoastyPlugin({
    ...(rest.dataConverter ? { codec: false } : {}),
    ...coasty,
    runsClient: client,
    env: env ?? process.env,
  });
  const code = rest.workflowBundle || rest.workflowsPath ? {} : workflowCodeOf(env ?? process.env);
  return Worker.create({
    // A bundle (`workflowBundle`, from bundleWorkflowCode; the package's own) starts a worker without bundling.
    ...code,
    ...rest,
    connection,
    taskQueue,
    plugins: [plugin, ...plugins],
  });
}
