// PF_KEY v2 client: requests keyed by (seq, pid) with timeouts, serialised dumps, REGISTER so
// EXPIRE/ACQUIRE arrive, optional promiscuous mode, and kernel notifications as typed events.
//
// What af_key.c does that shapes this (DIGEST §2.1.5):
// - ADD/UPDATE/DELETE/SPD* replies are the broadcast notification carrying the requester's
//   seq/pid; GET/GETSPI/DUMP/REGISTER replies and errors go to the requester only.
// - A promiscuous socket gets a copy of every request any socket sends (its own included,
//   before the reply) and a second copy of messages addressed to it; echoes are dropped by
//   comparing with the bytes we sent, duplicates by a short window of recent messages.
// - DUMP replies carry the requester's pid, seq count+1, and seq 0 on the last message; an empty
//   table answers ENOENT. One dump per socket at a time (EBUSY otherwise): dumps are serialised.
// - X_MIGRATE has no success reply; a following X_PCHANGE (always EOPNOTSUPP, to us only) is
//   used as a barrier: if no error for the MIGRATE came before it, the MIGRATE succeeded.
// - Messages with errno != 0 or version != 2 never change state (D02): counted and ignored.
import { randomInt } from 'node:crypto';
import {
  PF_KEY_V2,
  SADB_DUMP,
  SADB_SATYPE_AH,
  SADB_SATYPE_ESP,
  SADB_SATYPE_UNSPEC,
  SADB_X_MIGRATE,
  SADB_X_PCHANGE,
  SADB_X_SPDDUMP,
  satypeName,
} from './constants.ts';
import { decodePfkeyMessage, tryDecodePfkeyMessage as tryDecodeImported } from './decode.ts';
import { RecentMessages } from './dedupe.ts';
import { encodePfkeyMessage, type MessageInput } from './encode.ts';
import { ENOENT, EOPNOTSUPP } from './errno.ts';
import { PfkeyError, PfkeyRequestError } from './errors.ts';
import { classifyMessage as classifyImported, type PfkeyEvent } from './events.ts';
import { spiHex } from './format.ts';
import {
  addRequest,
  barrierRequest,
  deleteRequest,
  dumpRequest,
  flushRequest,
  getRequest,
  getspiRequest,
  migrateRequest,
  promiscRequest,
  registerRequest,
  spdAddRequest,
  spdDelete2Request,
  spdDeleteRequest,
  spdDumpRequest,
  spdFlushRequest,
  type Envelope,
  type GetspiSpec,
  type MigrateSpec,
  type PolicySelectorSpec,
  type PolicySpec,
  type SaRef,
  type SaSpec,
} from './requests.ts';
import { toSockaddr } from './sockaddr.ts';
import { openPfkeySocket, type PfkeyDatagram, type PfkeySocketOptions, type PfkeyTransport } from './transport.ts';
import type { PfkeyMessage, SadbAlg } from './types.ts';

export interface PfkeyClientOptions extends PfkeySocketOptions {
  /** satypes to SADB_REGISTER at open (EXPIRE and ACQUIRE reach registered sockets only); default ESP and AH */
  register?: number[];
  /** SADB_X_PROMISC at open: see other sockets' GETSPI replies (DIGEST OP-18 b) */
  promiscuous?: boolean;
  /** per request, and per message during dumps; default 5000 ms */
  timeoutMs?: number;
  /**
   * for SADB_REGISTER, default max(timeoutMs, 30000 ms): the first REGISTER makes the kernel
   * probe every algorithm (xfrm_probe_algs), which can load crypto modules one by one
   */
  registerTimeoutMs?: number;
  /** sadb_msg_pid of our requests; default process.pid */
  pid?: number;
  /** keep KEY_AUTH/KEY_ENCRYPT in received messages (default: wiped and removed on receipt) */
  retainKeys?: boolean;
  /** whether the open socket keeps the process alive (default true) */
  ref?: boolean;
  /** a ready transport instead of a new PF_KEY socket (tests) */
  transport?: PfkeyTransport;
  /** clock for the duplicate window (tests) */
  now?: () => number;
}

