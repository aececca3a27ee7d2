// XFRM policies on the host kernel, in fresh namespaces, with `ip xfrm policy` as the oracle:
// push / dump / get / delete, UPDPOLICY, FLUSHPOLICY scoped to one netns, POLICY events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import type { XfrmMessage, XfrmPolicyInput } from '../../src/kernel/xfrm/model.ts';
import { HA, HOA, POLICY_FIXTURES } from '../lib/xfrm-fixtures.ts';
import { freshNetns, ipIn, parseIpXfrmPolicy, until } from '../lib/xfrm-netns.ts';

const skip = skipUnless('netns');
const AF6 = 10;

/** HA-IPsec §4.2.1 and §4.2.3, MN side: MH and ICMPv6 SPD entries. */
const MN_SPD: XfrmPolicyInput[] = [
  POLICY_FIXTURES['policy-sa1-out-newpolicy']!,
  POLICY_FIXTURES['policy-sa2-in-newpolicy']!,
  { selector: { family: AF6, saddr: HOA, daddr: HA, prefixlenS: 128, prefixlenD: 128, proto: 58 }, dir: C.XFRM_POLICY_OUT, templates: [{ id: { proto: 50 }, mode: 0, reqid: 105 }] },
  { selector: { family: AF6, saddr: HA, daddr: HOA, prefixlenS: 128, prefixlenD: 128, proto: 58 }, dir: C.XFRM_POLICY_IN, templates: [{ id: { proto: 50 }, mode: 0, reqid: 106 }] },
];

