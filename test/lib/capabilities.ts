// What this machine can run, tier by tier, with the reason when it cannot. Used by the
// runner (to pick tiers) and by test files (to skip with a stated reason when run directly).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';

export type Tier = 'unit' | 'bpf' | 'netns' | 'vm';
export const TIERS: Tier[] = ['unit', 'bpf', 'netns', 'vm'];

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** True inside the test VM (the harness sets this in the guest). */
export function inGuestVm(): boolean {
  return process.env.IRO_IN_VM === '1';
}

function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function bpfObjectPath(name: string): string {
  return join(projectRoot(), 'build', 'bpf', `${name}.o`);
}

const memo = new Map<Tier, string | null>();

/** null when the tier can run here, else why not. */
export function tierUnavailable(tier: Tier): string | null {
  if (memo.has(tier)) return memo.get(tier)!;
  const r = probe(tier);
  memo.set(tier, r);
  return r;
}

function probe(tier: Tier): string | null {
  switch (tier) {
    case 'unit':
      return null;
    case 'bpf': {
      if (!isRoot()) return 'needs root (CAP_BPF/CAP_NET_ADMIN) for bpf(2)';
      if (!existsSync('/proc/sys/kernel/unprivileged_bpf_disabled')) return 'kernel has no bpf(2) syscall';
      if (!existsSync(join(projectRoot(), 'native', 'build', 'Release', 'iro_native.node')))
        return 'native addon not built (npm run bootstrap)';
      if (!existsSync(bpfObjectPath('iro_remap'))) return 'BPF objects not built (npm run bootstrap)';
      return null;
    }
    case 'netns': {
      const bpf = probe('bpf');
      if (bpf) return bpf;
      if (!haveCommand('ip')) return 'iproute2 (ip) is not installed';
      const name = `iro-probe-${process.pid}`;
      try {
        execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        return 'cannot create network namespaces (ip netns add failed)';
      }
      return null;
    }
    case 'vm': {
      if (inGuestVm()) return 'already inside the test VM';
      if (!isRoot()) return 'needs root';
      if (process.env.IRO_SKIP_VM === '1') return 'IRO_SKIP_VM=1 is set';
      if (!haveCommand('qemu-system-x86_64')) return 'qemu-system-x86 is not installed (npm run bootstrap -- vm)';
      const kernels = existsSync('/boot') ? readdirSync('/boot').filter((f) => /^vmlinuz-.*-amd64$/.test(f)) : [];
      if (!kernels.length) return 'no Debian kernel in /boot (linux-image-amd64 not installed)';
      if (!existsSync('/bin/busybox') && !existsSync('/usr/bin/busybox')) return 'busybox-static is not installed';
      return null;
    }
  }
}

/** For `test(name, { skip: skipUnless('bpf') }, fn)` in files that may be run directly. */
export function skipUnless(tier: Tier): string | false {
  const why = tierUnavailable(tier);
  return why ? `${tier} tier unavailable: ${why}` : false;
}

/** Guest-only tests: skip (with a reason) unless running inside the test VM. */
export function skipUnlessGuest(): string | false {
  return inGuestVm() ? false : 'runs only inside the test VM (npm run test:vm)';
}
