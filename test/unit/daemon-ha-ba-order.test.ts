// The HA runtime's order of work on a home BU (D20, [HAIPSEC] I7): for a new CoA the BA leaves
// only after the MN's tunnel moved there (ip6tnl, remap program on its egress) and the tunnel
// SAs were pushed; a refresh (same CoA) and a deregistration are answered at once. The
// kernel-facing parts are fakes here; scenario-k01/-move show the BA on the wire.
import test from 'node:test';
import assert from 'node:assert/strict';
import { NodeRuntime } from '../../src/daemon/runtime.ts';
import { SerialQueue } from '../../src/daemon/serial.ts';
import type { Mip6Action } from '../../src/mip6/types.ts';
import { silentLogger } from '../../src/obs/log.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';

function haRuntime(order: string[]): { perform(actions: Mip6Action[]): void; queue: SerialQueue } {
  const r = Object.create(NodeRuntime.prototype) as Record<string, unknown>;
  r.config = { datapath: { attachMode: 'auto' } };
  r.log = silentLogger;
  r.node = { ha: null };
  r.haCoas = new Map<string, string>();
  r.counters = new Map<string, number>();
  r.pushQueued = false;
  r.queue = new SerialQueue((e) => order.push(`error ${e.message}`));
  r.engine = { batch: (fn: () => void) => fn(), setHaBinding: (hoa: string, b: { coa: string } | null) => void order.push(`rules ${hoa} -> ${b?.coa ?? 'none'}`) };
  r.home = { setBinding: async (hoa: string, coa: string | null) => void order.push(`tunnel ${hoa} -> ${coa ?? 'none'}`) };
  r.datapath = { attachments: () => [], attach: (ifname: string, dir: string) => void order.push(`attach ${dir}`), detach: () => void order.push('detach') };
  r.pushIpsec = async () => void order.push('tunnel SAs pushed');
  r.mh = { send: (a: { msg: { kind: string; lifetime?: number } }) => void order.push(`send ${a.msg.kind}`) };
  return r as unknown as { perform(actions: Mip6Action[]): void; queue: SerialQueue };
}

const ba = { type: 'send', msg: { kind: 'ba' }, src: '2001:db8:1::2', dst: HOA, onWireDst: COA } as unknown as Mip6Action;
const changed = (coa: string | null): Mip6Action =>
  ({ type: 'binding-changed', role: 'ha', bindings: [coa ? { hoa: HOA, removed: false, coa, lifetime: 3600 } : { hoa: HOA, removed: true }] }) as Mip6Action;

test('G11/I07 a BU for a new CoA: rules, then the tunnel with its program, then the tunnel SAs, then the BA', async () => {
  const order: string[] = [];
  const r = haRuntime(order);
  // the state machine emits the BA before the binding change; the runtime reorders
  r.perform([ba, changed(COA)]);
  assert.deepEqual(order, [`rules ${HOA} -> ${COA}`], 'nothing is sent before the kernel work');
  await r.queue.idle();
  await r.queue.idle();
  assert.deepEqual(order, [`rules ${HOA} -> ${COA}`, `tunnel ${HOA} -> ${COA}`, 'attach egress', 'tunnel SAs pushed', 'send ba']);
});

test('a refresh BU (same CoA) is answered at once, with no kernel work', async () => {
  const order: string[] = [];
  const r = haRuntime(order);
  r.perform([ba, changed(COA)]);
  await r.queue.idle();
  await r.queue.idle();
  order.length = 0;
  r.perform([ba, changed(COA)]);
  assert.deepEqual(order, [`rules ${HOA} -> ${COA}`, 'send ba']);
  await r.queue.idle();
  assert.deepEqual(order, [`rules ${HOA} -> ${COA}`, 'send ba']);
});

test('a deregistration is answered at once (through the tunnel that still exists), then the tunnel goes', async () => {
  const order: string[] = [];
  const r = haRuntime(order);
  r.perform([ba, changed(COA)]);
  await r.queue.idle();
  await r.queue.idle();
  order.length = 0;
  r.perform([ba, changed(null)]);
  assert.deepEqual(order, [`rules ${HOA} -> none`, 'send ba']);
  await r.queue.idle();
  await r.queue.idle();
  assert.deepEqual(order, [`rules ${HOA} -> none`, 'send ba', `tunnel ${HOA} -> none`, 'tunnel SAs pushed']);
});
