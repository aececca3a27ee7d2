// A test double of Linux af_key's delivery rules (net/key/af_key.c, pfkey_broadcast and the
// handlers), enough to exercise the client on a host without af_key: per-socket promiscuous
// and registered flags, the echo of every request to promiscuous sockets (the sender included)
// before processing, BROADCAST_ONE/ALL/REGISTERED with the promiscuous double delivery, DUMP
// with seq count+1 and a last seq 0 (ENOENT when empty), FLUSH answered twice, GETSPI replies to
// the requester only, X_PCHANGE -> EOPNOTSUPP, MIGRATE with no direct reply. Replies are built
// with the independent fixture builder.
import { parseIPv6 } from '../../src/common/ipv6.ts';
import { decodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import type { PfkeyDatagram, PfkeyTransport } from '../../src/kernel/pfkey/transport.ts';
import * as F from './pfkey-fixtures.ts';

const BROADCAST_ALL = 0;
const BROADCAST_ONE = 1;
const BROADCAST_REGISTERED = 2;
const BROADCAST_PROMISC_ONLY = 4;

const EEXIST = 17;
const ESRCH = 3;
const ENOENT = 2;
const EOPNOTSUPP = 95;
const EINVAL = 22;

interface FakeSa {
  satype: number;
  spi: number;
  src: Uint8Array;
  dst: Uint8Array;
  reqid: number;
}

export class FakeSocket implements PfkeyTransport {
  readonly label: string;
  promisc = false;
  registered = 0;
  closed = false;
  sent: Buffer[] = [];
  /** the very buffers the client passed to send() (to check it wipes them) */
  sentRefs: Buffer[] = [];
  /** the datagram buffers handed to the client (to check it wipes keys in them) */
  delivered: Buffer[] = [];
  private queue: PfkeyDatagram[] = [];
  private onMessages: ((m: PfkeyDatagram[]) => void) | null = null;
  private scheduled = false;

  constructor(
    private readonly kernel: FakePfkeyKernel,
    readonly id: number,
  ) {
    this.label = `fake PF_KEY socket ${id}`;
  }

  send(bytes: Buffer): void {
    if (this.closed) throw new Error('closed');
    const copy = Buffer.from(bytes);
    this.sent.push(copy);
    this.sentRefs.push(bytes);
    this.kernel.process(this, copy);
  }

  start(onMessages: (msgs: PfkeyDatagram[]) => void): void {
    this.onMessages = onMessages;
  }

  setRef(): void {}

  close(): void {
    this.closed = true;
    this.kernel.remove(this);
  }

  enqueue(buf: Buffer): void {
    if (this.closed) return;
    const data = Buffer.from(buf);
    this.delivered.push(data);
    this.queue.push({ data, truncated: false });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.queue;
        this.queue = [];
        if (batch.length && this.onMessages) this.onMessages(batch);
      });
    }
  }
}

export class FakePfkeyKernel {
  readonly sockets: FakeSocket[] = [];
  readonly sas = new Map<number, FakeSa>();
  private nextId = 1;
  private nextSpi = 0x1000;
  /** message types the kernel swallows without any reply (to test timeouts) */
  readonly mute = new Set<number>();
  /** errno the next MIGRATE fails with (0: succeeds) */
  migrateErrno = 0;

  socket(): FakeSocket {
    const s = new FakeSocket(this, this.nextId++);
    this.sockets.push(s);
    return s;
  }

  remove(s: FakeSocket): void {
    const i = this.sockets.indexOf(s);
    if (i >= 0) this.sockets.splice(i, 1);
  }

  /** pfkey_broadcast, rule for rule. */
  broadcast(buf: Buffer, flags: number, one: FakeSocket | null): void {
    for (const sk of this.sockets) {
      if (sk.promisc) sk.enqueue(buf);
      if (sk === one) continue;
      if (flags !== BROADCAST_ALL) {
        if (flags & BROADCAST_PROMISC_ONLY) continue;
        if (flags & BROADCAST_REGISTERED && !sk.registered) continue;
        if (flags & BROADCAST_ONE) continue;
      }
      sk.enqueue(buf);
    }
    if (one) one.enqueue(buf);
  }

  private error(sk: FakeSocket, req: Buffer, errno: number): void {
    const h = decodePfkeyMessage(req);
    this.broadcast(F.errorReply(h.type, h.satype, h.seq, h.pid, errno), BROADCAST_ONE, sk);
  }

