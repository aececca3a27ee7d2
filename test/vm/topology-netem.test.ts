// netem in the topology kit, inside the test VM (the Debian guest kernel has sch_netem; the
// host kernel does not, and test/netns/topology.test.ts checks the clear error there). Under
// TCG timing is slow and noisy, so only lower bounds (an RTT cannot beat the added delay) and
// "min below the delay once removed" are asserted, never absolute speeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { create, iroTopology, netemUnavailable, type TopologySpec } from '../lib/topology/index.ts';

const skip = skipUnlessGuest();

function pair(netem: { a?: number; b?: number }): TopologySpec<'a' | 'b'> {
  return {
    hosts: { a: {}, b: {} },
    links: [
      {
        name: 'ab',
        ends: [
          { host: 'a', ifname: 'e0', addrs: ['2001:db8:5::1/64'], ...(netem.a ? { netem: { delayMs: netem.a } } : {}) },
          { host: 'b', ifname: 'e0', addrs: ['2001:db8:5::2/64'], ...(netem.b ? { netem: { delayMs: netem.b } } : {}) },
        ],
      },
    ],
  };
}

test('netem is available in the guest kernel', { skip }, async () => {
  assert.equal(await netemUnavailable(), null);
});

test('a netem delay on one end delays one direction: RTT >= delay', { skip }, async (t) => {
  for (const [side, delay] of [['a', 40], ['b', 60]] as const) {
    const topo = await create(pair({ [side]: delay }));
    t.after(() => topo.destroy());
    assert.match(topo.host(side).tc('qdisc', 'show', 'dev', 'e0'), new RegExp(`netem .*delay ${delay}ms`));
    const r = await topo.host('a').ping('2001:db8:5::2', { count: 4, intervalMs: 100 });
    assert.ok(r.rtt && r.rtt.min >= delay, `netem ${delay} ms on ${side}: min RTT ${r.rtt?.min} ms`);
  }
});

test('standard IRO topology with netem on foreignA (both directions): MN-CN RTT >= 2x delay', { skip }, async (t) => {
  const delay = 25;
  const topo = await iroTopology({ netem: { foreignA: { delayMs: delay } } });
  t.after(() => topo.destroy());
  const r = await topo.mn.ping(topo.addr.cn, { count: 4 });
  assert.ok(r.rtt && r.rtt.min >= 2 * delay, `min RTT ${r.rtt?.min} ms`);
  // The HA-CN path does not cross foreignA.
  const ha = await topo.ha.ping(topo.addr.cn, { count: 4 });
  assert.ok(ha.rtt && ha.rtt.min < delay, `HA-CN min RTT ${ha.rtt?.min} ms`);
});

test('netem changed at run time: added, then 100% loss, then removed', { skip }, async (t) => {
  const topo = await create(pair({}));
  t.after(() => topo.destroy());
  const a = topo.host('a');
  await a.setNetem('e0', { delayMs: 80 });
  const slow = await a.ping('2001:db8:5::2', { count: 3 });
  assert.ok(slow.rtt && slow.rtt.min >= 80, `min RTT ${slow.rtt?.min} ms`);
  await a.setNetem('e0', { lossPercent: 100 });
  await a.ping('2001:db8:5::2', { count: 2, expect: 'none', deadlineS: 2 });
  await a.setNetem('e0', null);
  const fast = await a.ping('2001:db8:5::2', { count: 3 });
  assert.ok(fast.rtt && fast.rtt.min < 80, `min RTT ${fast.rtt?.min} ms after removal`);
});
