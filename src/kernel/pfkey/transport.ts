// The PF_KEY socket: socket(AF_KEY, SOCK_RAW, PF_KEY_V2) over the addon, optionally created
// inside a network namespace. A kernel without af_key is reported as PfkeyUnavailableError so
// the daemon can run XFRM-only.
import { AF_KEY, PF_KEY_V2, SOCK_RAW } from '../constants.ts';
import { isNativeError } from '../native.ts';
import { inNetns } from '../netns.ts';
import { DatagramSocket } from '../socket.ts';
import { EAFNOSUPPORT, EPERM } from './errno.ts';
import { PfkeyUnavailableError } from './errors.ts';

export interface PfkeyDatagram {
  data: Buffer;
  truncated: boolean;
}

/** What the client needs from a socket (a fake in unit tests, the kernel otherwise). */
export interface PfkeyTransport {
  readonly label: string;
  send(bytes: Buffer): void;
  start(onMessages: (msgs: PfkeyDatagram[]) => void, onError: (e: Error) => void): void;
  setRef(ref: boolean): void;
  close(): void;
}

export interface PfkeySocketOptions {
  /** `ip netns` name or path: the socket is created there and stays there */
  netns?: string;
  /** kernel receive queue (SO_RCVBUFFORCE); af_key drops silently when it is full */
  kernelRcvBuf?: number;
  label?: string;
}

export function openPfkeySocket(opts: PfkeySocketOptions = {}): PfkeyTransport {
  const label = opts.label ?? (opts.netns ? `PF_KEY socket in netns ${opts.netns}` : 'PF_KEY socket');
  const create = (): DatagramSocket =>
    DatagramSocket.open(AF_KEY, SOCK_RAW, PF_KEY_V2, {
      label,
      rxBufferSize: 64 * 1024,
      batch: 64,
      kernelRcvBuf: opts.kernelRcvBuf ?? 4 * 1024 * 1024,
    });
  let sock: DatagramSocket;
  try {
    sock = opts.netns ? inNetns(opts.netns, create) : create();
  } catch (e) {
    if (isNativeError(e) && (e.errno === EAFNOSUPPORT || e.code === 'EAFNOSUPPORT'))
      throw new PfkeyUnavailableError(`socket(AF_KEY=15, SOCK_RAW, PF_KEY_V2) failed with EAFNOSUPPORT`, e.errno);
    if (isNativeError(e) && (e.errno === EPERM || e.code === 'EPERM')) e.message += ' (PF_KEY sockets need CAP_NET_ADMIN)';
    throw e;
  }
  return {
    label,
    send: (bytes) => {
      sock.send(bytes);
    },
    start: (onMessages, onError) => sock.start((msgs) => onMessages(msgs), onError),
    setRef: (ref) => sock.setRef(ref),
    close: () => sock.close(),
  };
}