  process(sk: FakeSocket, req: Buffer): void {
    this.broadcast(req, BROADCAST_PROMISC_ONLY, null);
    const m = decodePfkeyMessage(req);
    if (this.mute.has(m.type)) return;
    const addr = (a: { addr: { address: string } } | undefined) => parseIPv6(a!.addr.address);
    switch (m.type) {
      case 1: {
        const spi = this.nextSpi++;
        this.sas.set(spi, { satype: m.satype, spi, src: addr(m.ext.src), dst: addr(m.ext.dst), reqid: m.ext.sa2?.reqid ?? 0 });
        const reply = F.saNotify({ type: 1, satype: m.satype, seq: m.seq, pid: m.pid, spi, state: 0, keys: false, src: addr(m.ext.src), dst: addr(m.ext.dst) });
        return this.broadcast(reply, BROADCAST_ONE, sk);
      }
      case 2:
      case 3: {
        const spi = m.ext.sa!.spi;
        if (m.type === 3 && this.sas.has(spi)) return this.error(sk, req, EEXIST);
        if (m.type === 2 && !this.sas.has(spi)) return this.error(sk, req, ESRCH);
        const sa = { satype: m.satype, spi, src: addr(m.ext.src), dst: addr(m.ext.dst), reqid: m.ext.sa2?.reqid ?? 0 };
        this.sas.set(spi, sa);
        return this.broadcast(
          F.saNotify({ type: m.type, satype: m.satype, seq: m.seq, pid: m.pid, spi, src: sa.src, dst: sa.dst, reqid: sa.reqid }),
          BROADCAST_ALL,
          null,
        );
      }
      case 4:
      case 5: {
        const sa = this.sas.get(m.ext.sa!.spi);
        if (!sa) return this.error(sk, req, ESRCH);
        if (m.type === 4) this.sas.delete(sa.spi);
        const n = F.saNotify({ type: m.type, satype: sa.satype, seq: m.seq, pid: m.pid, spi: sa.spi, src: sa.src, dst: sa.dst, state: m.type === 4 ? 3 : 1 });
        return this.broadcast(n, m.type === 4 ? BROADCAST_ALL : BROADCAST_ONE, m.type === 4 ? null : sk);
      }
      case 7:
        if (sk.registered & (1 << m.satype)) return this.error(sk, req, EEXIST);
        sk.registered |= 1 << m.satype;
        return this.broadcast(F.registerReply(m.seq, m.pid, m.satype), BROADCAST_REGISTERED, sk);
      case 9: {
        const had = this.sas.size > 0;
        this.sas.clear();
        const hdr = F.message({ type: 9, satype: m.satype, seq: m.seq, pid: m.pid }, []);
        this.broadcast(hdr, BROADCAST_ONE, sk);
        if (had) this.broadcast(hdr, BROADCAST_ALL, null);
        return;
      }
      case 10: {
        const all = [...this.sas.values()].filter((s) => !m.satype || s.satype === m.satype);
        if (!all.length) return this.error(sk, req, ENOENT);
        all.forEach((sa, i) => {
          const seq = i === all.length - 1 ? 0 : i + 1;
          this.broadcast(F.saNotify({ type: 10, satype: sa.satype, seq, pid: m.pid, spi: sa.spi, src: sa.src, dst: sa.dst }), BROADCAST_ONE, sk);
        });
        return;
      }
      case 11:
        if (m.satype !== 0 && m.satype !== 1) return this.error(sk, req, EINVAL);
        sk.promisc = m.satype === 1;
        return this.broadcast(req, BROADCAST_ALL, null);
      case 12:
        return this.error(sk, req, EOPNOTSUPP);
      case 24: {
        if (this.migrateErrno) return this.error(sk, req, this.migrateErrno);
        const n = F.message({ type: 24, satype: m.satype, seq: 0, pid: 0 }, [
          F.address6Ext(5, addr(m.ext.src)),
          F.address6Ext(6, addr(m.ext.dst)),
          F.policyExt({ type: 2, dir: m.ext.policy!.dir, id: 0, priority: 0, requests: [] }),
        ]);
        return this.broadcast(n, BROADCAST_ALL, null);
      }
      default:
        return this.error(sk, req, EOPNOTSUPP);
    }
  }

  /** key_notify_sa_expire: to registered (and promiscuous) sockets. */
  expire(spi: number, hard: boolean): void {
    this.broadcast(F.expireNotify(hard, spi), BROADCAST_REGISTERED, null);
  }

  /** A SA added by someone else (e.g. `ip xfrm state add`): the ADD notification to all. */
  externalAdd(spi: number, seq = 0x55, pid = 0x66): void {
    this.sas.set(spi, { satype: 3, spi, src: F.MN_HOA, dst: F.CN_ADDR, reqid: 0 });
    this.broadcast(F.saNotify({ type: 3, seq, pid, spi }), BROADCAST_ALL, null);
  }

  /** Deliver arbitrary bytes to one socket. */
  inject(sk: FakeSocket, buf: Buffer): void {
    sk.enqueue(buf);
  }
}