test('E02/E03 (SPD part) MN §4.2.1 + §4.2.3 policies pushed by the client are what `ip xfrm policy` shows; dump and get agree', { skip }, async (t) => {
  const ns = freshNetns(t, 'xpol');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  await Promise.all(MN_SPD.map((p) => c.addPolicy(p)));
  const shown = parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy'));
  assert.equal(shown.length, 4);
  const key = (dir: string, src: string, dst: string, proto: string) => shown.find((p) => p.dir === dir && p.src === src && p.dst === dst && p.proto === proto);
  for (const [dir, src, dst, proto, reqid] of [
    ['out', `${HOA}/128`, `${HA}/128`, 'mobility-header', 101],
    ['in', `${HA}/128`, `${HOA}/128`, 'mobility-header', 102],
    ['out', `${HOA}/128`, `${HA}/128`, 'ipv6-icmp', 105],
    ['in', `${HA}/128`, `${HOA}/128`, 'ipv6-icmp', 106],
  ] as const) {
    const p = key(dir, src, dst, proto);
    assert.ok(p, `ip xfrm policy shows ${dir} ${src} -> ${dst} ${proto}`);
    assert.deepEqual(p.tmpls.map((x) => [x.proto, x.mode, x.reqid]), [['esp', 'transport', reqid]]);
  }
  const dump = await c.dumpPolicies();
  assert.equal(dump.interrupted, false);
  assert.equal(dump.items.length, 4);
  for (const p of MN_SPD) {
    const got = await c.getPolicy({ selector: p.selector, dir: p.dir });
    assert.ok(got, 'GETPOLICY finds it');
    assert.equal(got.templates[0]!.reqid, p.templates![0]!.reqid);
    assert.ok(dump.items.some((d) => d.index === got.index));
  }
  await c.deletePolicy({ selector: MN_SPD[0]!.selector, dir: MN_SPD[0]!.dir });
  assert.equal(parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy')).length, 3);
  assert.equal(await c.getPolicy({ selector: MN_SPD[0]!.selector, dir: MN_SPD[0]!.dir }), null, 'ENOENT reads as null');
  await assert.rejects(c.deletePolicy({ selector: MN_SPD[0]!.selector, dir: MN_SPD[0]!.dir }), (e: Error & { errno: number }) => e.errno === 2 && /xfrm DELPOLICY policy out/.test(e.message));
});

test('UPDPOLICY replaces in place (and creates when missing); NEWPOLICY on an existing one is EEXIST', { skip }, async (t) => {
  const ns = freshNetns(t, 'xupd');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  const p = MN_SPD[0]!;
  await c.updatePolicy(p);
  await c.updatePolicy({ ...p, priority: 7, templates: [{ id: { proto: 50 }, mode: 0, reqid: 111 }] });
  const shown = parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy'));
  assert.equal(shown.length, 1);
  assert.equal(shown[0]!.priority, 7);
  assert.equal(shown[0]!.tmpls[0]!.reqid, 111);
  await assert.rejects(c.addPolicy(p), (e: Error & { code: string }) => e.code === 'EEXIST');
});

test('FLUSHPOLICY empties its own namespace only', { skip }, async (t) => {
  const a = freshNetns(t, 'xfla');
  const b = freshNetns(t, 'xflb');
  const ca = XfrmClient.open({ netns: a });
  const cb = XfrmClient.open({ netns: b });
  t.after(() => {
    ca.close();
    cb.close();
  });
  await Promise.all([...MN_SPD.map((p) => ca.addPolicy(p)), cb.addPolicy(MN_SPD[1]!)]);
  await ca.flushPolicies();
  assert.equal(parseIpXfrmPolicy(ipIn(a, 'xfrm', 'policy')).length, 0);
  assert.equal(parseIpXfrmPolicy(ipIn(b, 'xfrm', 'policy')).length, 1);
  assert.equal((await cb.dumpPolicies()).items.length, 1);
});

test('POLICY events (group 4) reach a subscriber, including changes made by another tool', { skip }, async (t) => {
  const ns = freshNetns(t, 'xpev');
  const mon = XfrmMonitor.open({ netns: ns, groups: [C.XFRMNLGRP_POLICY] });
  const c = XfrmClient.open({ netns: ns });
  t.after(() => {
    c.close();
    mon.close();
  });
  const events: XfrmMessage[] = [];
  mon.on('event', (e) => events.push(e));
  const p = MN_SPD[0]!;
  await c.addPolicy(p);
  await c.updatePolicy({ ...p, priority: 9 });
  ipIn(ns, 'xfrm', 'policy', 'add', 'dir', 'fwd', 'src', '2001:db8:5::/64', 'dst', '2001:db8:6::/64');
  await c.deletePolicy({ selector: p.selector, dir: p.dir });
  await c.flushPolicies();
  assert.ok(await until(() => events.length >= 5), `got ${events.map((e) => e.kind)}`);
  assert.deepEqual(events.map((e) => e.kind), ['newpolicy', 'updpolicy', 'newpolicy', 'delpolicy', 'flushpolicy']);
  const [n, u, foreign, d] = events;
  if (n!.kind === 'newpolicy') assert.equal(n!.policy.templates[0]!.reqid, 101);
  if (u!.kind === 'updpolicy') assert.equal(u!.policy.priority, 9);
  if (foreign!.kind === 'newpolicy') assert.equal(foreign!.policy.dir, C.XFRM_POLICY_FWD);
  assert.equal(d!.kind, 'delpolicy');
  if (d!.kind === 'delpolicy') {
    assert.equal(d!.policy?.priority, 9, 'the kernel sends the deleted policy in XFRMA_POLICY');
    assert.equal(d!.id.selector.proto, 135);
  }
  assert.equal(mon.overrunCount, 0);
});

test('a stalled event loop is no timeout: a dump reply that arrived meanwhile is read before the deadline is judged', { skip }, async (t) => {
  const ns = freshNetns(t, 'xstall');
  const c = XfrmClient.open({ netns: ns, timeoutMs: 30 });
  t.after(() => c.close());
  await Promise.all(MN_SPD.map((p) => c.addPolicy(p)));
  const dump = c.dumpPolicies();
  await Promise.resolve();
  await Promise.resolve(); // the request is on its way; the kernel answers at once
  const until = performance.now() + 300; // a long synchronous task, or a starved machine (the VM under load)
  while (performance.now() < until);
  // timers run before the socket is read: the sweeper must not count the time the loop was stuck
  assert.equal((await dump).items.length, 4);
});
