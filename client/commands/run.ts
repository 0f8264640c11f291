// `run <file>`: start a process (or attach to the running one with the same id) and watch it to the end.
// `start <file>`: start it and print its workflow id.
import { Command, InvalidArgumentError } from 'commander';
import type { Target } from '../connect';
import { MAX_WORKFLOW_ID_CHARS, workflowIdProblem } from '../../workflows/ids';
import { EXIT } from '../errors';
import { startProcess, taskQueueWarning, type StartedProcess } from '../start-process';
import {
  action,
  addCommonOptions,
  addWatchOptions,
  collectInput,
  infoWriter,
  loadSpec,
  printJson,
  webUiLink,
  withTarget,
  type CommonOptions,
  type WatchFlags,
} from './common';
import { follow } from './follow';
import { DELIVERIES, withDelivery } from '../delivery';
import type { Delivery } from '../../workflows/process-types';
import { writeBatchReport } from '../report';
import type { BatchResult } from '../../workflows/run-batch';

interface StartFlags extends CommonOptions {
  input?: Record<string, string>;
  delivery?: Delivery;
  id?: string;
  report?: string;
}

/** How the user started this, to tell them how to attach again. */
function rerunCommand(): string {
  if (process.env.npm_lifecycle_event === 'start') return 'npm start';
  const args = process.argv
    .slice(2)
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`));
  return `npx coasty-temporal ${args.join(' ')}`;
}

function addStartOptions(command: Command): Command {
  return command
    .argument('<file>', 'process file (YAML or JSON): a chain of steps or a batch')
    .option('-i, --input <name=value>', 'value of a declared input (repeatable)', collectInput)
    .option(
      '--id <workflow id>',
      'workflow id (default: the process name, so running the same file again attaches to the running process)',
      parseWorkflowId,
    )
    .option(
      '--delivery <stream|webhook>',
      "how every run's events reach the workflow (over the file's delivery:); webhook needs a receiver (COASTY_WEBHOOK_URL; the local stack has one)",
      parseDelivery,
    );
}

function parseDelivery(value: string): Delivery {
  if ((DELIVERIES as readonly string[]).includes(value)) return value as Delivery;
  throw new InvalidArgumentError(`expected ${DELIVERIES.join(' or ')}, got "${value}"`);
}

function parseWorkflowId(id: string): string {
  const problem = workflowIdProblem(id);
  if (problem) {
    throw new InvalidArgumentError(
      `${JSON.stringify(id)} cannot be a workflow id: ${problem}. Use up to ${MAX_WORKFLOW_ID_CHARS} characters, ` +
        'for example letters, digits and - _ . (any script is fine).',
    );
  }
  return id;
}

export function runCommand(): Command {
  const command = new Command('run').description(
    'start a process and watch it until it ends (attaches instead when one with the same id runs)',
  );
  addWatchOptions(addCommonOptions(addStartOptions(command)));
  command.option(
    '--report <file.csv>',
    'a batch: where to write its CSV report (default .coasty-temporal/reports/<id>.csv)',
  );
  return command.action(
    action(async (file: string, flags: StartFlags & WatchFlags) => {
      const spec = withDelivery(await loadSpec(file, flags.input), flags.delivery);
      return withTarget(flags, async (target) => {
        const started = await start(target, spec, file, flags);
        const { code, result } = await follow(target, started.workflowId, {
          ...flags,
          rerun: rerunCommand(),
        });
        if (spec.kind === 'batch' && result.outcome?.result) {
          const paths = writeBatchReport(
            spec,
            result.outcome.result as BatchResult,
            started.workflowId,
            flags.report,
          );
          infoWriter(flags.json)(`Report: ${paths.csv} (and ${paths.json})`);
        }
        return code;
      });
    }),
  );
}

export function startCommand(): Command {
  const command = new Command('start').description('start a process and print its workflow id');
  addCommonOptions(addStartOptions(command));
  return command.action(
    action(async (file: string, flags: StartFlags) => {
      const spec = withDelivery(await loadSpec(file, flags.input), flags.delivery);
      return withTarget(flags, async (target) => {
        const started = await start(target, spec, file, { ...flags, quiet: true });
        if (flags.json) {
          printJson(startedJson(target, started));
        } else {
          process.stdout.write(`${started.workflowId}\n`);
        }
        if (target.mode === 'embedded') {
          process.stderr.write(
            'Note: the local stack stops with this command; the process goes on when a stack runs again ' +
              '(npx coasty-temporal dev in another terminal keeps one running).\n',
          );
        }
        return EXIT.ok;
      });
    }),
  );
}

async function start(
  target: Target,
  spec: Awaited<ReturnType<typeof loadSpec>>,
  file: string,
  flags: StartFlags & { quiet?: boolean },
): Promise<StartedProcess> {
  const info = flags.quiet ? (line: string) => process.stderr.write(`${line}\n`) : infoWriter(flags.json);
  const started = await startProcess(target.client, spec, {
    workflowId: flags.id,
    taskQueue: target.taskQueue,
    file,
  });
  const link = webUiLink(target, started.workflowId);
  if (started.attached) {
    info(
      `${started.workflowId} is running already (since ${started.startedAt}): watching it; ` +
        'the file is not applied again. (Another --id starts a new one.)',
    );
  } else {
    info(
      `Started ${started.name} (${started.kind}) as ${started.workflowId} on task queue ${started.taskQueue}.`,
    );
  }
  if (link) info(`  Web UI: ${link}`);
  const serveUrl = target.record?.serveUrl;
  if (serveUrl)
    info(
      `  Approve in the browser: ${new URL(`processes/${encodeURIComponent(started.workflowId)}`, serveUrl)}`,
    );
  if (!flags.quiet) {
    info(
      `  From another terminal: npx coasty-temporal watch ${started.workflowId} | approve ${started.workflowId}`,
    );
  }
  if (target.mode === 'external') {
    const warning = await taskQueueWarning(target.client, target.namespace, target.taskQueue);
    if (warning) info(warning);
  }
  if (flags.json && !flags.quiet)
    process.stdout.write(
      `${JSON.stringify({ at: new Date().toISOString(), type: 'started', ...startedJson(target, started) })}\n`,
    );
  return started;
}

function startedJson(target: Target, started: StartedProcess) {
  return {
    workflowId: started.workflowId,
    runId: started.runId,
    kind: started.kind,
    name: started.name,
    taskQueue: started.taskQueue,
    attached: started.attached,
    startedAt: started.startedAt,
    namespace: target.namespace,
    temporalAddress: target.address,
    webUi: webUiLink(target, started.workflowId),
  };
}
