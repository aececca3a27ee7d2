// decode(encode(model)) == model for every XFRM request we build, including the ones the
// host kernel cannot run (SAs) and MIGRATE with KMADDRESS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/kernel/netlink/message.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import {
  decodeXfrmMessage,
  encodeAllocSpiPayload,
  encodeMigratePayload,
  encodePolicyIdPayload,
  encodePolicyPayload,
  encodeSaIdPayload,
  encodeSaPayload,
} from '../../src/kernel/xfrm/codec.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import type { XfrmMessage } from '../../src/kernel/xfrm/model.ts';
import { HA, HOA, COA, POLICY_FIXTURES, SA_FIXTURES } from '../lib/xfrm-fixtures.ts';

function roundTrip(type: number, payload: Buffer[], withKeys = false): XfrmMessage {
  const bytes = encodeMessage({ type, flags: 5, seq: 7, pid: 0 }, ...payload);
  return decodeXfrmMessage({ type, flags: 5, seq: 7, pid: 0, payload: bytes.subarray(16, bytes.readUInt32LE(0)) }, { withKeys });
}

test('SA models round-trip (selector incl. MH type / ICMPv6 type+code, lifetimes, marks, if_id, keys when asked)', () => {
  for (const [name, sa] of Object.entries(SA_FIXTURES)) {
    const d = roundTrip(C.XFRM_MSG_NEWSA, encodeSaPayload({ ...sa, direction: C.XFRM_SA_DIR_OUT, extraFlags: 1, tfcpad: 16 }), true);
    assert.equal(d.kind, 'newsa', name);
    if (d.kind !== 'newsa') continue;
    assert.deepEqual(d.sa.id, sa.id, name);
    assert.equal(d.sa.saddr, sa.saddr, name);
    assert.equal(d.sa.mode, sa.mode, name);
    assert.equal(d.sa.reqid, sa.reqid, name);
    assert.equal(d.sa.replayWindow, sa.replayWindow ?? 0, name);
    assert.equal(d.sa.flags, sa.flags ?? 0, name);
    for (const [k, v] of Object.entries(sa.selector ?? {})) assert.equal(d.sa.selector[k as keyof typeof d.sa.selector], v, `${name} selector.${k}`);
    for (const [k, v] of Object.entries(sa.lifetime ?? {})) assert.equal(d.sa.lifetime[k as keyof typeof d.sa.lifetime], v, `${name} lifetime.${k}`);
    assert.equal(d.sa.lifetime.softPacketLimit, sa.lifetime?.softPacketLimit ?? C.XFRM_INF, `${name} default limits are infinite`);
    assert.deepEqual(d.sa.mark, sa.mark, name);
    assert.deepEqual(d.sa.setMark, sa.setMark, name);
    assert.equal(d.sa.ifId, sa.ifId, name);
    assert.equal(d.sa.direction, C.XFRM_SA_DIR_OUT);
    assert.equal(d.sa.extraFlags, 1);
    assert.equal(d.sa.tfcpad, 16);
    for (const k of ['auth', 'crypt', 'aead'] as const) {
      if (!sa[k]) continue;
      assert.equal(d.sa[k]!.name, sa[k]!.name, `${name} ${k}`);
      assert.equal(d.sa[k]!.keyBits, sa[k]!.key!.bits, `${name} ${k} bits`);
      assert.ok(d.sa[k]!.key!.equals(sa[k]!.key!), `${name} ${k} key`);
    }
    if (sa.auth?.truncBits !== undefined) assert.equal(d.sa.auth!.truncBits, sa.auth.truncBits);
    if (sa.aead) assert.equal(d.sa.aead!.icvBits, sa.aead.icvBits);
    assert.deepEqual(d.sa.otherAttributes, []);
  }
});

test('policy models round-trip (templates, optional level, mark, if_id, sub type)', () => {
  for (const [name, p] of Object.entries(POLICY_FIXTURES)) {
    const d = roundTrip(C.XFRM_MSG_NEWPOLICY, encodePolicyPayload(p));
    assert.equal(d.kind, 'newpolicy', name);
    if (d.kind !== 'newpolicy') continue;
    for (const [k, v] of Object.entries(p.selector)) assert.equal(d.policy.selector[k as keyof typeof d.policy.selector], v, `${name} selector.${k}`);
    assert.equal(d.policy.dir, p.dir);
    assert.equal(d.policy.action, p.action ?? 0);
    assert.equal(d.policy.priority, p.priority ?? 0);
    assert.deepEqual(d.policy.mark, p.mark);
    assert.equal(d.policy.ifId, p.ifId);
    assert.equal(d.policy.type, p.type);
    assert.equal(d.policy.templates.length, p.templates?.length ?? 0);
    p.templates?.forEach((t, i) => {
      const o = d.policy.templates[i]!;
      assert.equal(o.id.proto, t.id.proto);
      assert.equal(o.id.daddr, t.id.daddr ?? '::');
      assert.equal(o.saddr, t.saddr ?? '::');
      assert.equal(o.mode, t.mode);
      assert.equal(o.reqid, t.reqid);
      assert.equal(o.optional, t.optional ?? false);
      assert.equal(o.ealgos, 0xffffffff);
    });
  }
});

