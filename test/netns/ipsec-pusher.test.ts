// The desired-state pusher against the host kernel's SPD (SAs need ESP: the VM tier covers
// them): E09 (a second push changes nothing), E08 (removing ours leaves foreign state byte for
// byte), conflicts with foreign state, and rollback of a failed push.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { freshNetns, ipIn } from '../lib/xfrm-netns.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmPusher } from '../../src/ipsec/pusher-xfrm.ts';
import { DEFAULT_OWNERSHIP, type PushPolicy } from '../../src/ipsec/desired.ts';

const skip = skipUnless('netns');
const HOA = '2001:db8:1::100';
const HA = '2001:db8:1::2';
const R = DEFAULT_OWNERSHIP.reqidMin;

// HA-IPsec §4.2.1 (MN side): BU out, BA in, ESP transport, proto MH
function mnPolicies(reqid = R + 1): PushPolicy[] {
  const sel = (src: string, dst: string) => ({ src, dst, srcLen: 128, dstLen: 128, proto: 135 });
  return [
    { dir: 'out', selector: sel(HOA, HA), priority: 1000, templates: [{ proto: 'esp', reqid, mode: 'transport', saddr: HOA, daddr: HA }] },
    { dir: 'in', selector: sel(HA, HOA), priority: 1000, templates: [{ proto: 'esp', reqid: reqid + 1, mode: 'transport', saddr: HA, daddr: HOA }] },
  ];
}

test('E09 a second push of the same desired state changes nothing; E08 removing ours leaves foreign policies byte for byte', { skip }, async (t) => {
  const ns = freshNetns(t, 'push');
  ipIn(ns, 'xfrm', 'policy', 'add', 'src', '2001:db8:9::1/128', 'dst', '2001:db8:9::2/128', 'dir', 'out', 'tmpl', 'src', '2001:db8:9::1', 'dst', '2001:db8:9::2', 'proto', 'esp', 'reqid', '77', 'mode', 'transport');
  const foreign = ipIn(ns, 'xfrm', 'policy');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  const p = new XfrmPusher(c, DEFAULT_OWNERSHIP);
  const first = await p.apply({ sas: [], policies: mnPolicies() });
  assert.equal(first.added.length, 2);
  const text = ipIn(ns, 'xfrm', 'policy');
  assert.match(text, new RegExp(`src ${HOA}/128 dst ${HA}/128 proto (ipv6-mh|mobility-header|135)`));
  const second = await p.apply({ sas: [], policies: mnPolicies() });
  assert.deepEqual({ ...second, unchanged: 0 }, { added: [], replaced: [], removed: [], unchanged: 0 });
  assert.equal(second.unchanged, 2);
  assert.equal(ipIn(ns, 'xfrm', 'policy'), text, 'nothing changed in the kernel');
  // a changed template is replaced in place
  const changed = await p.apply({ sas: [], policies: mnPolicies(R + 5) });
  assert.equal(changed.replaced.length, 2);
  const removed = await p.removeOwned();
  assert.equal(removed.removed.length, 2);
  assert.equal(ipIn(ns, 'xfrm', 'policy'), foreign, 'the foreign policy survives byte for byte');
});

test('a desired policy that collides with a foreign one is refused and nothing changes', { skip }, async (t) => {
  const ns = freshNetns(t, 'conflict');
  ipIn(ns, 'xfrm', 'policy', 'add', 'src', `${HOA}/128`, 'dst', `${HA}/128`, 'proto', '135', 'dir', 'out', 'tmpl', 'src', HOA, 'dst', HA, 'proto', 'esp', 'reqid', '5', 'mode', 'transport');
  const before = ipIn(ns, 'xfrm', 'policy');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  await assert.rejects(new XfrmPusher(c, DEFAULT_OWNERSHIP).apply({ sas: [], policies: mnPolicies() }), /already exists and is not iro-ctl's/);
  assert.equal(ipIn(ns, 'xfrm', 'policy'), before);
});

test('a push that fails half way is rolled back: the kernel is left as it was', { skip }, async (t) => {
  const ns = freshNetns(t, 'rollback');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  const p = new XfrmPusher(c, DEFAULT_OWNERSHIP);
  await p.apply({ sas: [], policies: mnPolicies().slice(0, 1) });
  const before = ipIn(ns, 'xfrm', 'policy');
  const bad: PushPolicy = { dir: 'out', selector: { src: '2001:db8:7::1', dst: '2001:db8:7::2', srcLen: 129, dstLen: 128, proto: 0 }, priority: 5, templates: [{ proto: 'esp', reqid: R + 9, mode: 'transport' }] };
  await assert.rejects(p.apply({ sas: [], policies: [...mnPolicies(R + 3), bad] }), (e: Error & { errno?: number }) => e.errno === 22 || /Invalid/.test(e.message));
  assert.equal(ipIn(ns, 'xfrm', 'policy'), before, 'the replaced and added policies were rolled back');
});

test('a desired entry outside the ownership range is refused before touching the kernel', { skip }, async (t) => {
  const ns = freshNetns(t, 'range');
  const c = XfrmClient.open({ netns: ns });
  t.after(() => c.close());
  await assert.rejects(new XfrmPusher(c, DEFAULT_OWNERSHIP).apply({ sas: [], policies: mnPolicies(7) }), /outside iro-ctl's range/);
  assert.equal(ipIn(ns, 'xfrm', 'policy'), '');
});
