// ACQUIRE from real traffic hitting a policy without SA, and MIGRATE of a policy's tunnel
// template (the HA-IPsec CoA change), with `ip xfrm policy` as the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import type { XfrmMessage } from '../../src/kernel/xfrm/model.ts';
import { HA, HOA, COA } from '../lib/xfrm-fixtures.ts';
import { freshNetns, ipIn, parseIpXfrmPolicy, shIn, until } from '../lib/xfrm-netns.ts';

const skip = skipUnless('netns');
const NEW_COA = '2001:db8:3::1000';

test('ACQUIRE (group 1): a UDP packet to a destination covered by a policy with a template and no SA', { skip }, async (t) => {
  const ns = freshNetns(t, 'xacq');
  ipIn(ns, 'link', 'set', 'lo', 'up');
  ipIn(ns, 'addr', 'add', `${HOA}/64`, 'dev', 'lo', 'nodad');
  const c = XfrmClient.open({ netns: ns });
  const mon = XfrmMonitor.open({ netns: ns, groups: [C.XFRMNLGRP_ACQUIRE] });
  t.after(() => {
    c.close();
    mon.close();
  });
  const events: XfrmMessage[] = [];
  mon.on('event', (e) => events.push(e));
  await c.addPolicy({
    selector: { family: 10, saddr: HOA, daddr: HA, prefixlenS: 128, prefixlenD: 128, proto: 17 },
    dir: C.XFRM_POLICY_OUT,
    templates: [{ id: { proto: 50 }, mode: 0, reqid: 77 }],
  });
  shIn(ns, `bash -c 'echo probe > /dev/udp/${HA}/4242' || true`);
  assert.ok(await until(() => events.some((e) => e.kind === 'acquire')), 'an ACQUIRE arrived');
  const a = events.find((e) => e.kind === 'acquire')!;
  if (a.kind !== 'acquire') return;
  assert.equal(a.acquire.id.proto, 50);
  assert.equal(a.acquire.id.daddr, HA);
  assert.equal(a.acquire.saddr, HOA);
  assert.equal(a.acquire.selector.proto, 17);
  assert.equal(a.acquire.selector.dport, 4242);
  assert.equal(a.acquire.templates[0]!.reqid, 77);
  assert.equal(a.acquire.policy.dir, C.XFRM_POLICY_OUT);
  // the kernel holds a larval (acquire) state now; our dump sees it like `ip xfrm state` does
  const sas = (await c.dumpSas()).items;
  assert.equal(sas.length, 1);
  assert.equal(sas[0]!.reqid, 77);
  assert.match(ipIn(ns, 'xfrm', 'state'), /reqid 77/);
});

test('MIGRATE moves a tunnel template to the new CoA (XFRMA_MIGRATE + XFRMA_KMADDRESS); group 7 reports it', { skip }, async (t) => {
  const ns = freshNetns(t, 'xmig');
  const c = XfrmClient.open({ netns: ns });
  const mon = XfrmMonitor.open({ netns: ns, groups: [C.XFRMNLGRP_MIGRATE] });
  t.after(() => {
    c.close();
    mon.close();
  });
  const events: XfrmMessage[] = [];
  mon.on('event', (e) => events.push(e));
  // HA-IPsec §4.2.4 MN SPD OUT: HoA -> any, tunnel to the HA from the CoA
  const selector = { family: 10, saddr: HOA, prefixlenS: 128, daddr: '::', prefixlenD: 0 };
  await c.addPolicy({ selector, dir: C.XFRM_POLICY_OUT, templates: [{ id: { daddr: HA, proto: 50 }, saddr: COA, mode: 1, reqid: 107 }] });
  await c.migrate({
    policy: { selector, dir: C.XFRM_POLICY_OUT },
    entries: [{ oldSaddr: COA, oldDaddr: HA, newSaddr: NEW_COA, newDaddr: HA, proto: 50, mode: 1, reqid: 107, oldFamily: 10, newFamily: 10 }],
    kmaddress: { local: NEW_COA, remote: HA, family: 10 },
  });
  const shown = parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy'));
  assert.equal(shown.length, 1);
  assert.deepEqual(shown[0]!.tmpls.map((x) => [x.src, x.dst, x.mode, x.reqid]), [[NEW_COA, HA, 'tunnel', 107]]);
  assert.ok(await until(() => events.length >= 1));
  const m = events[0]!;
  assert.equal(m.kind, 'migrate');
  if (m.kind !== 'migrate') return;
  assert.equal(m.migrate.entries.length, 1);
  assert.equal(m.migrate.entries[0]!.oldSaddr, COA);
  assert.equal(m.migrate.entries[0]!.newSaddr, NEW_COA);
  assert.deepEqual(m.migrate.kmaddress, { local: NEW_COA, remote: HA, family: 10 });
  // a selector that matches no policy is refused by the kernel
  await assert.rejects(
    c.migrate({ policy: { selector: { ...selector, saddr: '2001:db8:9::1' }, dir: C.XFRM_POLICY_OUT }, entries: [{ oldSaddr: COA, oldDaddr: HA, newSaddr: NEW_COA, newDaddr: HA, proto: 50, mode: 1, reqid: 107, oldFamily: 10, newFamily: 10 }] }),
    /xfrm MIGRATE policy out/,
  );
});
