// Our XFRM encoder against iproute2's bytes (captured by test/fixtures/xfrm/capture.ts), and
// our decoder against iproute2's requests and the kernel's own replies and events.
// Documented differences: nlmsg_seq (iproute2 uses time-based seqs, ours are per client) and,
// for GETSA/GETPOLICY/ALLOCSPI, nlmsg_flags (iproute2 sends NLM_F_REQUEST only, we always add
// NLM_F_ACK so every request ends with an ACK or an error). pid is 0 in both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, type NetlinkMessage } from '../../src/kernel/netlink/message.ts';
import { parseAttributes } from '../../src/kernel/netlink/attributes.ts';
import { NLM_F_ACK, NLM_F_REQUEST } from '../../src/kernel/netlink/constants.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import * as L from '../../src/kernel/xfrm/layout.ts';
import {
  decodeXfrmMessage,
  encodeAllocSpiPayload,
  encodeFlushPolicyPayload,
  encodeFlushSaPayload,
  encodePolicyIdPayload,
  encodePolicyPayload,
  encodeSaIdPayload,
  encodeSaPayload,
} from '../../src/kernel/xfrm/codec.ts';
import { HA, HOA, COA, POLICY_FIXTURES, SA_FIXTURES, loadFixture, receivedMessages, sentMessage } from '../lib/xfrm-fixtures.ts';

const NESTED: Record<string, Record<string, number>> = {
  sel: L.SELECTOR,
  id: L.ID,
  lft: L.LIFETIME_CFG,
  curlft: L.LIFETIME_CUR,
  stats: L.STATS,
  info: L.USERSA_INFO,
  state: L.USERSA_INFO,
  pol: L.USERPOLICY_INFO,
  policy: L.USERPOLICY_INFO,
};

/** "sel.daddr", "lft.hard_byte_limit", ... for a byte offset inside a fixed structure. */
function fieldAt(layout: Record<string, number>, off: number, prefix = ''): string {
  let best = '';
  let bestOff = -1;
  for (const [k, v] of Object.entries(layout)) if (k !== 'size' && v <= off && v > bestOff) [best, bestOff] = [k, v];
  const sub = NESTED[best];
  if (sub && off - bestOff < sub.size!) return fieldAt(sub, off - bestOff, `${prefix}${best}.`);
  return `${prefix}${best || '?'}`;
}

/** Every differing field/attribute between iproute2's payload and ours, by name. */
function payloadDiff(theirs: Buffer, ours: Buffer, layout: Record<string, number> | null): string[] {
  const out: string[] = [];
  const fixed = layout ? layout.size! : 0;
  const fixedAligned = (fixed + 3) & ~3;
  for (let i = 0; i < Math.min(fixed, theirs.length, ours.length); i++) {
    if (theirs[i] !== ours[i]) {
      const f = fieldAt(layout!, i);
      if (!out.includes(f)) out.push(f);
    }
  }
  const attrs = (b: Buffer) => parseAttributes(b, 'golden', Math.min(fixedAligned, b.length)).map((a) => ({ type: a.type, hex: a.data.toString('hex') }));
  const ta = attrs(theirs);
  const oa = attrs(ours);
  if (JSON.stringify(ta.map((a) => a.type)) !== JSON.stringify(oa.map((a) => a.type))) {
    out.push(`attribute types: iproute2 [${ta.map((a) => a.type)}] ours [${oa.map((a) => a.type)}]`);
  }
  for (const a of ta) {
    const o = oa.find((x) => x.type === a.type);
    if (o && o.hex !== a.hex) out.push(`attribute ${a.type} content`);
  }
  if (!out.length && !theirs.equals(ours)) out.push(`lengths iproute2 ${theirs.length} ours ${ours.length}`);
  return out;
}

function compare(name: string, type: number, ourPayload: Buffer[], layout: Record<string, number> | null, flagsDiffer = false): void {
  const theirs = sentMessage(loadFixture(name));
  const ours = encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_ACK, seq: theirs.seq, pid: 0 }, ...ourPayload);
  assert.equal(theirs.type, type, `${name}: message type`);
  assert.equal(theirs.pid, 0);
  if (flagsDiffer) assert.equal(theirs.flags, NLM_F_REQUEST, `${name}: iproute2 sends GET/ALLOCSPI without NLM_F_ACK`);
  else assert.equal(theirs.flags, ours.readUInt16LE(6), `${name}: nlmsg_flags`);
  const ourMsgPayload = ours.subarray(16, ours.readUInt32LE(0));
  const diff = payloadDiff(theirs.payload, ourMsgPayload, layout);
  assert.deepEqual(diff, [], `${name}: fields differing from iproute2: ${diff.join(', ')}`);
  assert.ok(theirs.payload.equals(ourMsgPayload), `${name}: payload bytes equal iproute2's`);
}

