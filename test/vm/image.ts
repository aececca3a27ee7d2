// The guest's kernel and initramfs: the newest Debian kernel installed on the host, and an
// initramfs built from its modules by deploy/vm/build-initramfs.sh, cached under build/vm/ by
// kernel version + hash of the scripts and busybox that go into it, so it is built once.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/kernel/native.ts';

export interface GuestKernel {
  version: string;
  vmlinuz: string;
}

/** Numeric-aware version order: 6.1.0-56 sorts after 6.1.0-9. */
export function compareKernelVersions(a: string, b: string): number {
  const pa = a.split(/[^0-9]+/).filter(Boolean).map(Number);
  const pb = b.split(/[^0-9]+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return a.localeCompare(b);
}

/** The newest /boot/vmlinuz-*-amd64 that also has its /lib/modules tree. */
export function newestKernel(): GuestKernel {
  const versions = (existsSync('/boot') ? readdirSync('/boot') : [])
    .map((f) => /^vmlinuz-(.+-amd64)$/.exec(f)?.[1])
    .filter((v): v is string => !!v && existsSync(join('/lib/modules', v, 'modules.dep')))
    .sort(compareKernelVersions);
  const version = versions.at(-1);
  if (!version) {
    throw new Error('no /boot/vmlinuz-*-amd64 with modules in /lib/modules: install linux-image-amd64 (npm run bootstrap -- vm)');
  }
  return { version, vmlinuz: join('/boot', `vmlinuz-${version}`) };
}

/** What goes into the initramfs besides the kernel's modules: the scripts and busybox. */
function inputsHash(): string {
  const dir = join(projectRoot(), 'deploy', 'vm');
  const h = createHash('sha256');
  for (const f of ['build-initramfs.sh', 'init']) h.update(f).update(readFileSync(join(dir, f)));
  for (const bb of ['/usr/bin/busybox', '/bin/busybox']) {
    if (!existsSync(bb)) continue;
    const st = statSync(bb);
    h.update(`${bb} ${st.size} ${st.mtimeMs}`);
    break;
  }
  return h.digest('hex').slice(0, 12);
}

/** Path of the initramfs for this kernel, building it first if the cached one is missing or stale. */
export function ensureInitramfs(kernel: GuestKernel): string {
  const dir = join(projectRoot(), 'build', 'vm');
  const name = `initramfs-${kernel.version}-${inputsHash()}.cpio.gz`;
  const path = join(dir, name);
  if (existsSync(path)) return path;
  try {
    execFileSync('sh', [join(projectRoot(), 'deploy', 'vm', 'build-initramfs.sh'), kernel.version, path], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`building the VM initramfs for kernel ${kernel.version} failed: ${stderr || (e as Error).message}`);
  }
  // Older builds are dead weight; qemu has read any initramfs it uses at start-up.
  for (const f of readdirSync(dir)) {
    if (f.startsWith('initramfs-') && f.endsWith('.cpio.gz') && f !== name) rmSync(join(dir, f), { force: true });
  }
  return path;
}
