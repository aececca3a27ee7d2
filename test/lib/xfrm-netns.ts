// Throw-away network namespaces for the XFRM/rtnetlink netns tests, and `ip` as the oracle.
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

let counter = 0;

/** Create a fresh namespace, deleted when the test ends (whatever the outcome). */
export function freshNetns(t: TestContext, tag: string): string {
  const name = `iro-${tag}-${process.pid}-${++counter}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  });
  return name;
}

/** `ip -n NS ARGS...` output. */
export function ipIn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { maxBuffer: 64 * 1024 * 1024 }).toString();
}

export function shIn(ns: string, script: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script]).toString();
}

export interface IpPolicy {
  src: string;
  dst: string;
  proto?: string;
  dir: string;
  priority: number;
  ptype?: string;
  tmpls: { src: string; dst: string; proto: string; reqid: number; mode: string }[];
  text: string;
}

/** Parse `ip xfrm policy` text (iproute2 6.1 has no JSON for xfrm). */
export function parseIpXfrmPolicy(text: string): IpPolicy[] {
  const out: IpPolicy[] = [];
  for (const block of text.split(/\n(?=src )/)) {
    const head = /^src (\S+) dst (\S+)(?: proto (\S+))?/.exec(block);
    if (!head) continue;
    const dir = /\bdir (\S+) priority (\d+)(?: ptype (\S+))?/.exec(block);
    const p: IpPolicy = { src: head[1]!, dst: head[2]!, dir: dir?.[1] ?? '?', priority: Number(dir?.[2] ?? -1), tmpls: [], text: block };
    if (head[3]) p.proto = head[3];
    if (dir?.[3]) p.ptype = dir[3];
    for (const m of block.matchAll(/tmpl src (\S+) dst (\S+)\s+proto (\S+) reqid (\d+) mode (\S+)/g)) {
      p.tmpls.push({ src: m[1]!, dst: m[2]!, proto: m[3]!, reqid: Number(m[4]), mode: m[5]! });
    }
    out.push(p);
  }
  return out;
}

/** Resolve after `ms` (event delivery is asynchronous). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until pred() is true or the timeout passes; returns pred()'s last value. */
export async function until(pred: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}
