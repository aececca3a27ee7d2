// A datagram socket over the addon: explicit close, async delivery in batches, and errors
// that name the socket they happened on.
import { native, type ControlMessage, type NativeHandle, type ReceivedDatagram, type NativeError } from './native.ts';
import { SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE } from './constants.ts';

export interface SocketOptions {
  /** largest datagram read in one go (bytes); bigger ones are reported as truncated */
  rxBufferSize?: number;
  /** most datagrams delivered per event-loop turn */
  batch?: number;
  /** kernel receive queue size (SO_RCVBUFFORCE, falling back to SO_RCVBUF) */
  kernelRcvBuf?: number;
  /** a label used in error messages, e.g. "xfrm netlink" */
  label?: string;
}

export type DatagramHandler = (msgs: ReceivedDatagram[]) => void;
export type SocketErrorHandler = (err: NativeError) => void;

export class DatagramSocket {
  readonly label: string;
  private handle: NativeHandle | null;

  private constructor(handle: NativeHandle, label: string) {
    this.handle = handle;
    this.label = label;
  }

  static open(family: number, type: number, protocol: number, opts: SocketOptions = {}): DatagramSocket {
    const n = native();
    const label = opts.label ?? `socket(${family},${type},${protocol})`;
    let h: NativeHandle;
    try {
      h = n.socketOpen(family, type, protocol);
    } catch (e) {
      throw annotate(e, label);
    }
    const s = new DatagramSocket(h, label);
    try {
      n.socketConfigure(h, opts.rxBufferSize ?? 256 * 1024, opts.batch ?? 64);
      if (opts.kernelRcvBuf) s.setKernelRcvBuf(opts.kernelRcvBuf);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  get fd(): number {
    return native().socketFd(this.h());
  }

  bind(addr: Buffer): void {
    this.call(() => native().socketBind(this.h(), addr));
  }

  connect(addr: Buffer): void {
    this.call(() => native().socketConnect(this.h(), addr));
  }

  localAddress(): Buffer {
    return this.call(() => native().socketName(this.h()));
  }

  setOption(level: number, name: number, value: number | Buffer): void {
    this.call(() => native().socketSetOpt(this.h(), level, name, value));
  }

  getOption(level: number, name: number, length: number): Buffer {
    return this.call(() => native().socketGetOpt(this.h(), level, name, length));
  }

  /** Prefer the privileged SO_RCVBUFFORCE (ignores rmem_max); fall back to SO_RCVBUF. */
  setKernelRcvBuf(bytes: number): void {
    try {
      this.setOption(SOL_SOCKET, SO_RCVBUFFORCE, bytes);
    } catch {
      this.setOption(SOL_SOCKET, SO_RCVBUF, bytes);
    }
  }

  send(data: Uint8Array, opts: { addr?: Buffer; cmsgs?: ControlMessage[]; flags?: number } = {}): number {
    return this.call(() => native().socketSend(this.h(), data, opts.addr ?? null, opts.cmsgs ?? null, opts.flags ?? 0));
  }

  /** One non-blocking read; null when nothing is queued. */
  receiveNow(): ReceivedDatagram | null {
    return this.call(() => native().socketRecv(this.h()));
  }

  /** Block the thread until readable or the timeout; for one-shot tools and tests only. */
  waitReadable(timeoutMs: number): boolean {
    return this.call(() => native().socketWait(this.h(), timeoutMs));
  }

  /** Start async delivery. Transient errors (e.g. ENOBUFS) go to onError and delivery goes on. */
  start(onMessages: DatagramHandler, onError: SocketErrorHandler): void {
    this.call(() =>
      native().socketStart(this.h(), (err, msgs) => {
        if (msgs?.length) onMessages(msgs);
        if (err) onError(annotate(err, this.label) as NativeError);
      }),
    );
  }

  stop(): void {
    if (this.handle) native().socketStop(this.handle);
  }

  /** Whether a started socket keeps the process alive. */
  setRef(ref: boolean): void {
    this.call(() => native().socketRef(this.h(), ref));
  }

  close(): void {
    if (!this.handle) return;
    native().socketClose(this.handle);
    this.handle = null;
  }

  private h(): NativeHandle {
    if (!this.handle) {
      const e = new Error(`${this.label}: socket is closed`) as NativeError;
      e.errno = 9;
      e.code = 'EBADF';
      e.syscall = 'socket';
      throw e;
    }
    return this.handle;
  }

  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw annotate(e, this.label);
    }
  }
}

/** Prefix an error message with the object it concerns, keeping errno/code/syscall. */
export function annotate(e: unknown, what: string): Error {
  if (e instanceof Error) {
    if (!e.message.startsWith(what)) e.message = `${what}: ${e.message}`;
    return e;
  }
  return new Error(`${what}: ${String(e)}`);
}
