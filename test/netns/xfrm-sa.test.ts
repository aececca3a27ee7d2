// SAs on the host kernel: it has no ESP/AH, so a keyed SA is refused (and the refusal must
// carry the kernel's extended-ack text), but ALLOCSPI creates real larval SAs that GETSA,
// dump, DELSA and the SA event group all see. `ip xfrm state` is the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import { NetlinkError } from '../../src/kernel/netlink/errors.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import type { XfrmMessage } from '../../src/kernel/xfrm/model.ts';
import { HA, HOA, COA, SA1 } from '../lib/xfrm-fixtures.ts';
import { freshNetns, ipIn, until } from '../lib/xfrm-netns.ts';

const skip = skipUnless('netns');

test('extended ACK: a refused NEWSA reports errno, operation, SA and the kernel text (no ESP on this kernel)', { skip }, async (t) => {
  const ns = freshNetns(t, 'xext');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  await assert.rejects(c.addSa(SA1), (e: NetlinkError) => {
    assert.ok(e instanceof NetlinkError);
    assert.equal(e.errno, 93);
    assert.equal(e.code, 'EPROTONOSUPPORT');
    assert.equal(e.operation, 'xfrm NEWSA');
    assert.equal(e.extackMessage, 'Requested type not found');
    assert.match(e.message, /^xfrm NEWSA SA esp spi 0x00001001 2001:db8:1::1000 -> 2001:db8:1::1: EPROTONOSUPPORT \(errno 93\): kernel says "Requested type not found"/);
    return true;
  });
  // a policy the kernel validates: an optional tunnel template is not allowed outbound
  await assert.rejects(
    c.addPolicy({ selector: { family: 10, saddr: HOA, prefixlenS: 128 }, dir: C.XFRM_POLICY_OUT, templates: [{ id: { daddr: HA, proto: 50 }, saddr: COA, mode: 1, optional: true }] }),
    (e: NetlinkError) => e.errno === 22 && e.extackMessage === 'Mode in optional template not allowed in outbound policy' && e.message.includes('xfrm NEWPOLICY policy out'),
  );
});

test('ALLOCSPI makes a larval SA in range; GETSA, dump, DELSA and SA events (group 3) agree with `ip xfrm state`', { skip }, async (t) => {
  const ns = freshNetns(t, 'xspi');
  const c = XfrmClient.open({ netns: ns });
  const mon = XfrmMonitor.open({ netns: ns, groups: [C.XFRMNLGRP_SA] });
  t.after(() => {
    c.close();
    mon.close();
  });
  const events: XfrmMessage[] = [];
  mon.on('event', (e) => events.push(e));
  const sa = await c.allocSpi({ id: { daddr: HA, proto: 50 }, saddr: HOA, family: 10, mode: 0, reqid: 101, min: 0x4000, max: 0x40ff });
  assert.ok(sa.id.spi >= 0x4000 && sa.id.spi <= 0x40ff);
  const spiHex = `0x${sa.id.spi.toString(16).padStart(8, '0')}`;
  const state = ipIn(ns, 'xfrm', 'state');
  assert.match(state, new RegExp(`src ${HOA} dst ${HA}\\s+proto esp spi ${spiHex} reqid 101 mode transport`));
  const got = await c.getSa({ daddr: HA, spi: sa.id.spi, proto: 50, family: 10, saddr: HOA });
  assert.equal(got?.reqid, 101);
  const dump = await c.dumpSas();
  assert.deepEqual(dump.items.map((s) => [s.id.daddr, s.id.spi, s.id.proto, s.saddr]), [[HA, sa.id.spi, 50, HOA]]);
  // the reply to ALLOCSPI is unicast: nothing reached the SA group so far
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(events.length, 0, 'ALLOCSPI replies are not broadcast (DIGEST §2.1.5 item 7)');
  await c.deleteSa({ daddr: HA, spi: sa.id.spi, proto: 50, family: 10, saddr: HOA });
  assert.doesNotMatch(ipIn(ns, 'xfrm', 'state'), /spi/);
  assert.equal(await c.getSa({ daddr: HA, spi: sa.id.spi, proto: 50, family: 10 }), null, 'ESRCH reads as null');
  assert.ok(await until(() => events.length >= 1));
  const d = events[0]!;
  assert.equal(d.kind, 'delsa');
  if (d.kind === 'delsa') {
    assert.equal(d.id.spi, sa.id.spi);
    assert.equal(d.sa?.reqid, 101, 'DELSA events carry the whole SA');
  }
});

test('FLUSHSA removes the namespace’s SAs and nothing elsewhere', { skip }, async (t) => {
  const a = freshNetns(t, 'xfsa');
  const b = freshNetns(t, 'xfsb');
  const ca = XfrmClient.open({ netns: a });
  const cb = XfrmClient.open({ netns: b });
  t.after(() => {
    ca.close();
    cb.close();
  });
  const req = { id: { daddr: HA, proto: 50 }, saddr: HOA, family: 10, min: 0x100, max: 0xfff };
  await Promise.all([ca.allocSpi(req), ca.allocSpi({ ...req, id: { daddr: COA, proto: 50 } }), cb.allocSpi(req)]);
  await ca.flushSas();
  assert.equal((await ca.dumpSas()).items.length, 0);
  assert.equal((await cb.dumpSas()).items.length, 1);
  assert.match(ipIn(b, 'xfrm', 'state'), /proto esp spi/);
});
