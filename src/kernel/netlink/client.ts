// The request layer of the netlink core: sequence-keyed requests with ACKs and timeouts,
// multipart dumps (NLM_F_MULTI ... NLMSG_DONE, NLM_F_DUMP_INTR), pipelining (many requests in
// flight, queued requests packed into one datagram), and lost-reply detection (ENOBUFS).
// One instance owns one socket that joins no multicast group, so replies never interleave
// with event noise (events use NetlinkSubscriber on a socket of their own).
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST } from './constants.ts';
import { encodeMessage, NetlinkParseError, type NetlinkMessage } from './message.ts';
import { NetlinkSocket, type NetlinkHandlers, type NetlinkSocketOptions } from './socket.ts';
import {
  EBADMSG,
  ENOBUFS,
  ESHUTDOWN,
  ETIMEDOUT,
  NetlinkError,
  decodeDoneMessage,
  decodeErrorMessage,
  type NetlinkErrorContext,
} from './errors.ts';
import { formatControlMessage, type MessageFormatter } from './format.ts';

/** The subset of a pino logger the kernel layer uses. */
export interface KernelLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/** What the client needs from a socket (NetlinkSocket; tests substitute a scripted kernel). */
export interface NetlinkTransport {
  readonly label: string;
  readonly portId: number;
  readonly closed: boolean;
  send(data: Buffer): void;
  start(h: NetlinkHandlers): void;
  /** true when more replies are queued (used to tell lost replies from late ones) */
  hasPending(): boolean;
  setRef(ref: boolean): void;
  close(): void;
}

export interface NetlinkClientOptions extends NetlinkSocketOptions {
  /** per request; for dumps, the longest silence allowed between two parts. Default 5000 ms */
  timeoutMs?: number;
  /** requests sent but not yet answered; bounded so ACKs cannot overflow the receive queue */
  maxInFlight?: number;
  /** most bytes packed into one sendmsg */
  maxBatchBytes?: number;
  logger?: KernelLogger;
  /** renders protocol messages for debug logs; must redact secrets (see xfrm/format.ts) */
  formatter?: MessageFormatter;
}

export interface RequestContext extends NetlinkErrorContext {
  timeoutMs?: number;
  /** length of the fixed header after nlmsghdr, to name the attribute an extack offset points at */
  fixedLength?: number;
}

export interface DumpResult {
  messages: NetlinkMessage[];
  /** the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR) on the last attempt */
  interrupted: boolean;
  attempts: number;
}

interface Pending {
  seq: number;
  bytes: Buffer;
  dump: boolean;
  ctx: RequestContext;
  replies: NetlinkMessage[];
  interrupted: boolean;
  /** performance.now() after which the request fails with ETIMEDOUT */
  deadline: number;
  resolve(replies: NetlinkMessage[], interrupted: boolean): void;
  reject(e: Error): void;
}

export class NetlinkClient extends EventEmitter {
  readonly socket: NetlinkTransport;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxBatchBytes: number;
  private readonly logger: KernelLogger | undefined;
  private readonly formatter: MessageFormatter | undefined;
  private seq: number;
  private readonly inFlight = new Map<number, Pending>();
  // FIFO of unsent requests; `queueHead` avoids Array.shift(), which is O(n) per call
  private queue: Pending[] = [];
  private queueHead = 0;
  private readonly dumpQueue: Pending[] = [];
  private dumpRunning = false;
  private pumpScheduled = false;
  private lostSnapshot: Set<number> | null = null;
  private closedError: NetlinkError | null = null;

  constructor(socket: NetlinkTransport, opts: Omit<NetlinkClientOptions, keyof NetlinkSocketOptions> = {}) {
    super();
    this.socket = socket;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxInFlight = opts.maxInFlight ?? 512;
    this.maxBatchBytes = opts.maxBatchBytes ?? 32 * 1024;
    this.logger = opts.logger;
    this.formatter = opts.formatter;
    this.seq = (Date.now() & 0x7fffffff) || 1;
    socket.start({
      messages: (m) => this.onMessages(m),
      overrun: () => this.onOverrun(),
      error: (e) => this.onSocketError(e),
    });
    socket.setRef(false);
  }

