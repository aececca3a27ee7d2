// ping (iputils) inside a host, with its summary parsed.
import { execAsync, type ExecResult } from './exec.ts';

export interface PingOptions {
  count?: number;
  /** source address (-I) */
  src?: string;
  /** between probes; iputils allows < 200 ms as root. Default 100 ms */
  intervalMs?: number;
  /** whole-run deadline in seconds (-w); default count * interval + 3 s */
  deadlineS?: number;
  /** payload bytes (-s) */
  size?: number;
  /**
   * 'all' (default): every probe answered; 'some': at least one; 'none': no probe answered
   * (to assert unreachability). Anything else throws with ping's output.
   */
  expect?: 'all' | 'some' | 'none';
}

export interface PingResult {
  transmitted: number;
  received: number;
  /** round-trip times in ms, null when nothing came back */
  rtt: { min: number; avg: number; max: number; mdev: number } | null;
  output: string;
}

export function pingArgv(dst: string, o: PingOptions): string[] {
  const count = o.count ?? 3;
  const interval = o.intervalMs ?? 100;
  const deadline = o.deadlineS ?? Math.ceil((count * interval) / 1000) + 3;
  const a = ['ping', '-6', '-n', '-c', String(count), '-i', String(interval / 1000), '-w', String(deadline)];
  if (o.src) a.push('-I', o.src);
  if (o.size !== undefined) a.push('-s', String(o.size));
  a.push(dst);
  return a;
}

export function parsePing(output: string): Omit<PingResult, 'output'> {
  const sum = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (!sum) throw new Error(`no summary in ping output: ${output.trim().slice(-300)}`);
  const r = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(output);
  return {
    transmitted: Number(sum[1]),
    received: Number(sum[2]),
    rtt: r ? { min: Number(r[1]), avg: Number(r[2]), max: Number(r[3]), mdev: Number(r[4]) } : null,
  };
}

export async function ping(ns: string, host: string, dst: string, o: PingOptions = {}): Promise<PingResult> {
  const where = `host ${host}: ping ${dst}${o.src ? ` from ${o.src}` : ''}`;
  const argv = pingArgv(dst, o);
  const r: ExecResult = await execAsync(ns, argv, where, { check: false, timeoutMs: ((o.deadlineS ?? 0) + 10) * 1000 + (o.count ?? 3) * (o.intervalMs ?? 100) });
  const output = `${r.stdout}${r.stderr}`;
  // ping exits 0 (replies), 1 (no reply) or 2 (error, e.g. no route / bad source)
  const expect = o.expect ?? 'all';
  // "connect: Network is unreachable" and the like: exit 2 without a summary
  if (expect === 'none' && r.code === 2 && !/packets transmitted/.test(output)) return { transmitted: 0, received: 0, rtt: null, output };
  if (r.timedOut || (r.code !== 0 && r.code !== 1)) throw new Error(`${where}: ping failed (exit ${r.code ?? r.signal}): ${output.trim().slice(-400)}`);
  const res = { ...parsePing(output), output };
  const ok =
    expect === 'all' ? res.received === res.transmitted && res.transmitted > 0
    : expect === 'some' ? res.received > 0
    : res.received === 0;
  if (!ok) throw new Error(`${where}: expected ${expect === 'none' ? 'no replies' : expect === 'all' ? 'every probe answered' : 'a reply'}, got ${res.received}/${res.transmitted}: ${output.trim().slice(-400)}`);
  return res;
}
