// The request layer against a scripted kernel: ACK/error with extack, GET replies, timeouts,
// multipart dumps with NLM_F_DUMP_INTR retries, serialised dumps, lost replies after ENOBUFS,
// malformed replies, and pipelining (bursts share datagrams, in-flight bound respected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkClient, type NetlinkTransport } from '../../src/kernel/netlink/client.ts';
import type { NetlinkHandlers } from '../../src/kernel/netlink/socket.ts';
import { encodeMessage, parseDatagram, parseMessages, type NetlinkMessage } from '../../src/kernel/netlink/message.ts';
import { attr, attrString, attrU32 } from '../../src/kernel/netlink/attributes.ts';
import { NetlinkError } from '../../src/kernel/netlink/errors.ts';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI } from '../../src/kernel/netlink/constants.ts';

type Responder = (m: NetlinkMessage) => Buffer[] | 'drop';

class ScriptedKernel implements NetlinkTransport {
  readonly label = 'scripted';
  readonly portId = 4242;
  closed = false;
  h!: NetlinkHandlers;
  datagrams: NetlinkMessage[][] = [];
  queued = 0;
  constructor(public respond: Responder) {}
  send(data: Buffer): void {
    const msgs = parseMessages(data);
    this.datagrams.push(msgs);
    for (const m of msgs) {
      const r = this.respond(m);
      if (r === 'drop') continue;
      this.queued += r.length;
      setImmediate(() => {
        this.queued -= r.length;
        this.deliver(r);
      });
    }
  }
  /** as NetlinkSocket does: framing errors go to error(), good messages to messages() */
  deliver(datagrams: Buffer[]): void {
    const all: NetlinkMessage[] = [];
    for (const d of datagrams) {
      const r = parseDatagram(d);
      all.push(...r.messages);
      if (r.error) this.h.error(r.error);
    }
    if (all.length) this.h.messages(all);
  }
  start(h: NetlinkHandlers): void {
    this.h = h;
  }
  hasPending(): boolean {
    return this.queued > 0;
  }
  setRef(): void {}
  close(): void {
    this.closed = true;
  }
}

function ack(req: NetlinkMessage, errno = 0, extack?: { msg?: string; offset?: number }): Buffer {
  const e = Buffer.alloc(4);
  e.writeInt32LE(-errno);
  const hdr = encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: 0 }).subarray(0, 16);
  hdr.writeUInt32LE(16 + req.payload.length, 0);
  const tlvs = [];
  if (extack?.msg) tlvs.push(attrString(1, extack.msg));
  if (extack?.offset !== undefined) tlvs.push(attrU32(2, extack.offset));
  return encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED | (tlvs.length ? NLM_F_ACK_TLVS : 0), seq: req.seq, pid: 4242 }, e, hdr, ...tlvs);
}

function reply(req: NetlinkMessage, type: number, payload: Buffer, flags = 0): Buffer {
  return encodeMessage({ type, flags, seq: req.seq, pid: 4242 }, payload);
}

function done(req: NetlinkMessage, flags = NLM_F_MULTI): Buffer {
  return encodeMessage({ type: NLMSG_DONE, flags, seq: req.seq, pid: 4242 }, Buffer.alloc(4));
}

test('ACK resolves; NLMSG_ERROR rejects with errno, operation, object, extack text and the attribute at the offset', async () => {
  const k = new ScriptedKernel((m) => (m.type === 0x13 ? [ack(m)] : [ack(m, 93, { msg: 'Requested type not found', offset: 16 + 224 + 4 })]));
  const c = new NetlinkClient(k);
  assert.deepEqual(await c.request(0x13, [Buffer.alloc(168)], { operation: 'xfrm NEWPOLICY' }), []);
  await assert.rejects(
    c.request(0x10, [Buffer.alloc(224), attr(20, Buffer.alloc(100)), attr(2, Buffer.alloc(84))], { operation: 'xfrm NEWSA', object: 'SA esp spi 0x00001001', fixedLength: 224 }),
    (e: NetlinkError) => {
      assert.ok(e instanceof NetlinkError);
      assert.equal(e.errno, 93);
      assert.equal(e.code, 'EPROTONOSUPPORT');
      assert.equal(e.extackMessage, 'Requested type not found');
      assert.match(e.message, /xfrm NEWSA SA esp spi 0x00001001: EPROTONOSUPPORT \(errno 93\): kernel says "Requested type not found" \(at request byte 244, in attribute type 20\)/);
      return true;
    },
  );
  c.close();
});

test('a GET reply followed by the ACK resolves with the reply; every request carries NLM_F_ACK', async () => {
  const k = new ScriptedKernel((m) => [reply(m, 0x10, Buffer.alloc(224, 1)), ack(m)]);
  const c = new NetlinkClient(k);
  const r = await c.request(0x12, [Buffer.alloc(24)], { operation: 'xfrm GETSA' });
  assert.equal(r.length, 1);
  assert.equal(r[0]!.type, 0x10);
  assert.equal(k.datagrams[0]![0]!.flags & 0x5, 0x5);
  c.close();
});

test('no reply: the request times out with ETIMEDOUT naming the operation', async () => {
  const c = new NetlinkClient(new ScriptedKernel(() => 'drop'), { timeoutMs: 30 });
  await assert.rejects(c.request(0x13, [], { operation: 'xfrm NEWPOLICY', object: 'policy out' }), /xfrm NEWPOLICY policy out: ETIMEDOUT \(errno 110\): no reply within 30 ms/);
  c.close();
});