  static open(opts: NetlinkClientOptions): NetlinkClient {
    return new NetlinkClient(NetlinkSocket.open({ ...opts, groups: [] }), opts);
  }

  /**
   * Send one request with NLM_F_ACK; resolves with the reply messages that preceded the ACK
   * (none for NEW/DEL, one for GET), rejects with a NetlinkError carrying errno and extack.
   */
  request(type: number, payload: Buffer[], ctx: RequestContext, flags = 0): Promise<NetlinkMessage[]> {
    return new Promise((resolve, reject) => {
      const p = this.makePending(type, NLM_F_REQUEST | NLM_F_ACK | flags, payload, ctx, false, (r) => resolve(r), reject);
      if (!p) return;
      this.queue.push(p);
      this.schedulePump();
    });
  }

  /** A dump (NLM_F_DUMP), retried up to `retries` times while the kernel flags it interrupted. */
  async dump(type: number, payload: Buffer[], ctx: RequestContext & { retries?: number }): Promise<DumpResult> {
    const retries = ctx.retries ?? 3;
    for (let attempt = 1; ; attempt++) {
      const r = await new Promise<{ messages: NetlinkMessage[]; interrupted: boolean }>((resolve, reject) => {
        const p = this.makePending(type, NLM_F_REQUEST | NLM_F_DUMP, payload, ctx, true, (messages, interrupted) => resolve({ messages, interrupted }), reject);
        if (!p) return;
        this.dumpQueue.push(p);
        this.schedulePump();
      });
      if (!r.interrupted || attempt > retries) return { ...r, attempts: attempt };
      this.logger?.debug({ operation: ctx.operation, attempt }, 'netlink dump interrupted (NLM_F_DUMP_INTR), retrying');
    }
  }

  get pendingCount(): number {
    return this.inFlight.size + (this.queue.length - this.queueHead) + this.dumpQueue.length;
  }

  close(): void {
    if (this.closedError) return;
    this.closedError = new NetlinkError({ operation: this.socket.label }, ESHUTDOWN, {}, 'client closed');
    for (const p of [...this.inFlight.values(), ...this.queue.slice(this.queueHead), ...this.dumpQueue]) this.fail(p, this.closedError);
    this.queue = [];
    this.queueHead = 0;
    this.dumpQueue.length = 0;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    this.socket.close();
  }

