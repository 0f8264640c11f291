// CoastyPlugin: what a Temporal worker needs to run agentRun, runChain and runBatch beside its own
// workflows: our activities under prefixed names, the payload codec, the worker defaults our
// activities rely on, and a check that the namespace has the CoastyStatus search attribute.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import type { ClientOptions, ClientPlugin } from '@temporalio/client';
import { SimplePlugin } from '@temporalio/plugin';
import {
  NativeConnection,
  Runtime,
  type BundleOptions,
  type BundlerPlugin,
  type ReplayWorkerOptions,
  type Worker,
  type WorkerOptions,
  type WorkerPlugin,
} from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import type { SecretSource } from '../activities/secrets';
import { RunsClient } from '../api/runs-client';
import { webhookSettingsFromEnv, type WebhookSettings } from '../api/webhooks';
import { codecFromEnv } from '../codec';
import { ACTIVITY_TYPE_NAMES, LEGACY_ACTIVITY_TYPE_NAMES, type ActivityKey } from '../workflows/names';
import { inFlightIntervalOf, startInFlightMetrics } from './in-flight';
import { checkSearchAttributes } from './search-attribute-check';
import {
  tracingActivityInterceptors,
  tracingClientInterceptors,
  tracingFromEnv,
  tracingInterceptorsModule,
  tracingSinks,
  type Tracing,
} from './tracing';

/**
 * Each followed run holds one activity slot for as long as it streams (an open socket, mostly idle),
 * so the activity slots bound the number of runs one worker follows at once; 1,000 streams cost
 * little CPU and memory (see the README, "Activity slots").
 */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 1000;
/**
 * Cancellation reaches an activity only in a heartbeat response, and the SDK throttles heartbeats to
 * 0.8 x the heartbeat timeout (24 s for our 30 s): a cancelled process would keep its remote run
 * going that long. 5 s bounds that delay and what a crash replays, for one heartbeat RPC per 5 s per stream.
 */
export const DEFAULT_MAX_HEARTBEAT_THROTTLE = '5s';

const sourceExtension = extname(fileURLToPath(import.meta.url));
/** The interceptor module that switches search attributes off in the workflow sandbox. */
export const searchAttributesOffModule = fileURLToPath(
  new URL(`../workflows/search-attributes-off${sourceExtension}`, import.meta.url),
);

export interface CoastyPluginOptions {
  /** The runs API root; default `COASTY_BASE_URL`. */
  baseUrl?: string;
  /** The runs API key; default `COASTY_API_KEY`. Only the worker holds it. */
  apiKey?: string;
  /** Instead of `baseUrl` and `apiKey`: a client you made (the plugin then does not close it). */
  runsClient?: RunsClient;
  /**
   * Where `{{secret.NAME}}` values come from: an environment (`COASTY_SECRET_NAME`; default
   * `process.env`) or a function from NAME to the value.
   */
  secrets?: NodeJS.ProcessEnv | SecretSource;
  /**
   * Write the CoastyStatus search attribute (default true; `list --awaiting` needs it). On, the worker
   * refuses to start in a namespace without it; off, no workflow of this worker writes it.
   */
  searchAttributes?: boolean;
  /**
   * Payload codec for workers and clients given this plugin: default AES-256-GCM from
   * `COASTY_CODEC_KEY` when set (see "Encrypted histories"), `false` for none.
   */
  codec?: PayloadCodec | false;
  /**
   * The receiver runs with `delivery: webhook` post their events to: default from COASTY_WEBHOOK_URL
   * and COASTY_WEBHOOK_SECRET; `false` for none (such runs then fail with WebhookNotConfigured).
   */
  webhook?: WebhookSettings | false;
  /**
   * Gauges of runs in flight by status and of the oldest wait for a person, read from visibility
   * every `intervalMs` (default COASTY_IN_FLIGHT_INTERVAL_MS, else 10 s; worker/in-flight.ts);
   * default: on when the SDK runtime exports metrics and search attributes are on. An object turns
   * them on like `true`.
   */
  inFlightMetrics?: boolean | { intervalMs?: number };
  /**
   * Where the defaults above are read from; default `process.env`. With OTEL_EXPORTER_OTLP_ENDPOINT
   * there, workers and clients given this plugin send OpenTelemetry traces (worker/tracing.ts).
   */
  env?: NodeJS.ProcessEnv;
}

/**
 * `Worker.create({ plugins: [new CoastyPlugin()] })` and `new Client({ plugins: [...] })` (the same
 * data converter). Built on `@temporalio/plugin`'s SimplePlugin, wrapped rather than extended
 * because its `configureWorker` is synchronous and the namespace check is not.
 */
export class CoastyPlugin implements WorkerPlugin, ClientPlugin, BundlerPlugin {
  readonly name = 'coasty-temporal';
  readonly searchAttributes: boolean;
  readonly #simple: SimplePlugin;
  #runsClient: RunsClient | undefined;
  readonly #ownsRunsClient: boolean;
  readonly #tracing: Tracing | undefined;
  readonly #inFlightIntervalMs: number;