test('multipart dump: parts until NLMSG_DONE; NLM_F_DUMP_INTR retried, then reported', async () => {
  let dumps = 0;
  const k = new ScriptedKernel((m) => {
    assert.equal(m.flags & NLM_F_DUMP, NLM_F_DUMP);
    dumps++;
    const intr = dumps <= 2 ? NLM_F_DUMP_INTR : 0;
    return [Buffer.concat([reply(m, 0x13, Buffer.alloc(168), NLM_F_MULTI | intr), reply(m, 0x13, Buffer.alloc(168), NLM_F_MULTI)]), done(m)];
  });
  const c = new NetlinkClient(k);
  const r = await c.dump(0x15, [], { operation: 'xfrm GETPOLICY dump', retries: 3 });
  assert.equal(r.messages.length, 2);
  assert.equal(r.interrupted, false);
  assert.equal(r.attempts, 3);
  dumps = 0;
  const r2 = await c.dump(0x15, [], { operation: 'xfrm GETPOLICY dump', retries: 1 });
  assert.equal(r2.interrupted, true, 'still interrupted after the retries: the caller is told');
  c.close();
});

test('dumps are serialised on one socket (the kernel allows one at a time)', async () => {
  const pendingDones: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  const k: ScriptedKernel = new ScriptedKernel((m) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    pendingDones.push(() => {
      running--;
      k.h.messages(parseMessages(done(m)));
    });
    return [];
  });
  const c = new NetlinkClient(k);
  const a = c.dump(0x12, [], { operation: 'a' });
  const b = c.dump(0x15, [], { operation: 'b' });
  await new Promise((r) => setImmediate(r));
  assert.equal(k.datagrams.length, 1, 'second dump waits');
  pendingDones.shift()!();
  await a;
  await new Promise((r) => setImmediate(r));
  assert.equal(k.datagrams.length, 2);
  pendingDones.shift()!();
  await b;
  assert.equal(maxRunning, 1);
  c.close();
});

test('after ENOBUFS, requests whose replies never come are failed as lost, others complete', async () => {
  const k = new ScriptedKernel((m) => (m.seq % 2 ? 'drop' : [ack(m)]));
  const c = new NetlinkClient(k, { timeoutMs: 10_000 });
  let overruns = 0;
  c.on('overrun', () => overruns++);
  const reqs = Array.from({ length: 6 }, () => c.request(0x13, [], { operation: 'xfrm NEWPOLICY' }).then(() => 'ok', (e: NetlinkError) => e.code));
  await new Promise((r) => setImmediate(r));
  k.h.overrun();
  const results = await Promise.all(reqs);
  assert.equal(overruns, 1);
  assert.equal(results.filter((x) => x === 'ok').length, 3);
  assert.equal(results.filter((x) => x === 'ENOBUFS').length, 3);
  c.close();
});

test('a malformed reply fails its request (EBADMSG) and the client keeps working', async () => {
  let n = 0;
  const k = new ScriptedKernel((m) => {
    if (n++ === 0) {
      const e = ack(m, 0);
      return [e.subarray(0, 18)]; // NLMSG_ERROR cut inside the errno: nlmsg_len is now wrong too
    }
    return [ack(m)];
  });
  const c = new NetlinkClient(k, { timeoutMs: 5000 });
  // The cut datagram cannot be framed, but its header names the request: it fails at once.
  await assert.rejects(c.request(0x13, [], { operation: 'first' }), /first: EBADMSG \(errno 74\): malformed reply: .*nlmsg_len 36 exceeds the 18 bytes left/);
  await c.request(0x13, [], { operation: 'second' });
  // A well-framed NLMSG_ERROR with a short payload is a malformed reply for its request.
  const k2 = new ScriptedKernel((m) => [encodeMessage({ type: NLMSG_ERROR, flags: 0, seq: m.seq, pid: 0 }, Buffer.alloc(2))]);
  const c2 = new NetlinkClient(k2);
  await assert.rejects(c2.request(0x13, [], { operation: 'third' }), /third: EBADMSG \(errno 74\): malformed reply/);
  c.close();
  c2.close();
});

test('pipelining: a burst of requests shares datagrams and respects maxInFlight', async () => {
  let inFlight = 0;
  let peak = 0;
  let batch: Buffer[] = [];
  // like the kernel + socket: ACKs queue up and are delivered in batches per event-loop turn
  const k: ScriptedKernel = new ScriptedKernel((m) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    if (!batch.length) {
      setImmediate(() => {
        const b = batch;
        batch = [];
        inFlight -= b.length;
        k.deliver(b);
      });
    }
    batch.push(ack(m));
    return [];
  });
  const c = new NetlinkClient(k, { maxInFlight: 64 });
  await Promise.all(Array.from({ length: 1000 }, (_, i) => c.request(0x13, [Buffer.alloc(168, i & 0xff)], { operation: 'p' })));
  assert.ok(peak <= 64, `peak in flight ${peak}`);
  assert.ok(k.datagrams.length <= 40, `1000 requests in ${k.datagrams.length} datagrams`);
  const seqs = k.datagrams.flat().map((m) => m.seq);
  assert.equal(new Set(seqs).size, 1000, 'unique sequence numbers');
  c.close();
});

test('close() fails pending requests and refuses new ones', async () => {
  const c = new NetlinkClient(new ScriptedKernel(() => 'drop'));
  const p = c.request(0x13, [], { operation: 'x' });
  await new Promise((r) => setImmediate(r));
  c.close();
  await assert.rejects(p, /ESHUTDOWN/);
  await assert.rejects(c.request(0x13, [], { operation: 'y' }), /ESHUTDOWN/);
});
