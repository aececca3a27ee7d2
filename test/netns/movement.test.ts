// Movement detection from real rtnetlink state and events: the MN moves between the two foreign
// links of the standard topology and the detector reports each new CoA once.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../lib/capabilities.ts';
import { iroTopology } from '../lib/topology/index.ts';
import { MovementDetector } from '../../src/mip6/movement-detector.ts';
import type { CoaChoice } from '../../src/mip6/movement.ts';

const skip = skipUnless('netns');

test('G14 movement: the detector follows the MN from foreign link A to B and back to none', { skip }, async (t) => {
  const topo = await iroTopology({ prefix: 'iromove' });
  t.after(() => topo.destroy());
  const d = await MovementDetector.open({ netns: topo.mn.ns, interfaces: ['fa', 'fb'], home: { prefix: '2001:db8:1::', prefixlen: 64 }, hoas: [topo.addr.mn.hoa], debounceMs: 30 });
  t.after(() => d.close());
  assert.equal(d.choice.coa, topo.addr.mn.coaA);
  const seen: CoaChoice[] = [];
  d.on('change', (c) => seen.push(c));
  topo.moveMn('B');
  const until = async (pred: () => boolean) => {
    const end = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`no movement event: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => seen.some((c) => c.coa === topo.addr.mn.coaB));
  assert.equal(seen.filter((c) => c.coa === topo.addr.mn.coaB).length, 1, 'one event for one move');
  assert.equal(seen.at(-1)!.ifname, 'fb');
  topo.mn.setUp('fb', false);
  await until(() => seen.at(-1)!.coa === null);
  assert.equal(seen.at(-1)!.atHome, false);
});
