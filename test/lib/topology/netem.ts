// netem (sch_netem) exists in the VM's Debian kernel but not in the host kernel. Asking for it
// where it is missing fails with one clear error instead of tc's "qdisc kind is unknown".
import { release } from 'node:os';
import { batch, BatchError } from './batch.ts';
import { netemArgs, vethPair, linkUpDown, type Args } from './commands.ts';
import { execSync } from './exec.ts';
import { cleanupOwnerSync, registerOwner, releaseOwner } from './cleanup.ts';
import { nextTopologyId } from './names.ts';
import type { NetemSpec } from './spec.ts';

export class NetemUnavailableError extends Error {
  constructor(detail: string) {
    super(`netem not available on this kernel: ${detail} (kernel ${release()} has no sch_netem; netem runs in the vm tier)`);
    this.name = 'NetemUnavailableError';
  }
}

function isUnknownQdisc(e: unknown): boolean {
  return e instanceof BatchError && /qdisc kind is unknown|Unknown qdisc/i.test(e.result.stderr);
}

let modprobeTried = false;

/** Autoloading should bring sch_netem in; one explicit modprobe covers kernels where it does not. */
function tryModprobe(): boolean {
  if (modprobeTried) return false;
  modprobeTried = true;
  try {
    execSync(null, ['modprobe', '-q', 'sch_netem'], 'netem', { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Apply netem qdiscs in one namespace: entries of (device, spec). */
export async function applyNetem(ns: string, entries: Array<[string, NetemSpec]>, where: string, verb: 'add' | 'replace' = 'add'): Promise<void> {
  if (!entries.length) return;
  const lines: Args[] = entries.map(([dev, n]) => netemArgs(verb, dev, n));
  try {
    await batch('tc', ns, lines, where);
  } catch (e) {
    if (!isUnknownQdisc(e)) throw e;
    if (tryModprobe()) return applyNetem(ns, entries, where, verb);
    throw new NetemUnavailableError(`${(e as Error).message}`);
  }
}

let probed: string | null | undefined;

/** null when netem works here, else why not. Probes once with a throwaway namespace. */
export async function netemUnavailable(): Promise<string | null> {
  if (probed !== undefined) return probed;
  const owner = registerOwner();
  const ns = `${nextTopologyId()}-netemprobe`;
  owner.namespaces.push(ns);
  try {
    execSync(null, ['ip', 'netns', 'add', ns], 'netem probe');
    execSync(null, ['ip', ...vethPair(ns, 'p0', ns, 'p1')], 'netem probe');
    execSync(null, ['ip', '-n', ns, ...linkUpDown('p0', true)], 'netem probe');
    await applyNetem(ns, [['p0', { delayMs: 1 }]], 'netem probe');
    probed = null;
  } catch (e) {
    probed = e instanceof NetemUnavailableError ? e.message : `netem probe failed: ${(e as Error).message}`;
  } finally {
    cleanupOwnerSync(owner);
    releaseOwner(owner);
  }
  return probed;
}
