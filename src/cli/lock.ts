// Serialise concurrent iro-ctl invocations that change the kernel (tubular-style lock file):
// O_EXCL create with our pid; a lock whose pid is gone is stale and taken over.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_LOCK = '/run/iro-ctl/lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(path: string, fn: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      if (!Number.isInteger(holder) || !alive(holder)) {
        try {
          unlinkSync(path);
        } catch {
          /* raced with another taker */
        }
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another iro-ctl (pid ${holder}) holds ${path}; waited ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
    } catch {
      /* already removed */
    }
  }
}
