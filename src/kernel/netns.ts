// Run synchronous code inside another network namespace (per-thread setns). Sockets and
// attachments created inside keep that namespace after we switch back.
import { closeSync, openSync } from 'node:fs';
import { native } from './native.ts';
import { CLONE_NEWNET } from './constants.ts';

export function netnsPath(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid network namespace name "${name}"`);
  return `/var/run/netns/${name}`;
}

/** Run fn with the calling thread in namespace `name` (an `ip netns` name) or at `path`. */
export function inNetns<T>(nameOrPath: string, fn: () => T): T {
  const path = nameOrPath.startsWith('/') ? nameOrPath : netnsPath(nameOrPath);
  const self = openSync('/proc/thread-self/ns/net', 'r');
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (e) {
    closeSync(self);
    throw new Error(`network namespace ${nameOrPath}: ${(e as Error).message}`);
  }
  try {
    native().setns(target, CLONE_NEWNET);
    try {
      const r = fn();
      if (r instanceof Promise) throw new Error('inNetns: fn must be synchronous');
      return r;
    } finally {
      native().setns(self, CLONE_NEWNET);
    }
  } finally {
    closeSync(target);
    closeSync(self);
  }
}

/** Move the calling (main) thread into a namespace for good: a daemon run for one namespace. */
export function enterNetns(nameOrPath: string): void {
  const path = nameOrPath.startsWith('/') ? nameOrPath : netnsPath(nameOrPath);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`network namespace ${nameOrPath}: ${(e as Error).message}`);
  }
  try {
    native().setns(fd, CLONE_NEWNET);
  } finally {
    closeSync(fd);
  }
}
