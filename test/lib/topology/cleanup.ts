// Removing namespaces reliably. A namespace only disappears (with its veths) once no process
// lives in it, so cleanup first kills the processes inside, then deletes the names. Every
// namespace the kit creates is registered before it exists; a process 'exit' handler (and
// SIGINT/SIGTERM/SIGHUP) removes whatever a test did not destroy.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { DEFAULT_PREFIX, ownerPid } from './names.ts';
import type { BackgroundProcess } from './exec.ts';

export const NETNS_DIR = '/run/netns';

export interface Owner {
  namespaces: string[];
  processes: Set<BackgroundProcess>;
}

const owners = new Set<Owner>();
let hooked = false;

export function registerOwner(): Owner {
  const o: Owner = { namespaces: [], processes: new Set() };
  owners.add(o);
  hook();
  return o;
}

export function releaseOwner(o: Owner): void {
  owners.delete(o);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanupAllSync();
      process.removeListener(sig, onSignal);
      // With no other listener, the default action (terminate with that signal) applies again.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function cleanupAllSync(): void {
  for (const o of [...owners]) {
    try {
      cleanupOwnerSync(o);
    } catch {
      /* last resort: keep going with the other owners */
    }
    owners.delete(o);
  }
}

export function cleanupOwnerSync(o: Owner): string[] {
  for (const p of o.processes) p.killNow();
  o.processes.clear();
  return removeNamespacesSync(o.namespaces);
}

/** nsfs inode of each existing named namespace. */
function inodes(names: readonly string[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const n of names) {
    try {
      m.set(statSync(`${NETNS_DIR}/${n}`).ino, n);
    } catch {
      /* not created (yet) or already gone */
    }
  }
  return m;
}

/** Pids of processes living in any of the given namespaces (never this process). */
export function pidsInNamespaces(names: readonly string[]): Array<{ pid: number; ns: string }> {
  const want = inodes(names);
  if (!want.size) return [];
  const out: Array<{ pid: number; ns: string }> = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/${e}/ns/net`);
    } catch {
      continue;
    }
    const m = link.match(/^net:\[(\d+)\]$/);
    const ns = m ? want.get(Number(m[1])) : undefined;
    if (ns) out.push({ pid: Number(e), ns });
  }
  return out;
}

/**
 * Kill what runs inside (unless killProcesses is false), then delete the names. Returns the
 * names that could not be deleted (empty on success). Never throws: it runs from exit
 * handlers and after failed creations.
 */
export function removeNamespacesSync(names: readonly string[], killProcesses = true): string[] {
  for (const { pid } of killProcesses ? pidsInNamespaces(names) : []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const present = names.filter((n) => existsSync(`${NETNS_DIR}/${n}`));
  if (!present.length) return [];
  try {
    execFileSync('ip', ['-force', '-batch', '-'], { input: present.map((n) => `netns del ${n}\n`).join(''), stdio: ['pipe', 'ignore', 'ignore'], timeout: 20_000 });
  } catch {
    /* -force reports a failure if any line failed; what is left is checked below */
  }
  return present.filter((n) => existsSync(`${NETNS_DIR}/${n}`));
}

/** Namespaces named by the kit (any run) that currently exist. */
export function kitNamespaces(prefix = DEFAULT_PREFIX): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((n) => ownerPid(n, prefix) !== null);
}

/**
 * Remove the names of namespaces left by runs that died without cleanup (SIGKILL, power loss):
 * those whose embedded pid no longer exists. Namespaces of live processes are never touched,
 * and no process is killed (a namespace still holding processes lives on, nameless, until
 * they exit). Not called automatically: a runner may call it before a tier.
 */
export function removeStaleNamespaces(prefix = DEFAULT_PREFIX): string[] {
  const stale = kitNamespaces(prefix).filter((n) => {
    const pid = ownerPid(n, prefix)!;
    return pid !== process.pid && !existsSync(`/proc/${pid}`);
  });
  removeNamespacesSync(stale, false);
  return stale;
}
