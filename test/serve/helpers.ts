// A serve on the test stack (real dev server, real emulator, real worker), a signed-in HTTP session
// for API tests, and chains to decide.
import { RunsClient } from '../../api/runs-client';
import type { AgentRule } from '../../emulator/config';
import { runChain } from '../../workflows/run-chain';
import type { ChainSpec } from '../../workflows/process-types';
import { startServe, type RunningServe } from '../../serve';
import { startStack, type TestStack } from '../helpers/stack';

export interface ServeStack {
  stack: TestStack;
  serve: RunningServe;
  logs: string[];
  stop(): Promise<void>;
}

export async function startServeStack(options: {
  label: string;
  env?: NodeJS.ProcessEnv;
  workerEnv?: NodeJS.ProcessEnv;
  rules?: AgentRule[];
  /** Give serve the runs API (last steps in the inbox). */
  runs?: boolean;
}): Promise<ServeStack> {
  const stack = await startStack({
    label: options.label,
    workerEnv: options.workerEnv,
    emulator: { config: { machines: 8, agent: { paceMs: 5, rules: options.rules ?? [] } } },
  });
  const logs: string[] = [];
  const runs = options.runs
    ? new RunsClient({ baseUrl: stack.emulator.baseUrl, apiKey: stack.emulator.apiKey })
    : undefined;
  let serve: RunningServe;
  try {
    serve = await startServe({
      client: stack.env.client,
      port: 0,
      env: options.env ?? {},
      taskQueue: stack.taskQueue,
      pollMs: 200,
      runs,
      log: (line) => logs.push(line),
    });
  } catch (error) {
    await runs?.close();
    await stack.stop();
    throw error;
  }
  return {
    stack,
    serve,
    logs,
    async stop() {
      await serve.stop();
      await runs?.close();
      await stack.stop();
    },
  };
}

let seq = 0;
export function startChain(stack: TestStack, spec: ChainSpec, label = 'chain') {
  seq += 1;
  return stack.env.client.workflow.start(runChain, {
    taskQueue: stack.taskQueue,
    workflowId: `${label}-${process.pid}-${seq}`,
    args: [spec],
  });
}

/** A cookie session signed in with an operator token, and its CSRF token. */
export class HttpSession {
  cookie = '';
  csrf = '';

  constructor(readonly base: string) {}

  static async signIn(base: string, token: string): Promise<HttpSession> {
    const session = new HttpSession(base);
    const response = await session.fetch('/signin', { method: 'POST', form: { token } });
    if (response.status !== 303) throw new Error(`sign-in failed: HTTP ${response.status}`);
    await session.loadCsrf();
    return session;
  }

  async loadCsrf(): Promise<void> {
    const page = await (await this.fetch('/')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!csrf) throw new Error('no CSRF token on the inbox page');
    this.csrf = csrf;
  }

  async fetch(
    path: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      json?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie) headers.cookie = this.cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof init.json === 'string' ? init.json : JSON.stringify(init.json);
    }
    const response = await fetch(new URL(path, this.base), {
      method: init.method ?? 'GET',
      headers,
      body,
      redirect: 'manual',
    });
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return response;
  }

  /** A JSON POST with the session's CSRF token. */
  post(path: string, json: unknown): Promise<Response> {
    return this.fetch(path, { method: 'POST', json, headers: { 'x-csrf-token': this.csrf } });
  }
}
