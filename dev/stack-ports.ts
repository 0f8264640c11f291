import { createServer } from 'node:net';
import { freePort } from './ports';

export class PortError extends Error {
  override name = 'PortError';
}

/** True when `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface PortChoice {
  port: number;
  /** Set when the preferred port was taken and another was chosen: say so. */
  note?: string;
}

/**
 * The port for one service of the stack, from an environment variable:
 * unset: `preferred`, or the next free port after it (with a note); `0`: any free port;
 * a number: exactly that port, or a PortError that says which variable to change.
 */
export async function choosePort(
  variable: string,
  preferred: number,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  host = '127.0.0.1',
): Promise<PortChoice> {
  const raw = env[variable]?.trim();
  if (raw !== undefined && raw !== '') {
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new PortError(
        `${variable}=${raw} is not a port: use a number from 1 to 65535, or 0 for any free port`,
      );
    }
    if (port === 0) return { port: await freePort(host) };
    if (!(await isPortFree(port, host))) {
      throw new PortError(
        `${what}: port ${port} (${variable}) is in use on ${host}; choose another, or unset ${variable} to take the next free one`,
      );
    }
    return { port };
  }
  for (let port = preferred; port < preferred + 100 && port <= 65535; port++) {
    if (await isPortFree(port, host)) {
      return port === preferred
        ? { port }
        : { port, note: `${what}: port ${preferred} is in use, using ${port} (set ${variable} to choose)` };
    }
  }
  const port = await freePort(host);
  return { port, note: `${what}: ports ${preferred}-${preferred + 99} are in use, using ${port}` };
}
