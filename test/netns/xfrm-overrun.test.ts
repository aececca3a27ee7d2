// E05 (kernel half): a subscriber with a tiny receive queue loses events under a flood of
// policy adds; the loss is detected (ENOBUFS -> 'overrun') and a resync dump on the request
// socket equals the kernel truth as `ip xfrm policy` prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import type { XfrmPolicyInput } from '../../src/kernel/xfrm/model.ts';
import { HOA } from '../lib/xfrm-fixtures.ts';
import { freshNetns, ipIn, parseIpXfrmPolicy, until } from '../lib/xfrm-netns.ts';

const skip = skipUnless('netns');
const N = 3000;

function policy(i: number): XfrmPolicyInput {
  const dst = `2001:db8:aa::${(i + 1).toString(16)}`;
  return { selector: { family: 10, saddr: HOA, daddr: dst, prefixlenS: 128, prefixlenD: 128, proto: 135 }, dir: C.XFRM_POLICY_OUT, templates: [{ id: { proto: 50 }, mode: 0, reqid: 1000 + i }] };
}

test('E05 ENOBUFS under a flood of policy events is detected and a resync dump equals `ip xfrm policy`', { skip }, async (t) => {
  const ns = freshNetns(t, 'xflood');
  const mon = XfrmMonitor.open({ netns: ns, groups: [C.XFRMNLGRP_POLICY], kernelRcvBuf: 1 });
  const c = XfrmClient.open({ netns: ns });
  t.after(() => {
    c.close();
    mon.close();
  });
  let seen = 0;
  let overruns = 0;
  mon.on('event', () => seen++);
  mon.on('overrun', () => overruns++);
  await Promise.all(Array.from({ length: N }, (_, i) => c.addPolicy(policy(i))));
  assert.ok(await until(() => overruns > 0, 3000), 'the subscriber saw an overrun');
  assert.ok(seen < N, `events were lost (${seen} of ${N} delivered)`);

  // resync: dump through the request socket (never joined a group, so no event noise)
  const dump = await c.dumpPolicies();
  assert.equal(dump.interrupted, false);
  const truth = parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy'));
  assert.equal(truth.length, N);
  const key = (src: string, dst: string, dir: string, reqid: number) => `${src} ${dst} ${dir} ${reqid}`;
  const dirName = ['in', 'out', 'fwd'];
  const ours = new Set(dump.items.map((p) => key(`${p.selector.saddr}/${p.selector.prefixlenS}`, `${p.selector.daddr}/${p.selector.prefixlenD}`, dirName[p.dir]!, p.templates[0]!.reqid)));
  const theirs = new Set(truth.map((p) => key(p.src, p.dst, p.dir, p.tmpls[0]!.reqid)));
  assert.equal(ours.size, N);
  assert.deepEqual([...ours].filter((k) => !theirs.has(k)), []);
  assert.deepEqual([...theirs].filter((k) => !ours.has(k)), []);

  // the subscriber keeps delivering after the overrun
  const before = seen;
  await c.addPolicy(policy(N));
  assert.ok(await until(() => seen > before), 'events flow again after the overrun');
});
