// The MN runtime's order of work on a move (issue 6 handover benchmark): the rules follow the
// new CoA, then the BUs leave, then the tunnel SAs are pushed. The push took 0.5-0.9 s in the
// VM and used to come before the BUs, on the critical path of every handover ([HAIPSEC] I6:
// the new CoA is used right after the BU registering it). Kernel-facing parts are fakes here.
import test from 'node:test';
import assert from 'node:assert/strict';
import { NodeRuntime } from '../../src/daemon/runtime.ts';
import type { CoaChoice } from '../../src/mip6/movement.ts';

interface RuntimeInternals {
  config: unknown;
  tunnel: unknown;
  datapath: unknown;
  engine: unknown;
  pusher: unknown;
  desiredIpsec: () => unknown;
  dispatch: (ev: { type: string; coa?: string | null }) => void;
  onMovement: (choice: CoaChoice) => Promise<void>;
}

test('E07 on a move the BUs leave after the rules for the new CoA and before the tunnel SA push', async () => {
  const order: string[] = [];
  const r = Object.create(NodeRuntime.prototype) as RuntimeInternals;
  r.config = { datapath: { attachMode: 'auto' } };
  r.tunnel = { name: 'iro-ha0', follow: async (coa: string | null) => void order.push(`tunnel follows ${coa}`), ifindex: async () => 0 };
  r.datapath = { attach: () => order.push('attach') };
  r.engine = {
    batch: (fn: () => void) => {
      fn();
      order.push('rules written');
    },
    setCoa: (coa: string | null) => order.push(`setCoa ${coa}`),
    expectSas: () => undefined,
  };
  r.desiredIpsec = () => ({ sas: [], policies: [] });
  r.dispatch = (ev) => void order.push(`dispatch ${ev.type} ${ev.coa}`);
  let release!: () => void;
  r.pusher = {
    apply: () =>
      new Promise<void>((resolve) => {
        order.push('SA push started');
        release = resolve;
      }),
  };
  const done = r.onMovement({ coa: '2001:db8:b::100', ifname: 'fb', ifindex: 5, atHome: false, why: 'test' });
  // the push is still running: the BUs must not wait for it
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(order, [
    'tunnel follows 2001:db8:b::100',
    'setCoa 2001:db8:b::100',
    'rules written',
    'dispatch movement 2001:db8:b::100',
    'SA push started',
  ]);
  release();
  await done;
});
