// Errors of the PF_KEY layer. Each carries a stable `code` callers can branch on; messages
// name the message/extension/SA concerned and never include key bytes.
import { errnoName } from './errno.ts';

export type PfkeyErrorCode =
  | 'PFKEY_UNAVAILABLE'
  | 'PFKEY_MALFORMED'
  | 'PFKEY_ENCODE'
  | 'PFKEY_REQUEST_FAILED'
  | 'PFKEY_TIMEOUT'
  | 'PFKEY_CLOSED'
  | 'PFKEY_SEND_FAILED';

export class PfkeyError extends Error {
  readonly code: PfkeyErrorCode;
  constructor(code: PfkeyErrorCode, message: string) {
    super(message);
    this.name = 'PfkeyError';
    this.code = code;
  }
}

/** A received datagram that is not a well-formed PF_KEY v2 message. */
export class PfkeyDecodeError extends PfkeyError {
  /** octet offset in the message where the problem is */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('PFKEY_MALFORMED', message);
    this.name = 'PfkeyDecodeError';
    this.offset = offset;
  }
}

/**
 * socket(PF_KEY) failed because the kernel has no af_key (EAFNOSUPPORT) — the daemon should
 * go on with XFRM netlink only, with a notice.
 */
export class PfkeyUnavailableError extends PfkeyError {
  readonly errno: number;
  constructor(detail: string, errno: number) {
    super('PFKEY_UNAVAILABLE', `PF_KEY not available (af_key module not loaded?): ${detail}`);
    this.name = 'PfkeyUnavailableError';
    this.errno = errno;
  }
}

/** The kernel answered a request with sadb_msg_errno != 0. */
export class PfkeyRequestError extends PfkeyError {
  readonly errno: number;
  readonly errnoCode: string;
  readonly operation: string;
  constructor(operation: string, what: string, errno: number) {
    const code = errnoName(errno);
    super('PFKEY_REQUEST_FAILED', `PF_KEY ${operation}${what ? ` ${what}` : ''} failed: ${code} (errno ${errno})`);
    this.name = 'PfkeyRequestError';
    this.errno = errno;
    this.errnoCode = code;
    this.operation = operation;
  }
}

export function isPfkeyUnavailable(e: unknown): e is PfkeyUnavailableError {
  return e instanceof PfkeyError && e.code === 'PFKEY_UNAVAILABLE';
}
