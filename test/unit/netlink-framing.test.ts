// Netlink framing and attributes, and the kernel's error/ack encoding (struct nlmsgerr +
// extended ACK TLVs) built by hand from linux/netlink.h.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, parseDatagram, parseMessages, NetlinkParseError } from '../../src/kernel/netlink/message.ts';
import { attr, attrNested, attrString, attrU32, attrU8, AttributeSet, parseAttributes, readString, readU32 } from '../../src/kernel/netlink/attributes.ts';
import { decodeDoneMessage, decodeErrorMessage, NetlinkError } from '../../src/kernel/netlink/errors.ts';
import { NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, NLA_F_NESTED } from '../../src/kernel/netlink/constants.ts';

test('messages are 4-byte aligned with nlmsg_len excluding the padding', () => {
  const a = encodeMessage({ type: 0x1c, flags: 5, seq: 9, pid: 0 }, Buffer.from([0xff]));
  assert.equal(a.length, 20);
  assert.equal(a.readUInt32LE(0), 17);
  const b = encodeMessage({ type: 0x10, flags: NLM_F_MULTI, seq: 10, pid: 4 }, Buffer.alloc(6, 1));
  const msgs = parseMessages(Buffer.concat([a, b]));
  assert.equal(msgs.length, 2);
  assert.deepEqual([...msgs[0]!.payload], [0xff]);
  assert.equal(msgs[1]!.seq, 10);
  assert.equal(msgs[1]!.pid, 4);
  assert.equal(msgs[1]!.payload.length, 6);
  // the last message of a datagram may lack its padding
  assert.equal(parseMessages(a.subarray(0, 17)).length, 1);
});

test('attributes: alignment, nesting flag, typed readers', () => {
  const nested = attrNested(18, [attrString(1, 'veth'), attrU32(2, 7)]);
  const all = Buffer.concat([attrU8(1, 5), nested, attr(3, Buffer.alloc(0))]);
  assert.equal(attrU8(1, 5).length, 8);
  const list = parseAttributes(all, 'test');
  assert.deepEqual(list.map((a) => [a.type, a.nested]), [[1, false], [18, true], [3, false]]);
  assert.equal(nested.readUInt16LE(2), 18 | NLA_F_NESTED);
  const inner = AttributeSet.parse(list[1]!.data, 'inner');
  assert.equal(readString(inner.first(1)!), 'veth');
  assert.equal(readU32(inner.first(2)!, 'x'), 7);
  assert.throws(() => readU32(list[2]!, 'empty attr'), NetlinkParseError);
});

test('attribute and message length errors are precise NetlinkParseErrors', () => {
  const bad = Buffer.from([8, 0, 1, 0, 0, 0]); // claims 8 bytes, 6 present
  assert.throws(() => parseAttributes(bad, 'thing'), /thing: attribute type 1 at offset 0 has length 8, only 6 bytes left/);
  assert.throws(() => parseAttributes(Buffer.from([2, 0, 1, 0]), 'thing'), /length 2 \(< 4\)/);
  const m = encodeMessage({ type: 16, flags: 0, seq: 3, pid: 0 }, Buffer.alloc(8));
  m.writeUInt32LE(100, 0);
  const r = parseDatagram(m);
  assert.ok(r.error instanceof NetlinkParseError);
  assert.match(r.error.message, /seq 3.*nlmsg_len 100 exceeds/);
  assert.equal(r.error.header?.seq, 3, 'the header is kept so the request can be failed');
  m.writeUInt32LE(4, 0);
  assert.match(parseDatagram(m).error!.message, /below the 16-byte header/);
});

/** struct nlmsgerr {int error; struct nlmsghdr msg;} + TLVs, as netlink_ack() builds it. */
function kernelError(errno: number, request: Buffer, opts: { capped: boolean; msg?: string; offset?: number }): Buffer {
  const e = Buffer.alloc(4);
  e.writeInt32LE(-errno);
  const echoed = opts.capped ? request.subarray(0, 16) : request;
  const tlvs: Buffer[] = [];
  if (opts.msg) tlvs.push(attrString(1, opts.msg));
  if (opts.offset !== undefined) tlvs.push(attrU32(2, opts.offset));
  const flags = (opts.capped ? NLM_F_CAPPED : 0) | (tlvs.length ? NLM_F_ACK_TLVS : 0);
  return encodeMessage({ type: NLMSG_ERROR, flags, seq: request.readUInt32LE(8), pid: 1234 }, e, echoed, ...tlvs);
}

test('NLMSG_ERROR with extended ACK, capped and uncapped, becomes errno + text + offset', () => {
  const req = encodeMessage({ type: 0x10, flags: 5, seq: 77, pid: 0 }, Buffer.alloc(224), attr(20, Buffer.alloc(100)));
  for (const capped of [true, false]) {
    const [m] = parseMessages(kernelError(93, req, { capped, msg: 'Requested type not found', offset: 240 }));
    const ack = decodeErrorMessage(m!);
    assert.equal(ack.errno, 93);
    assert.equal(ack.extackMessage, 'Requested type not found');
    assert.equal(ack.extackOffset, 240);
    assert.equal(ack.request?.seq, 77);
    const err = new NetlinkError({ operation: 'xfrm NEWSA', object: 'SA esp spi 0x00001001' }, ack.errno, ack);
    assert.equal(err.code, 'EPROTONOSUPPORT');
    assert.match(err.message, /^xfrm NEWSA SA esp spi 0x00001001: EPROTONOSUPPORT \(errno 93\): kernel says "Requested type not found" \(at request byte 240\)$/);
  }
  const [ok] = parseMessages(kernelError(0, req, { capped: true }));
  assert.equal(decodeErrorMessage(ok!).errno, 0);
});

test('NLMSG_DONE carries the dump status', () => {
  const e = Buffer.alloc(4);
  e.writeInt32LE(-22);
  const [m] = parseMessages(encodeMessage({ type: 3, flags: NLM_F_MULTI | NLM_F_ACK_TLVS, seq: 1, pid: 0 }, e, attrString(1, 'bad filter')));
  assert.deepEqual(decodeDoneMessage(m!), { errno: 22, extackMessage: 'bad filter' });
});