  constructor(private readonly coastyOptions: CoastyPluginOptions = {}) {
    const env = coastyOptions.env ?? process.env;
    const codec = coastyOptions.codec === undefined ? codecFromEnv(env) : coastyOptions.codec || undefined;
    this.searchAttributes = coastyOptions.searchAttributes ?? true;
    const tracing = (this.#tracing = tracingFromEnv(env));
    this.#simple = new SimplePlugin({
      name: this.name,
      ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
      // The tracing module is in every bundle (its spans go nowhere without tracing): a bundle, once
      // built, serves workers with and without OTEL_EXPORTER_OTLP_ENDPOINT alike.
      workerInterceptors: {
        workflowModules: [
          tracingInterceptorsModule,
          ...(this.searchAttributes ? [] : [searchAttributesOffModule]),
        ],
        ...(tracing ? { activity: [tracingActivityInterceptors(tracing)] } : {}),
      },
      ...(tracing ? { clientInterceptors: { workflow: tracingClientInterceptors(tracing) } } : {}),
    });
    this.#runsClient = coastyOptions.runsClient;
    this.#ownsRunsClient = !coastyOptions.runsClient;
    const inFlight = coastyOptions.inFlightMetrics;
    this.#inFlightIntervalMs = inFlightIntervalOf(
      typeof inFlight === 'object' ? inFlight.intervalMs : undefined,
      env,
    );
  }

  configureClient(options: Omit<ClientOptions, 'plugins'>): Omit<ClientOptions, 'plugins'> {
    return this.#simple.configureClient(options);
  }

  configureBundler(options: BundleOptions): BundleOptions {
    return this.#simple.configureBundler(options);
  }

  configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    const configured = this.#simple.configureReplayWorker(options);
    return { ...configured, sinks: { ...tracingSinks(undefined), ...configured.sinks } };
  }

  async configureWorker(options: WorkerOptions): Promise<WorkerOptions> {
    if (this.searchAttributes) await this.#checkNamespace(options);
    const configured = this.#simple.configureWorker(options);
    const ours = this.activities();
    return {
      ...configured,
      // A sink of the user's own (the SDK's OpenTelemetryPlugin's `exporter`) wins.
      sinks: { ...tracingSinks(this.#tracing), ...configured.sinks },
      // A user's activity of a legacy name (say their own `createRun`) wins over ours; prefixed ones are ours.
      activities: {
        ...namedActivities(ours, LEGACY_ACTIVITY_TYPE_NAMES),
        ...configured.activities,
        ...namedActivities(ours, ACTIVITY_TYPE_NAMES),
      },
      maxConcurrentActivityTaskExecutions:
        configured.maxConcurrentActivityTaskExecutions ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES,
      maxHeartbeatThrottleInterval: configured.maxHeartbeatThrottleInterval ?? DEFAULT_MAX_HEARTBEAT_THROTTLE,
      // Pollers follow the backlog: a burst of starts (a batch, a fleet) is picked up by more pollers
      // (bench/concurrency.ts: 300 runs, wall 12 s -> 9.7 s against the fixed default).
      workflowTaskPollerBehavior: configured.workflowTaskPollerBehavior ?? { type: 'autoscaling' },
      activityTaskPollerBehavior: configured.activityTaskPollerBehavior ?? { type: 'autoscaling' },
    };
  }

  async runWorker(worker: Worker, next: (worker: Worker) => Promise<void>): Promise<void> {
    const inFlight = this.#inFlightMetrics(worker);
    try {
      await next(worker);
    } finally {
      await inFlight?.stop();
      if (this.#ownsRunsClient) await this.#runsClient?.close();
      await this.#tracing?.provider.forceFlush();
    }
  }

  /** The runs API client of this plugin's activities, made on first use (a Client-only plugin needs none). */
  private activities(): Activities {
    const { secrets, env = process.env, webhook } = this.coastyOptions;
    const { baseUrl, apiKey } = this.coastyOptions;
    this.#runsClient ??= RunsClient.fromEnv({
      ...env,
      ...(baseUrl ? { COASTY_BASE_URL: baseUrl } : {}),
      ...(apiKey ? { COASTY_API_KEY: apiKey } : {}),
    });
    const receiver = webhook === undefined ? webhookSettingsFromEnv(env) : webhook || undefined;
    return createActivities({
      client: this.#runsClient,
      ...(receiver ? { webhook: receiver } : {}),
      ...(typeof secrets === 'function' ? { secrets } : { env: secrets ?? env }),
    });
  }

  #inFlightMetrics(worker: Worker) {
    const metricsExported = Runtime.instance().options.runtimeOptions.metricsExporter !== null;
    const wanted = (this.coastyOptions.inFlightMetrics ?? metricsExported) !== false && this.searchAttributes;
    const client = worker.client;
    if (!wanted || !client) return undefined;
    const { namespace, taskQueue } = worker.options;
    const warn = (message: string) => Runtime.instance().logger.warn(message);
    return startInFlightMetrics({ client, namespace, taskQueue, warn, intervalMs: this.#inFlightIntervalMs });
  }

  async #checkNamespace(options: WorkerOptions): Promise<void> {
    const namespace = options.namespace ?? 'default';
    const connection = options.connection ?? (await NativeConnection.connect());
    try {
      await checkSearchAttributes(connection, namespace, (message) =>
        Runtime.instance().logger.warn(message),
      );
    } finally {
      if (!options.connection) await connection.close();
    }
  }
}

function namedActivities(activities: Activities, names: { readonly [K in ActivityKey]: string }) {
  return Object.fromEntries(
    (Object.keys(names) as ActivityKey[]).map((key) => [names[key], activities[key]]),
  );
}