test('SA id, policy id, ALLOCSPI and MIGRATE (with XFRMA_KMADDRESS) round-trip', () => {
  const id = { daddr: HA, spi: 0xdeadbeef, proto: 50, family: 10, saddr: HOA, mark: { value: 1, mask: 0xff }, ifId: 3 };
  const g = roundTrip(C.XFRM_MSG_GETSA, encodeSaIdPayload(id));
  assert.equal(g.kind, 'getsa');
  if (g.kind === 'getsa') assert.deepEqual(g.id, id);

  const pid = { selector: { family: 10, saddr: HOA, daddr: HA, prefixlenS: 128, prefixlenD: 128, proto: 135 }, dir: 1, index: 0, type: 1, mark: { value: 2, mask: 3 }, ifId: 9 };
  const dp = roundTrip(C.XFRM_MSG_DELPOLICY, encodePolicyIdPayload(pid));
  assert.equal(dp.kind, 'delpolicy');
  if (dp.kind === 'delpolicy') {
    assert.equal(dp.id.dir, 1);
    assert.equal(dp.id.type, 1);
    assert.deepEqual(dp.id.mark, pid.mark);
    assert.equal(dp.id.ifId, 9);
    assert.equal(dp.id.selector.proto, 135);
  }

  const a = roundTrip(C.XFRM_MSG_ALLOCSPI, encodeAllocSpiPayload({ id: { daddr: HA, proto: 50 }, saddr: HOA, family: 10, reqid: 42, min: 0x1000, max: 0x1fff, mark: { value: 5, mask: 0xf } }));
  assert.equal(a.kind, 'allocspi');
  if (a.kind === 'allocspi') {
    assert.equal(a.request.min, 0x1000);
    assert.equal(a.request.max, 0x1fff);
    assert.equal(a.request.reqid, 42);
    assert.equal(a.request.id.daddr, HA);
    assert.deepEqual(a.request.mark, { value: 5, mask: 0xf });
  }

  const mig = {
    policy: { selector: { family: 10, saddr: HOA, daddr: '::', prefixlenS: 128, prefixlenD: 0, proto: 135 }, dir: 1, type: 0 },
    entries: [
      { oldDaddr: HA, oldSaddr: COA, newDaddr: HA, newSaddr: '2001:db8:3::1000', proto: 50, mode: 1, reqid: 103, oldFamily: 10, newFamily: 10 },
      { oldDaddr: HA, oldSaddr: COA, newDaddr: HA, newSaddr: '2001:db8:3::1000', proto: 51, mode: 1, reqid: 104, oldFamily: 10, newFamily: 10 },
    ],
    kmaddress: { local: COA, remote: HA, family: 10 },
  };
  const m = roundTrip(C.XFRM_MSG_MIGRATE, encodeMigratePayload(mig));
  assert.equal(m.kind, 'migrate');
  if (m.kind === 'migrate') {
    assert.deepEqual(m.migrate.entries, mig.entries);
    assert.deepEqual(m.migrate.kmaddress, mig.kmaddress);
    assert.equal(m.migrate.policy.dir, 1);
    assert.equal(m.migrate.policy.type, 0);
  }
});

test('the encoder refuses inconsistent input with a message naming the SA', () => {
  const sa = SA_FIXTURES['e01-sa1-newsa']!;
  assert.throws(() => encodeSaPayload({ ...sa, crypt: { name: 'cbc(aes)', key: SecretKey.from(Buffer.alloc(16)), keyBits: 256 } }), /SA esp spi 0x00001001 .* keyBits 256 does not match a 128-bit key/);
  assert.throws(() => encodeSaPayload({ ...sa, saddr: '10.0.0.1', family: 10 }), /not an IPv6 address/);
  assert.throws(() => encodeSaPayload({ ...sa, auth: { name: 'x'.repeat(64), key: SecretKey.from(Buffer.alloc(4)), truncBits: 96 } }), /longer than 63 bytes/);
});