  private makePending(
    type: number,
    flags: number,
    payload: Buffer[],
    ctx: RequestContext,
    dump: boolean,
    resolve: Pending['resolve'],
    reject: Pending['reject'],
  ): Pending | null {
    if (this.closedError) {
      reject(new NetlinkError(ctx, ESHUTDOWN, {}, 'client closed'));
      return null;
    }
    const seq = this.nextSeq();
    const bytes = encodeMessage({ type, flags, seq, pid: 0 }, ...payload);
    return { seq, bytes, dump, ctx, replies: [], interrupted: false, deadline: Infinity, resolve, reject };
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Deferred so requests issued in one synchronous burst share datagrams.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closedError) return;
    if (!this.dumpRunning && this.dumpQueue.length) {
      const d = this.dumpQueue.shift()!;
      this.dumpRunning = true;
      this.sendBatch([d]);
    }
    while (this.queueHead < this.queue.length && this.inFlight.size < this.maxInFlight) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.queueHead < this.queue.length && this.inFlight.size + batch.length < this.maxInFlight) {
        const next = this.queue[this.queueHead]!;
        if (batch.length && bytes + next.bytes.length > this.maxBatchBytes) break;
        batch.push(next);
        this.queue[this.queueHead++] = undefined as unknown as Pending;
        bytes += next.bytes.length;
      }
      this.sendBatch(batch);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 4096) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.socket.setRef(this.pendingCount > 0);
  }

  private sendBatch(batch: Pending[]): void {
    for (const p of batch) {
      this.inFlight.set(p.seq, p);
      this.armTimer(p);
      this.trace('out', p.bytes);
    }
    try {
      this.socket.send(batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes)));
    } catch (e) {
      const err = e as Error & { errno?: number };
      for (const p of batch) this.fail(p, new NetlinkError(p.ctx, err.errno ?? 5, {}, `sendmsg failed: ${err.message}`));
    }
  }

  // One sweeper for all requests instead of a timer each: a push of thousands of requests
  // would otherwise spend much of its time creating and clearing timers.
  private sweeper: NodeJS.Timeout | null = null;
  private lastSweepAt = 0;

  private get sweepIntervalMs(): number {
    return Math.max(5, Math.min(250, this.timeoutMs / 4));
  }

  private armTimer(p: Pending): void {
    p.deadline = performance.now() + (p.ctx.timeoutMs ?? this.timeoutMs);
    if (!this.sweeper) {
      this.lastSweepAt = performance.now();
      this.sweeper = setInterval(() => this.sweep(), this.sweepIntervalMs);
    }
  }

  private sweep(): void {
    const now = performance.now();
    // Timers run before the poll phase: after the event loop was stalled (a long synchronous
    // task, a starved machine), replies that arrived meanwhile are still unread. The time the
    // loop could not read does not count against a request, or a stall becomes a false timeout.
    const stalled = now - this.lastSweepAt - this.sweepIntervalMs;
    this.lastSweepAt = now;
    if (stalled > Math.max(50, this.sweepIntervalMs)) for (const p of this.inFlight.values()) p.deadline += stalled;
    for (const p of [...this.inFlight.values()]) {
      if (p.deadline > now) continue;
      const ms = p.ctx.timeoutMs ?? this.timeoutMs;
      this.fail(p, new NetlinkError(p.ctx, ETIMEDOUT, {}, `no ${p.dump ? 'dump progress' : 'reply'} within ${ms} ms (seq ${p.seq})`));
    }
    if (this.inFlight.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private finish(p: Pending): boolean {
    if (this.inFlight.get(p.seq) !== p) {
      const qi = this.queue.indexOf(p, this.queueHead);
      if (qi >= 0) this.queue.splice(qi, 1);
      const di = this.dumpQueue.indexOf(p);
      if (di >= 0) this.dumpQueue.splice(di, 1);
      if (qi < 0 && di < 0) return false;
    } else {
      this.inFlight.delete(p.seq);
      if (p.dump) this.dumpRunning = false;
    }
    this.lostSnapshot?.delete(p.seq);
    if (!this.closedError) this.schedulePump();
    if (this.pendingCount === 0) this.socket.setRef(false);
    return true;
  }

  private fail(p: Pending, e: Error): void {
    if (this.finish(p)) p.reject(e);
  }

  private succeed(p: Pending): void {
    if (this.finish(p)) p.resolve(p.replies, p.interrupted);
  }

  private onMessages(msgs: NetlinkMessage[]): void {
    for (const m of msgs) {
      if (this.logger) this.traceMessage('in', m);
      const p = this.inFlight.get(m.seq);
      if (!p || (m.pid !== 0 && m.pid !== this.socket.portId)) {
        if (m.type !== NLMSG_NOOP) this.emit('unsolicited', m);
        continue;
      }
      try {
        this.dispatch(p, m);
      } catch (e) {
        // a malformed reply fails its request, never the process
        this.fail(p, new NetlinkError(p.ctx, EBADMSG, {}, `malformed reply: ${(e as Error).message}`));
      }
    }
    this.checkLost();
  }

  private dispatch(p: Pending, m: NetlinkMessage): void {
    if (m.type === NLMSG_ERROR) {
      const ack = decodeErrorMessage(m);
      if (ack.errno === 0) this.succeed(p);
      else this.fail(p, new NetlinkError(this.withOffset(p, ack.extackOffset), ack.errno, ack));
      return;
    }
    if (m.type === NLMSG_DONE) {
      if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      const ack = decodeDoneMessage(m);
      if (ack.errno === 0) this.succeed(p);
      else this.fail(p, new NetlinkError(p.ctx, ack.errno, ack));
      return;
    }
    if (m.type === NLMSG_NOOP) return;
    if (m.type === NLMSG_OVERRUN) {
      this.onOverrun();
      return;
    }
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    p.replies.push(m);
    if (p.dump) this.armTimer(p);
  }

  /** Name the attribute an extack offset points into, when the caller gave the fixed header size. */
  private withOffset(p: Pending, offset: number | undefined): RequestContext {
    if (offset === undefined || p.ctx.offsetDescription || p.ctx.fixedLength === undefined) return p.ctx;
    const start = 16 + p.ctx.fixedLength;
    if (offset < start) return { ...p.ctx, offsetDescription: 'inside the fixed header' };
    let off = start;
    while (off + 4 <= p.bytes.length) {
      const len = p.bytes.readUInt16LE(off);
      const type = p.bytes.readUInt16LE(off + 2) & 0x3fff;
      if (len < 4) break;
      if (offset < off + ((len + 3) & ~3)) return { ...p.ctx, offsetDescription: `in attribute type ${type}` };
      off += (len + 3) & ~3;
    }
    return p.ctx;
  }

  private onOverrun(): void {
    this.logger?.warn({ socket: this.socket.label, inFlight: this.inFlight.size }, 'netlink receive queue overrun (ENOBUFS): replies may be lost');
    this.emit('overrun');
    // Replies still queued are delivered after the error; what is missing once the queue is
    // empty was dropped by the kernel.
    this.lostSnapshot = new Set(this.inFlight.keys());
    setImmediate(() => this.checkLost());
  }

  private checkLost(): void {
    if (!this.lostSnapshot || this.socket.closed) return;
    if (this.socket.hasPending()) return;
    const lost = this.lostSnapshot;
    this.lostSnapshot = null;
    for (const seq of lost) {
      const p = this.inFlight.get(seq);
      if (p) this.fail(p, new NetlinkError(p.ctx, ENOBUFS, {}, 'the reply was lost: receive queue overrun'));
    }
  }

  private onSocketError(e: Error): void {
    this.logger?.warn({ socket: this.socket.label, error: e.message }, 'netlink receive error');
    // A malformed reply whose header could still be read fails its own request at once.
    const seq = e instanceof NetlinkParseError ? e.header?.seq : undefined;
    const p = seq === undefined ? undefined : this.inFlight.get(seq);
    if (p) this.fail(p, new NetlinkError(p.ctx, EBADMSG, {}, `malformed reply: ${e.message}`));
    this.emit('socket-error', e);
  }

  private trace(direction: 'in' | 'out', bytes: Buffer): void {
    if (!this.logger || !(this.logger.isLevelEnabled?.('debug') ?? true)) return;
    this.logger.debug({ socket: this.socket.label, direction, message: this.describe(bytes) }, 'netlink');
  }

  private traceMessage(direction: 'in' | 'out', m: NetlinkMessage): void {
    if (!this.logger || !(this.logger.isLevelEnabled?.('debug') ?? true)) return;
    this.logger.debug({ socket: this.socket.label, direction, message: formatControlMessage(m, this.formatter) }, 'netlink');
  }

  private describe(bytes: Buffer): string {
    const m: NetlinkMessage = {
      type: bytes.readUInt16LE(4),
      flags: bytes.readUInt16LE(6),
      seq: bytes.readUInt32LE(8),
      pid: bytes.readUInt32LE(12),
      payload: bytes.subarray(16, bytes.readUInt32LE(0)),
    };
    return formatControlMessage(m, this.formatter);
  }
}