export interface PfkeyStats {
  received: number;
  events: number;
  replies: number;
  malformed: number;
  truncated: number;
  /** D02: version != 2 */
  ignoredVersion: number;
  /** D02: errno != 0 and not a reply to one of our requests */
  ignoredErrno: number;
  /** exact copies within the duplicate window (promiscuous double delivery, FLUSH reply + notification) */
  duplicates: number;
  /** our own requests echoed to our promiscuous socket */
  ownEchoes: number;
  /** other sockets' requests echoed to our promiscuous socket (e.g. GETSPI without SA, D07) */
  requestEchoes: number;
  /** replies to other sockets' requests (promiscuous), registrations of others, ... */
  notNotifications: number;
  incomplete: number;
}

export interface RegisterResult {
  auth: SadbAlg[];
  encrypt: SadbAlg[];
}

interface Pending {
  seq: number;
  type: number;
  op: string;
  what: string;
  resolve(m: PfkeyMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** our request bytes (keys wiped) that a promiscuous socket gets back first */
  echo?: Buffer;
  /** for a barrier: the seq of the request it completes */
  completes?: number;
}

interface ActiveDump {
  type: number;
  seq: number;
  op: string;
  items: PfkeyMessage[];
  resolve(items: PfkeyMessage[]): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

// Local copies of what the receive path calls per message (imported bindings are getters under tsx).
const tryDecodePfkeyMessage = tryDecodeImported;
const classifyMessage = classifyImported;
const VERSION = PF_KEY_V2;

// Process-wide so that two clients in one process never share a (seq, pid); started high so
// that our GETSPI seqs do not meet the kernel's ACQUIRE seqs (af_key binds a GETSPI whose seq
// equals an ACQUIRE's to that larval state).
let seqCounter = 0x40000000 + randomInt(0x3fffffff);
function nextSeq(): number {
  seqCounter = seqCounter >= 0xffffffff ? 1 : seqCounter + 1;
  return seqCounter;
}

function saWhat(s: { satype: number; spi?: number; src?: unknown; dst?: unknown }): string {
  const dst = s.dst === undefined ? '' : ` dst ${typeof s.dst === 'string' ? toSockaddr(s.dst).address : (s.dst as { address: string }).address}`;
  const spi = s.spi === undefined ? '' : ` spi ${spiHex(s.spi)}`;
  return `${satypeName(s.satype)}${spi}${dst}`;
}

/** Copy of the request with key bytes zeroed (what the echo will look like after our receive wipe). */
function wipedCopy(bytes: Buffer): Buffer {
  const c = Buffer.from(bytes);
  decodePfkeyMessage(c, { wipeKeys: true });
  return c;
}

export class PfkeyClient {
  readonly pid: number;
  readonly stats: PfkeyStats = {
    received: 0,
    events: 0,
    replies: 0,
    malformed: 0,
    truncated: 0,
    ignoredVersion: 0,
    ignoredErrno: 0,
    duplicates: 0,
    ownEchoes: 0,
    requestEchoes: 0,
    notNotifications: 0,
    incomplete: 0,
  };
  private readonly transport: PfkeyTransport;
  private readonly timeoutMs: number;
  private readonly registerTimeoutMs: number;
  private readonly retainKeys: boolean;
  private readonly now: () => number;
  private readonly pending = new Map<number, Pending>();
  private readonly recent = new RecentMessages();
  private readonly eventListeners = new Set<(e: PfkeyEvent) => void>();
  private readonly warningListeners = new Set<(e: Error) => void>();
  private dump: ActiveDump | null = null;
  /** our DUMP request bytes, expected back first on a promiscuous socket */
  private pendingDumpEcho: Buffer | null = null;
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private promisc = false;
  private closedFlag = false;
  private readonly registered = new Set<number>();