test('E01 NEWSA for HA-IPsec SA1 (MN, §4.2.1) matches iproute2 byte for byte', () => {
  compare('e01-sa1-newsa', C.XFRM_MSG_NEWSA, encodeSaPayload(SA_FIXTURES['e01-sa1-newsa']!), L.USERSA_INFO);
  // and the fields E01 names, read back from iproute2's own bytes
  const d = decodeXfrmMessage(sentMessage(loadFixture('e01-sa1-newsa')));
  assert.equal(d.kind, 'newsa');
  if (d.kind !== 'newsa') return;
  assert.deepEqual(d.sa.id, { daddr: HA, spi: 0x1001, proto: 50 });
  assert.equal(d.sa.saddr, HOA);
  assert.equal(d.sa.mode, C.XFRM_MODE_TRANSPORT);
  assert.equal(d.sa.selector.saddr, HOA);
  assert.equal(d.sa.selector.daddr, HA);
  assert.equal(d.sa.selector.prefixlenS, 128);
  assert.equal(d.sa.selector.prefixlenD, 128);
  assert.equal(d.sa.selector.proto, 135);
  assert.equal(d.sa.auth?.name, 'hmac(sha256)');
  assert.equal(d.sa.auth?.truncBits, 128);
  assert.equal(d.sa.auth?.keyBits, 256);
  assert.equal(d.sa.crypt?.name, 'cbc(aes)');
  assert.equal(d.sa.crypt?.keyBits, 128);
  assert.equal(d.sa.auth?.key, undefined, 'no key bytes unless asked');
});

for (const [name, sa] of Object.entries(SA_FIXTURES)) {
  if (name === 'e01-sa1-newsa') continue;
  const type = name === 'sa-updsa' ? C.XFRM_MSG_UPDSA : C.XFRM_MSG_NEWSA;
  test(`golden ${name}: ${loadFixture(name).note}`, () => compare(name, type, encodeSaPayload(sa), L.USERSA_INFO));
}

for (const [name, p] of Object.entries(POLICY_FIXTURES)) {
  const type = name === 'policy-updpolicy' ? C.XFRM_MSG_UPDPOLICY : C.XFRM_MSG_NEWPOLICY;
  test(`golden ${name}: ${loadFixture(name).note}`, () => compare(name, type, encodePolicyPayload(p), L.USERPOLICY_INFO));
}

test('golden GETSA / DELSA by (daddr, spi, proto) + XFRMA_SRCADDR', () => {
  const id = { daddr: HA, spi: 0x1001, proto: 50, family: 10, saddr: HOA };
  compare('sa-getsa', C.XFRM_MSG_GETSA, encodeSaIdPayload(id), L.USERSA_ID, true);
  compare('sa-delsa', C.XFRM_MSG_DELSA, encodeSaIdPayload(id), L.USERSA_ID);
});

test('golden ALLOCSPI with an SPI range', () => {
  compare('sa-allocspi', C.XFRM_MSG_ALLOCSPI, encodeAllocSpiPayload({ id: { daddr: HA, proto: 50 }, saddr: HOA, family: 10, mode: 0, reqid: 101, min: 0x100, max: 0x200 }), L.USERSPI_INFO, true);
});

test('golden FLUSHSA (IPSEC_PROTO_ANY, 1-byte payload) and FLUSHPOLICY (empty)', () => {
  compare('sa-flush', C.XFRM_MSG_FLUSHSA, encodeFlushSaPayload(), L.USERSA_FLUSH);
  compare('policy-flush', C.XFRM_MSG_FLUSHPOLICY, encodeFlushPolicyPayload(), null);
});

test('golden GETPOLICY / DELPOLICY by selector + dir', () => {
  compare('policy-getpolicy', C.XFRM_MSG_GETPOLICY, encodePolicyIdPayload({ selector: { family: 10, saddr: HOA, daddr: HA, prefixlenS: 128, prefixlenD: 128, proto: 135 }, dir: 1 }), L.USERPOLICY_ID, true);
  compare('policy-delpolicy', C.XFRM_MSG_DELPOLICY, encodePolicyIdPayload({ selector: { family: 10, saddr: HA, daddr: HOA, prefixlenS: 128, prefixlenD: 128, proto: 135 }, dir: 0 }), L.USERPOLICY_ID);
});

