// Attaching tc programs: a tcx link pinned in bpffs where the kernel has tcx (6.6+), a clsact
// filter otherwise (6.1). Whichever mechanism is not used is cleaned up, so switching kernels
// or modes never leaves two copies of the program on a hook.
import { existsSync, unlinkSync } from 'node:fs';
import { native, isNativeError } from '../kernel/native.ts';
import { annotate } from '../kernel/socket.ts';
import type { BpfProgram } from './bpf.ts';

export type Direction = 'ingress' | 'egress';
export type AttachMode = 'tcx' | 'clsact';

const TCX_ATTACH = { ingress: 46, egress: 47 } as const;
const TC_POINT = { ingress: 1, egress: 2 } as const;

export interface AttachSpec {
  ifindex: number;
  ifname: string;
  direction: Direction;
  /** where the tcx link is pinned */
  linkPin: string;
  /** clsact filter identity (ours: fixed handle and priority) */
  handle: number;
  priority: number;
}

export interface AttachResult {
  mode: AttachMode;
  progId: number;
  /** true if this call created the clsact qdisc */
  createdQdisc: boolean;
}

/** errnos meaning "this kernel has no tcx": fall back to clsact. */
function tcxUnsupported(e: unknown): boolean {
  return isNativeError(e) && [22 /* EINVAL */, 95 /* EOPNOTSUPP */, 524 /* ENOTSUPP */, 7 /* E2BIG */].includes(e.errno);
}

function where(spec: AttachSpec): string {
  return `${spec.direction} of ${spec.ifname} (ifindex ${spec.ifindex})`;
}

export function attachProgram(prog: BpfProgram, spec: AttachSpec, mode: 'auto' | AttachMode = 'auto'): AttachResult {
  if (mode !== 'clsact') {
    try {
      const r = attachTcx(prog, spec);
      removeClsactFilter(spec);
      return r;
    } catch (e) {
      if (mode === 'tcx' || !tcxUnsupported(e)) throw annotate(e, `attach ${prog.name} to ${where(spec)} (tcx)`);
    }
  }
  const r = attachClsact(prog, spec);
  removeTcxLink(spec);
  return r;
}

function attachTcx(prog: BpfProgram, spec: AttachSpec): AttachResult {
  const n = native();
  if (existsSync(spec.linkPin)) {
    // An earlier run's link: swap the program atomically, traffic never sees a gap.
    const lfd = n.objGet(spec.linkPin);
    try {
      n.linkUpdate(lfd, prog.fd);
    } finally {
      n.closeFd(lfd);
    }
    return { mode: 'tcx', progId: prog.info.id, createdQdisc: false };
  }
  const lfd = n.tcxAttach(prog.fd, spec.ifindex, TCX_ATTACH[spec.direction]);
  try {
    n.objPin(lfd, spec.linkPin);
  } catch (e) {
    n.linkDetach(lfd);
    throw e;
  } finally {
    n.closeFd(lfd);
  }
  return { mode: 'tcx', progId: prog.info.id, createdQdisc: false };
}

function attachClsact(prog: BpfProgram, spec: AttachSpec): AttachResult {
  const n = native();
  try {
    const created = n.tcHookCreate(spec.ifindex);
    const r = n.tcAttach(spec.ifindex, TC_POINT[spec.direction], prog.fd, spec.handle, spec.priority, true);
    return { mode: 'clsact', progId: r.progId, createdQdisc: created };
  } catch (e) {
    throw annotate(e, `attach ${prog.name} to ${where(spec)} (clsact)`);
  }
}

/** Remove our tcx link (if pinned): unpin and detach so the hook is free at once. */
export function removeTcxLink(spec: AttachSpec): boolean {
  if (!existsSync(spec.linkPin)) return false;
  const n = native();
  try {
    const lfd = n.objGet(spec.linkPin);
    try {
      n.linkDetach(lfd);
    } catch (e) {
      // ENOLINK-style failures mean the device went away; the pin is all that is left.
      if (!isNativeError(e)) throw e;
    } finally {
      n.closeFd(lfd);
    }
  } finally {
    unlinkSync(spec.linkPin);
  }
  return true;
}

export function removeClsactFilter(spec: AttachSpec): boolean {
  try {
    return native().tcDetach(spec.ifindex, TC_POINT[spec.direction], spec.handle, spec.priority);
  } catch (e) {
    // ENODEV: the interface is gone, and with it the filter.
    if (isNativeError(e) && e.errno === 19) return false;
    throw annotate(e, `detach from ${where(spec)} (clsact)`);
  }
}

/** Program id currently attached by us on this hook, by either mechanism (null if none). */
export function attachedProgramId(spec: AttachSpec): { mode: AttachMode; progId: number } | null {
  const n = native();
  if (existsSync(spec.linkPin)) {
    const lfd = n.objGet(spec.linkPin);
    try {
      return { mode: 'tcx', progId: n.linkInfo(lfd).progId };
    } finally {
      n.closeFd(lfd);
    }
  }
  try {
    const id = n.tcQuery(spec.ifindex, TC_POINT[spec.direction], spec.handle, spec.priority);
    return id ? { mode: 'clsact', progId: id } : null;
  } catch {
    return null;
  }
}

export function destroyClsact(ifindex: number): void {
  try {
    native().tcHookDestroy(ifindex);
  } catch (e) {
    if (!(isNativeError(e) && e.errno === 19)) throw e;
  }
}