  /** Open a PF_KEY socket, REGISTER (ESP, AH by default), optionally go promiscuous. */
  static async open(opts: PfkeyClientOptions = {}): Promise<PfkeyClient> {
    const transport = opts.transport ?? openPfkeySocket(opts);
    const c = new PfkeyClient(transport, opts);
    try {
      for (const satype of opts.register ?? [SADB_SATYPE_ESP, SADB_SATYPE_AH]) await c.register(satype);
      if (opts.promiscuous) await c.setPromiscuous(true);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  constructor(transport: PfkeyTransport, opts: PfkeyClientOptions = {}) {
    this.transport = transport;
    this.pid = (opts.pid ?? process.pid) >>> 0;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.registerTimeoutMs = opts.registerTimeoutMs ?? Math.max(this.timeoutMs, 30_000);
    this.retainKeys = opts.retainKeys ?? false;
    this.now = opts.now ?? Date.now;
    transport.start(
      (msgs) => this.onDatagrams(msgs),
      (e) => this.warn(e),
    );
    if (opts.ref === false) transport.setRef(false);
  }

  get label(): string {
    return this.transport.label;
  }

  get promiscuous(): boolean {
    return this.promisc;
  }

  get registeredSatypes(): number[] {
    return [...this.registered];
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Kernel notifications (SA/policy changes, expiries, acquires); returns an unsubscribe function. */
  onEvent(fn: (e: PfkeyEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** Malformed datagrams, socket errors: things worth a log line that do not stop the client. */
  onWarning(fn: (e: Error) => void): () => void {
    this.warningListeners.add(fn);
    return () => this.warningListeners.delete(fn);
  }

  setRef(ref: boolean): void {
    this.transport.setRef(ref);
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const err = () => new PfkeyError('PFKEY_CLOSED', `${this.label} closed`);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err());
    }
    this.pending.clear();
    if (this.dump) {
      clearTimeout(this.dump.timer);
      this.dump.reject(err());
      this.dump = null;
    }
    this.transport.close();
  }

  // ---- requests -------------------------------------------------------------------------

  /** SADB_REGISTER: afterwards EXPIRE and ACQUIRE for `satype` reach this socket. */
  async register(satype: number): Promise<RegisterResult> {
    const reply = await this.request((env) => registerRequest(env, satype), 'REGISTER', satypeName(satype), undefined, this.registerTimeoutMs);
    this.registered.add(satype);
    return { auth: reply.ext.supportedAuth?.algs ?? [], encrypt: reply.ext.supportedEncrypt?.algs ?? [] };
  }

  async setPromiscuous(on: boolean): Promise<void> {
    await this.request((env) => promiscRequest(env, on), 'X_PROMISC', on ? 'on' : 'off');
    this.promisc = on;
  }

  /** SADB_GETSPI: reserve an SPI (a larval SA) for src->dst; `seq` answers a kernel ACQUIRE. */
  async getspi(spec: GetspiSpec & { seq?: number }): Promise<{ spi: number; message: PfkeyMessage }> {
    const reply = await this.request((env) => getspiRequest(env, spec), 'GETSPI', saWhat(spec), spec.seq);
    if (!reply.ext.sa) throw new PfkeyError('PFKEY_MALFORMED', `PF_KEY GETSPI ${saWhat(spec)}: reply has no SA extension`);
    return { spi: reply.ext.sa.spi, message: reply };
  }

  add(spec: SaSpec): Promise<PfkeyMessage> {
    return this.request((env) => addRequest(env, spec), 'ADD', saWhat(spec));
  }

  update(spec: SaSpec): Promise<PfkeyMessage> {
    return this.request((env) => addRequest(env, spec, true), 'UPDATE', saWhat(spec));
  }

  delete(ref: SaRef): Promise<PfkeyMessage> {
    return this.request((env) => deleteRequest(env, ref), 'DELETE', saWhat(ref));
  }

  get(ref: SaRef): Promise<PfkeyMessage> {
    return this.request((env) => getRequest(env, ref), 'GET', saWhat(ref));
  }

  /** SADB_FLUSH of one satype (UNSPEC: all). */
  async flush(satype = SADB_SATYPE_UNSPEC): Promise<void> {
    await this.request((env) => flushRequest(env, satype), 'FLUSH', satypeName(satype));
  }

  /** SADB_DUMP of one satype (UNSPEC: all): every SA, in kernel order. */
  dumpSas(satype = SADB_SATYPE_UNSPEC): Promise<PfkeyMessage[]> {
    return this.serialDump(SADB_DUMP, (env) => dumpRequest(env, satype), `DUMP ${satypeName(satype)}`);
  }

  spdAdd(spec: PolicySpec): Promise<PfkeyMessage> {
    return this.request((env) => spdAddRequest(env, spec), 'X_SPDADD', `${spec.dir} policy`);
  }

  spdUpdate(spec: PolicySpec): Promise<PfkeyMessage> {
    return this.request((env) => spdAddRequest(env, spec, true), 'X_SPDUPDATE', `${spec.dir} policy`);
  }

  spdDelete(sel: PolicySelectorSpec): Promise<PfkeyMessage> {
    return this.request((env) => spdDeleteRequest(env, sel), 'X_SPDDELETE', `${sel.dir} policy`);
  }

  spdDeleteById(id: number): Promise<PfkeyMessage> {
    return this.request((env) => spdDelete2Request(env, id), 'X_SPDDELETE2', `policy id ${id}`);
  }

  spdGet(id: number): Promise<PfkeyMessage> {
    return this.request((env) => spdDelete2Request(env, id, true), 'X_SPDGET', `policy id ${id}`);
  }

  spdDump(): Promise<PfkeyMessage[]> {
    return this.serialDump(SADB_X_SPDDUMP, (env) => spdDumpRequest(env), 'X_SPDDUMP');
  }

  async spdFlush(): Promise<void> {
    await this.request((env) => spdFlushRequest(env), 'X_SPDFLUSH', '');
  }

  /** SADB_X_MIGRATE: move the SAs/policy of `selector` from old to new endpoints. */
  async migrate(spec: MigrateSpec): Promise<void> {
    if (this.closedFlag) throw new PfkeyError('PFKEY_CLOSED', `${this.label} closed: cannot X_MIGRATE`);
    const env: Envelope = { seq: nextSeq(), pid: this.pid };
    const what = `${spec.selector.dir} policy`;
    // Longer than the barrier's own timeout, so that a missing barrier reply is what reports.
    const done = this.track(env.seq, SADB_X_MIGRATE, 'X_MIGRATE', what, undefined, 2 * this.timeoutMs);
    // The barrier resolves the MIGRATE when no error for it arrived first; without the
    // barrier's reply (send failure, timeout) the outcome is unknown and the MIGRATE fails.
    const barrierEnv: Envelope = { seq: nextSeq(), pid: this.pid };
    const barrier = this.track(barrierEnv.seq, SADB_X_PCHANGE, 'X_PCHANGE', 'barrier', env.seq);
    barrier.promise.catch((e: Error) => {
      if (this.pending.get(env.seq) !== done.pending) return;
      this.dropPending(env.seq);
      done.pending.reject(new PfkeyError(e instanceof PfkeyError ? e.code : 'PFKEY_SEND_FAILED', `PF_KEY X_MIGRATE ${what}: outcome unknown: ${e.message}`));
    });
    this.sendTracked(done, () => migrateRequest(env, spec));
    if (this.pending.has(env.seq)) this.sendTracked(barrier, () => barrierRequest(barrierEnv));
    else this.dropPending(barrierEnv.seq);
    await done.promise;
  }

  // ---- plumbing -------------------------------------------------------------------------

  private request(
    build: (env: Envelope) => MessageInput,
    op: string,
    what: string,
    seq?: number,
    timeoutMs = this.timeoutMs,
  ): Promise<PfkeyMessage> {
    if (this.closedFlag) return Promise.reject(new PfkeyError('PFKEY_CLOSED', `${this.label} closed: cannot ${op}`));
    const env: Envelope = { seq: seq ?? nextSeq(), pid: this.pid };
    if (this.pending.has(env.seq))
      return Promise.reject(new PfkeyError('PFKEY_SEND_FAILED', `PF_KEY ${op}: seq ${env.seq} already has a request in flight`));
    let input: MessageInput;
    try {
      input = build(env);
    } catch (e) {
      return Promise.reject(e);
    }
    const t = this.track(env.seq, input.type, op, what, undefined, timeoutMs);
    this.sendTracked(t, () => input);
    return t.promise;
  }

  private track(
    seq: number,
    type: number,
    op: string,
    what: string,
    completes?: number,
    timeoutMs = this.timeoutMs,
  ): { pending: Pending; promise: Promise<PfkeyMessage> } {
    let resolve!: (m: PfkeyMessage) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<PfkeyMessage>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = {
      seq,
      type,
      op,
      what,
      resolve,
      reject,
      // judged after the next poll phase: a reply that arrived while the loop was stalled is read first
      timer: setTimeout(() => setImmediate(() => {
        if (this.pending.get(seq) !== p) return;
        this.pending.delete(seq);
        reject(new PfkeyError('PFKEY_TIMEOUT', `PF_KEY ${op}${what ? ` ${what}` : ''}: no reply within ${timeoutMs} ms (seq ${seq})`));
      }), timeoutMs),
      ...(completes !== undefined ? { completes } : {}),
    };
    this.pending.set(seq, p);
    return { pending: p, promise };
  }

  private dropPending(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(seq);
  }

  /** Encode, remember the echo, send, wipe our copy of the bytes; failures reject the request. */
  private sendTracked(t: { pending: Pending }, build: () => MessageInput): void {
    const p = t.pending;
    let bytes: Buffer | undefined;
    try {
      bytes = encodePfkeyMessage(build());
      if (this.promisc) p.echo = wipedCopy(bytes);
      this.transport.send(bytes);
    } catch (e) {
      this.dropPending(p.seq);
      const detail = e instanceof Error ? e.message : String(e);
      const err =
        e instanceof PfkeyError
          ? e
          : new PfkeyError('PFKEY_SEND_FAILED', `PF_KEY ${p.op}${p.what ? ` ${p.what}` : ''}: send failed: ${detail}`);
      p.reject(err);
    } finally {
      bytes?.fill(0);
    }
  }

  private serialDump(type: number, build: (env: Envelope) => MessageInput, op: string): Promise<PfkeyMessage[]> {
    const run = () => this.runDump(type, build, op);
    const next = this.dumpQueue.then(run, run);
    this.dumpQueue = next.catch(() => undefined);
    return next;
  }

  private runDump(type: number, build: (env: Envelope) => MessageInput, op: string): Promise<PfkeyMessage[]> {
    if (this.closedFlag) return Promise.reject(new PfkeyError('PFKEY_CLOSED', `${this.label} closed: cannot ${op}`));
    return new Promise<PfkeyMessage[]>((resolve, reject) => {
      const env: Envelope = { seq: nextSeq(), pid: this.pid };
      const fail = (e: Error) => {
        if (this.dump !== d) return;
        clearTimeout(d.timer);
        this.dump = null;
        reject(e);
      };
      const d: ActiveDump = {
        type,
        seq: env.seq,
        op,
        items: [],
        resolve: (items) => {
          clearTimeout(d.timer);
          this.dump = null;
          resolve(items);
        },
        reject: fail,
        timer: this.dumpTimer(() => d),
      };
      this.dump = d;
      let bytes: Buffer | undefined;
      try {
        bytes = encodePfkeyMessage(build(env));
        this.pendingDumpEcho = this.promisc ? wipedCopy(bytes) : null;
        this.transport.send(bytes);
      } catch (e) {
        fail(e instanceof PfkeyError ? e : new PfkeyError('PFKEY_SEND_FAILED', `PF_KEY ${op}: send failed: ${(e as Error).message}`));
      } finally {
        bytes?.fill(0);
      }
    });
  }

  private dumpTimer(get: () => ActiveDump): NodeJS.Timeout {
    const timer: NodeJS.Timeout = setTimeout(() => {
      // judged after the next poll phase (a stalled loop has unread messages); a message that
      // came meanwhile re-armed the dump's timer, and the dump goes on
      setImmediate(() => {
        const d = get();
        if (d.timer !== timer || this.dump !== d) return;
        d.reject(new PfkeyError('PFKEY_TIMEOUT', `PF_KEY ${d.op}: no message within ${this.timeoutMs} ms (${d.items.length} received)`));
      });
    }, this.timeoutMs);
    return timer;
  }

  private warn(e: Error): void {
    for (const fn of this.warningListeners) fn(e);
  }

  private emit(ev: PfkeyEvent): void {
    this.stats.events++;
    for (const fn of this.eventListeners) {
      try {
        fn(ev);
      } catch (e) {
        this.warn(new Error(`PF_KEY event listener threw on ${ev.kind}: ${(e as Error).message}`));
      }
    }
  }

  private onDatagrams(msgs: PfkeyDatagram[]): void {
    for (const d of msgs) {
      try {
        this.onDatagram(d);
      } catch (e) {
        // A bug here must not take the socket down; the datagram is dropped with a warning.
        this.warn(new Error(`${this.label}: dropped a message after an internal error: ${(e as Error).message}`));
      }
    }
  }

  private onDatagram(d: PfkeyDatagram): void {
    if (this.closedFlag) return;
    this.stats.received++;
    const raw = d.data;
    if (d.truncated) {
      this.stats.truncated++;
      raw.fill(0);
      this.warn(new PfkeyError('PFKEY_MALFORMED', `${this.label}: a message larger than the receive buffer was truncated and dropped`));
      return;
    }
    if (raw.length >= 1 && raw[0] !== VERSION) {
      this.stats.ignoredVersion++;
      raw.fill(0);
      return;
    }
    const r = tryDecodePfkeyMessage(raw, { wipeKeys: true, dropKeys: !this.retainKeys });
    if (!r.ok) {
      this.stats.malformed++;
      raw.fill(0);
      this.warn(r.error);
      return;
    }
    const msg = r.message;

    if (this.isOwnEcho(msg, raw)) {
      this.stats.ownEchoes++;
      return;
    }
    // Exact copies: promiscuous double delivery, and FLUSH answered both by a unicast reply and
    // by the broadcast notification.
    if (this.recent.seen(raw, this.now())) {
      this.stats.duplicates++;
      return;
    }

    const dump = this.dump;
    if (dump && msg.type === dump.type && msg.pid === this.pid && (msg.errno === 0 || msg.seq === dump.seq)) {
      this.onDumpMessage(dump, msg);
      return;
    }

    const p = this.pending.get(msg.seq);
    const matches = p !== undefined && msg.pid === this.pid && msg.type === p.type;
    if (msg.errno !== 0) {
      if (matches) this.onErrorReply(p!, msg);
      else this.stats.ignoredErrno++;
      return;
    }
    if (matches) {
      this.stats.replies++;
      this.dropPending(p!.seq);
      p!.resolve(msg);
    }
    const c = classifyMessage(msg);
    if ('event' in c) this.emit(c.event);
    else if (!matches) {
      if (c.ignored === 'request-echo') this.stats.requestEchoes++;
      else if (c.ignored === 'incomplete') this.stats.incomplete++;
      else this.stats.notNotifications++;
    }
  }

  private isOwnEcho(msg: PfkeyMessage, raw: Buffer): boolean {
    if (msg.pid !== this.pid) return false;
    if (this.pendingDumpEcho && this.dump && msg.seq === this.dump.seq && raw.equals(this.pendingDumpEcho)) {
      this.pendingDumpEcho = null;
      return true;
    }
    const p = this.pending.get(msg.seq);
    if (p?.echo && raw.equals(p.echo)) {
      p.echo = undefined;
      return true;
    }
    return false;
  }

  private onErrorReply(p: Pending, msg: PfkeyMessage): void {
    this.stats.replies++;
    this.dropPending(p.seq);
    if (p.completes !== undefined) {
      // The barrier's EOPNOTSUPP: everything for the earlier request has been delivered.
      const target = this.pending.get(p.completes);
      if (target) {
        this.dropPending(target.seq);
        if (msg.errno === EOPNOTSUPP) target.resolve(msg);
        else target.reject(new PfkeyRequestError(`${target.op} (barrier)`, target.what, msg.errno));
      }
      p.resolve(msg);
      return;
    }
    p.reject(new PfkeyRequestError(p.op, p.what, msg.errno));
  }

  private onDumpMessage(d: ActiveDump, msg: PfkeyMessage): void {
    if (msg.errno !== 0) {
      this.stats.replies++;
      if (msg.errno === ENOENT && d.items.length === 0) d.resolve([]);
      else d.reject(new PfkeyRequestError(d.op, '', msg.errno));
      return;
    }
    clearTimeout(d.timer);
    d.items.push(msg);
    if (msg.seq === 0) {
      this.stats.replies++;
      d.resolve(d.items);
    } else {
      d.timer = this.dumpTimer(() => d);
    }
  }
}
