// `link <id>`: one-click approve and reject URLs for the pause a process waits at, signed with
// COASTY_LINK_SECRET (the same secret serve checks them with).
import { Command, InvalidArgumentError } from 'commander';
import { linkSecretFromEnv, ServeConfigError } from '../../serve/config';
import { linkUrl } from '../../serve/links';
import { findStackRecord } from '../../dev/stack-file';
import { openPauses } from '../decide';
import { CliError, EXIT } from '../errors';
import { AmbiguousPause } from '../process-errors';
import { parseDuration } from '../process-file/duration';
import {
  action,
  addCommonOptions,
  defaultDecider,
  printJson,
  withTarget,
  type CommonOptions,
} from './common';

const DEFAULT_SERVE_URL = 'http://127.0.0.1:8234/';
const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;

interface LinkFlags extends CommonOptions {
  request?: string;
  ttl: number;
  baseUrl?: string;
  by?: string;
}

function ttl(value: string): number {
  const seconds = parseDuration(value);
  if (!seconds || seconds > MAX_TTL_SECONDS)
    throw new InvalidArgumentError(`expected a duration up to 30d, e.g. 24h or 30m, got "${value}"`);
  return seconds;
}

export function linkCommand(): Command {
  const command = new Command('link')
    .description(
      'print signed one-click approve and reject URLs for what a process waits for (needs COASTY_LINK_SECRET)',
    )
    .argument('<id>', 'workflow id: a process, <chain id>/<step id>, or <batch id>/<item key>')
    .option('--request <request id>', 'the pause (request id) when several wait')
    .option('--ttl <duration>', 'how long the links work, e.g. 30m, 24h, 7d (at most 30d)', ttl, 24 * 60 * 60)
    .option(
      '--base-url <url>',
      "serve's public address (default: COASTY_SERVE_URL, the local stack's, else http://127.0.0.1:8234/)",
    )
    .option('--by <name>', 'who made the link, recorded with the decision (default: your user name)');
  addCommonOptions(command);
  return command.action(
    action(async (id: string, flags: LinkFlags) => {
      let secret: string | undefined;
      try {
        secret = linkSecretFromEnv(process.env);
      } catch (error) {
        if (error instanceof ServeConfigError) throw new CliError(error.message, EXIT.usage);
        throw error;
      }
      if (!secret)
        throw new CliError('set COASTY_LINK_SECRET (the same value serve has) to sign links', EXIT.usage);
      let base: URL;
      const given =
        flags.baseUrl ??
        (process.env.COASTY_SERVE_URL?.trim() || findStackRecord()?.serveUrl || DEFAULT_SERVE_URL);
      try {
        base = new URL(given.endsWith('/') ? given : `${given}/`);
      } catch {
        throw new CliError(
          `--base-url ${given} is not a URL (expected e.g. https://approvals.example.com/)`,
          EXIT.usage,
        );
      }
      return withTarget({ ...flags, startStack: false }, async (target) => {
        const pauses = await openPauses(target.client, id, flags.request);
        if (pauses.length > 1) {
          const ids = pauses
            .map((pause) => `  npx coasty-temporal link ${id} --request ${pause.requestId}`)
            .join('\n');
          throw new CliError(
            new AmbiguousPause(id, pauses).message + `; name one with --request:\n${ids}`,
            EXIT.usage,
          );
        }
        const pause = pauses[0]!;
        const expiresAt = Math.floor(Date.now() / 1000) + flags.ttl;
        const by = flags.by ?? defaultDecider();
        const link = { workflowId: pause.workflowId, requestId: pause.requestId, by, expiresAt };
        const approve = linkUrl(base, { ...link, action: 'approve' }, secret);
        const reject = linkUrl(base, { ...link, action: 'reject' }, secret);
        const expires = new Date(expiresAt * 1000).toISOString();
        if (flags.json)
          printJson({
            workflowId: pause.workflowId,
            requestId: pause.requestId,
            expiresAt: expires,
            approve,
            reject,
          });
        else {
          process.stdout.write(
            `${pause.reason}\n  approve: ${approve}\n  reject:  ${reject}\n  (until ${expires}; each decides at most once, only while this pause is open)\n`,
          );
        }
        return EXIT.ok;
      });
    }),
  );
}
