// errno numbers PF_KEY replies carry in sadb_msg_errno, by name (Linux x86/generic values).
import { constants } from 'node:os';

const byNumber = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // first name wins (EAGAIN before EWOULDBLOCK, EDEADLK before EDEADLOCK)
  if (!byNumber.has(value)) byNumber.set(value, name);
}

export function errnoName(errno: number): string {
  return byNumber.get(errno) ?? `errno_${errno}`;
}

export const ENOENT = constants.errno.ENOENT;
export const ESRCH = constants.errno.ESRCH;
export const EEXIST = constants.errno.EEXIST;
export const EINVAL = constants.errno.EINVAL;
export const EBUSY = constants.errno.EBUSY;
export const EOPNOTSUPP = constants.errno.EOPNOTSUPP;
export const EAFNOSUPPORT = constants.errno.EAFNOSUPPORT;
export const EPERM = constants.errno.EPERM;
export const ENOBUFS = constants.errno.ENOBUFS;