test('iproute2 requests decode to the models they were built from', () => {
  for (const [name, sa] of Object.entries(SA_FIXTURES)) {
    const d = decodeXfrmMessage(sentMessage(loadFixture(name)), { withKeys: true });
    assert.ok(d.kind === 'newsa' || d.kind === 'updsa', name);
    if (d.kind !== 'newsa' && d.kind !== 'updsa') continue;
    assert.deepEqual(d.sa.id, sa.id, name);
    assert.equal(d.sa.saddr, sa.saddr, name);
    assert.equal(d.sa.reqid, sa.reqid, name);
    for (const k of ['auth', 'crypt', 'aead'] as const) {
      assert.equal(d.sa[k]?.name, sa[k]?.name, `${name} ${k}`);
      if (sa[k]?.key) assert.ok(d.sa[k]?.key?.equals(sa[k]!.key!), `${name} ${k} key bytes round-trip when asked`);
    }
    if (sa.selector?.sportMask) assert.equal(d.sa.selector.sport, sa.selector.sport, `${name} sel.sport (MH/ICMP type)`);
  }
  for (const [name, p] of Object.entries(POLICY_FIXTURES)) {
    const d = decodeXfrmMessage(sentMessage(loadFixture(name)));
    assert.ok(d.kind === 'newpolicy' || d.kind === 'updpolicy', name);
    if (d.kind !== 'newpolicy' && d.kind !== 'updpolicy') continue;
    assert.equal(d.policy.dir, p.dir, name);
    assert.equal(d.policy.selector.saddr, p.selector.saddr, name);
    assert.equal(d.policy.templates.length, p.templates?.length ?? 0, name);
    p.templates?.forEach((t, i) => {
      assert.equal(d.policy.templates[i]!.reqid, t.reqid, name);
      assert.equal(d.policy.templates[i]!.optional, t.optional ?? false, name);
    });
  }
});

function kernel(name: string): NetlinkMessage[] {
  return receivedMessages(loadFixture(name));
}

test('kernel ALLOCSPI reply: a larval SA with an SPI inside the requested range', () => {
  const [m] = kernel('sa-allocspi');
  const d = decodeXfrmMessage(m!);
  assert.equal(d.kind, 'newsa');
  if (d.kind !== 'newsa') return;
  assert.ok(d.sa.id.spi >= 0x100 && d.sa.id.spi <= 0x200, `spi 0x${d.sa.id.spi.toString(16)}`);
  assert.equal(d.sa.id.daddr, HA);
  assert.equal(d.sa.saddr, HOA);
  assert.equal(d.sa.reqid, 101);
  assert.ok(d.sa.replay, 'the kernel includes XFRMA_REPLAY_VAL');
});

test('kernel policy dump (NLM_F_MULTI ... NLMSG_DONE) decodes to what iproute2 installed', () => {
  const msgs = kernel('policy-dump');
  assert.equal(msgs.at(-1)!.type, 3, 'ends with NLMSG_DONE');
  const policies = msgs.filter((m) => m.type === C.XFRM_MSG_NEWPOLICY).map((m) => decodeXfrmMessage(m));
  for (const m of msgs.slice(0, -1)) assert.ok(m.flags & 2, 'NLM_F_MULTI on every part');
  const byKey = new Map(policies.map((d) => (d.kind === 'newpolicy' ? [`${d.policy.dir} ${d.policy.selector.saddr}/${d.policy.selector.prefixlenS} ${d.policy.selector.daddr}/${d.policy.selector.proto}`, d.policy] : ['', null])));
  const sa1 = byKey.get(`1 ${HOA}/128 ${HA}/135`);
  assert.ok(sa1, 'the SA1 policy is in the dump');
  assert.equal(sa1.priority, 5, 'updated by UPDPOLICY');
  assert.equal(sa1.templates[0]!.reqid, 101);
  const icmp = [...byKey.values()].find((p) => p?.selector.proto === 58);
  assert.ok(icmp);
  assert.equal(icmp.selector.sport, 135);
  assert.equal(icmp.selector.sportMask, 0xffff);
  assert.deepEqual(icmp.mark, { value: 0x10, mask: 0xff });
  assert.equal(icmp.ifId, 7);
  const tun = [...byKey.values()].find((p) => p?.templates[0]?.mode === C.XFRM_MODE_TUNNEL && p.selector.family === 10);
  assert.ok(tun);
  assert.equal(tun.templates[0]!.saddr, COA);
  assert.equal(tun.templates[0]!.id.daddr, HA);
  const sub = [...byKey.values()].find((p) => p?.type === C.XFRM_POLICY_TYPE_SUB);
  assert.ok(sub);
  assert.equal(sub.action, C.XFRM_POLICY_BLOCK);
  assert.equal(sub.dir, C.XFRM_POLICY_FWD);
});

test('kernel events from `ip xfrm monitor`: NEWPOLICY, ACQUIRE from real traffic, DELPOLICY with XFRMA_POLICY', () => {
  const ev = kernel('kernel-events').map((m) => decodeXfrmMessage(m));
  assert.deepEqual(ev.map((e) => e.kind), ['newpolicy', 'acquire', 'delpolicy']);
  const acq = ev[1]!;
  if (acq.kind !== 'acquire') return;
  assert.equal(acq.acquire.id.proto, 50);
  assert.equal(acq.acquire.selector.saddr, HOA);
  assert.equal(acq.acquire.selector.daddr, HA);
  assert.equal(acq.acquire.selector.proto, 17);
  assert.equal(acq.acquire.selector.dport, 9);
  assert.equal(acq.acquire.templates[0]!.reqid, 9);
  assert.equal(acq.acquire.policy.dir, C.XFRM_POLICY_OUT);
  const del = ev[2]!;
  if (del.kind !== 'delpolicy') return;
  assert.equal(del.policy?.templates[0]?.reqid, 9);
  assert.equal(del.id.selector.proto, 17);
});
