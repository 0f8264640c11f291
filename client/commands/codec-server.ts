// `codec-server`: decrypts encrypted payloads for the Temporal Web UI and the `temporal` CLI
// (codec/server.ts), with the workers' COASTY_CODEC_KEY.
import { Command, InvalidArgumentError } from 'commander';
import { CodecConfigError, codecFromEnv } from '../../codec/env';
import { CodecServerConfigError, DEFAULT_UI_ORIGINS, startCodecServer } from '../../codec/server';
import { CliError, EXIT } from '../errors';
import { action } from './common';

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed > 65535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return parsed;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function codecServerCommand(): Command {
  return new Command('codec-server')
    .description(
      "decrypt payloads for the Web UI and the temporal CLI (needs COASTY_CODEC_KEY, the workers' key)",
    )
    .option('--port <port>', 'port to listen on (0 = any free port)', port, 8888)
    .option(
      '--host <address>',
      'address to listen on; beyond loopback needs COASTY_CODEC_SERVER_TOKEN (checked on every request)',
      '127.0.0.1',
    )
    .option(
      '--origin <url>',
      `a browser origin allowed to call it, repeatable (default: ${DEFAULT_UI_ORIGINS.join(', ')})`,
      collect,
    )
    .action(
      action(async (flags: { port: number; host: string; origin?: string[] }) => {
        let codec;
        try {
          codec = codecFromEnv(process.env);
        } catch (error) {
          if (error instanceof CodecConfigError) throw new CliError(error.message, EXIT.usage);
          throw error;
        }
        if (!codec) {
          throw new CliError(
            "set COASTY_CODEC_KEY (and COASTY_CODEC_KEY_ID, COASTY_CODEC_PREVIOUS_KEYS) to the workers' keys",
            EXIT.usage,
          );
        }
        const origins = flags.origin ?? DEFAULT_UI_ORIGINS;
        const token = process.env.COASTY_CODEC_SERVER_TOKEN?.trim() || undefined;
        let server;
        try {
          server = await startCodecServer({ codec, port: flags.port, host: flags.host, origins, token });
        } catch (error) {
          if (error instanceof CodecServerConfigError) throw new CliError(error.message, EXIT.usage);
          throw error;
        }
        process.stdout.write(
          `Codec server ${server.url} (keys: ${codec.keyIds.join(', ')}; browser origins: ${origins.join(', ')}; ` +
            `${token ? 'every request needs Authorization: Bearer <COASTY_CODEC_SERVER_TOKEN>' : 'loopback only, no token'})\n` +
            `  Web UI: set ${server.url} as the codec server (data encoder) in its settings\n` +
            `  CLI:    temporal workflow show -w <workflow id> --codec-endpoint ${server.url}\n`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.stop();
        return EXIT.ok;
      }),
    );
}
