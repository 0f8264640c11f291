// Machine facts recorded with every benchmark result, so a number is never read without its machine.
import os from 'node:os';

export interface MachineFacts {
  os: string;
  cpu_model: string;
  cpu_count: number;
  total_mem_gb: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the benchmark started: other work on a shared machine. */
  load_avg_at_start: number[];
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cpu_count: cpus.length,
    total_mem_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    load_avg_at_start: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

export function describeMachine(m: MachineFacts): string {
  return `${m.cpu_count} x ${m.cpu_model}, ${m.total_mem_gb} GB, Node ${m.node}, ${m.os}`;
}
