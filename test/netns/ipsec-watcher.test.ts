// The SA event stream on the host kernel (XFRM policies and larval SAs work here; real SAs
// need the VM): startup collect, events, resync after a flush and after lost events (E05),
// and SAs learned from the kernel turning into data path rules through the engine.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../lib/capabilities.ts';
import { freshNetns, ipIn, parseIpXfrmPolicy, sleep } from '../lib/xfrm-netns.ts';
import { openTestDatapath, destroyQuietly } from '../lib/datapath-fixture.ts';
import { IpsecWatcher } from '../../src/ipsec/watcher.ts';
import type { SaEvent } from '../../src/ipsec/model.ts';
import { IroEngine } from '../../src/iro/engine.ts';

const skip = skipUnless('netns');
const HOA = '2001:db8:1::100';
const CN = '2001:db8:c::10';
const COA = '2001:db8:a::100';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

test('startup collect sees what exists; policy events arrive; a flush triggers a resync', { skip }, async (t) => {
  const ns = freshNetns(t, 'watch');
  ipIn(ns, 'xfrm', 'policy', 'add', 'src', `${HOA}/128`, 'dst', `${CN}/128`, 'proto', '135', 'dir', 'out', 'tmpl', 'src', HOA, 'dst', CN, 'proto', 'esp', 'reqid', '2', 'mode', 'transport');
  const w = await IpsecWatcher.open({ netns: ns });
  t.after(() => w.close());
  assert.equal(w.mirror.allPolicies().length, 1, 'the existing policy is collected at startup');
  await w.pfkeyReady;
  assert.match(w.pfkeyNotice ?? '', /PF_KEY not available.*XFRM netlink only/, 'without af_key the stream degrades to XFRM with a notice (L02)');
  await assert.rejects(IpsecWatcher.open({ netns: ns, pfkey: 'on' }), /PF_KEY not available/, 'pfkey: on makes a missing af_key an error');
  const seen: SaEvent[] = [];
  w.on('changes', (e) => seen.push(...e));
  ipIn(ns, 'xfrm', 'policy', 'add', 'src', `${CN}/128`, 'dst', `${HOA}/128`, 'proto', '135', 'dir', 'in', 'tmpl', 'src', CN, 'dst', HOA, 'proto', 'esp', 'reqid', '2', 'mode', 'transport');
  await until(() => seen.some((e) => e.type === 'policy-added'));
  const added = seen.find((e): e is Extract<SaEvent, { policy: unknown }> => e.type === 'policy-added')!;
  assert.equal(added.policy.dir, 'in');
  assert.equal(added.policy.selector.proto, 135);
  assert.equal(added.policy.templates[0]!.reqid, 2);
  ipIn(ns, 'xfrm', 'policy', 'flush');
  await until(() => seen.filter((e) => e.type === 'policy-deleted').length === 2);
  assert.ok(seen.some((e) => e.type === 'resync-needed'));
  assert.equal(w.mirror.allPolicies().length, 0);
});

test('E05 after lost events (ENOBUFS from a flood) the mirror resyncs to the kernel truth', { skip, timeout: 120_000 }, async (t) => {
  const ns = freshNetns(t, 'flood');
  const w = await IpsecWatcher.open({ netns: ns, kernelRcvBuf: 4096 });
  t.after(() => w.close());
  const dir = mkdtempSync(join(tmpdir(), 'iro-flood-'));
  const batch = join(dir, 'batch');
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`xfrm policy add src 2001:db8:5::${i.toString(16)}/128 dst ${CN}/128 dir out tmpl src ${HOA} dst ${CN} proto esp reqid 9 mode transport`);
  writeFileSync(batch, lines.join('\n') + '\n');
  execFileSync('ip', ['-n', ns, '-batch', batch]);
  await until(() => w.resyncCount > 0, 10_000);
  await until(() => w.mirror.allPolicies().length === 3000, 20_000);
  const truth = parseIpXfrmPolicy(ipIn(ns, 'xfrm', 'policy')).filter((p) => p.dir === 'out');
  assert.equal(truth.length, 3000);
  const mirrored = new Set(w.mirror.allPolicies().map((p) => `${p.selector.src}/${p.selector.srcLen}`));
  for (const p of truth) assert.ok(mirrored.has(p.src), `${p.src} mirrored`);
});

test('an SA learned from the kernel becomes data path rules through the engine (larval SA on the host)', { skip }, async (t) => {
  const ns = freshNetns(t, 'learn');
  const w = await IpsecWatcher.open({ netns: ns });
  t.after(() => w.close());
  const dp = openTestDatapath('watch-engine');
  t.after(() => destroyQuietly(dp));
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  engine.setCoa(COA, 0);
  engine.onSaEvents(w.initialEvents());
  w.on('changes', (e) => engine.onSaEvents(e));
  // ALLOCSPI replies are unicast (DIGEST §2.1.5 item 7): the SA is found by the next collect
  const larval = await w.xfrm.allocSpi({ id: { daddr: HOA, proto: 50 }, saddr: CN, family: 10, mode: 0, reqid: 3, min: 0x5000, max: 0x50ff });
  await sleep(200);
  assert.equal(dp.listEntries().length, 0, 'no broadcast for ALLOCSPI');
  await w.requestResync('test');
  const entries = dp.listEntries();
  assert.deepEqual(entries.map((e) => e.id), [`in/esp/${larval.id.spi}`]);
  assert.equal(entries[0]!.dst?.expected, COA);
  assert.equal(entries[0]!.dst && 'address' in entries[0]!.dst.remap ? entries[0]!.dst.remap.address : '', HOA);
  await w.xfrm.deleteSa({ daddr: HOA, spi: larval.id.spi, proto: 50, family: 10 });
  await until(() => dp.listEntries().length === 0);
});
