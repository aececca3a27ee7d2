// The engine learns policies from the SA event stream (policy-added/-updated/-deleted), so a
// PF_KEY-learned SA (no selector protocol) is classified by the policy sharing its reqid (F02)
// as soon as that policy's event arrives, and falls back when the policy goes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IroEngine } from '../../src/iro/engine.ts';
import { SadbMirror } from '../../src/ipsec/mirror.ts';
import type { PolicyInfo, SaInfo } from '../../src/ipsec/model.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';

const HOA = '2001:db8:1::100';
const COA = '2001:db8:a::100';
const CN = '2001:db8:c::10';

const outSa: SaInfo = { key: { proto: 'esp', spi: 44, daddr: CN }, saddr: HOA, mode: 'transport', reqid: 2, state: 'mature', sources: ['pfkey'] };
const mhPolicy: PolicyInfo = {
  dir: 'out',
  selector: { src: HOA, dst: CN, srcLen: 128, dstLen: 128, proto: 135 },
  priority: 100,
  index: 0,
  action: 'allow',
  templates: [{ proto: 'esp', reqid: 2, mode: 'transport' }],
};

test('F02 policy events reach classification: the SA becomes MH when its reqid policy arrives, data again when it goes', () => {
  const dp = new MemoryDatapath();
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  engine.setCoa(COA, 3);
  const mirror = new SadbMirror();
  const id = `out/esp/44/${CN}`;
  engine.onSaEvents(mirror.apply({ kind: 'sa-upsert', sa: outSa, source: 'pfkey' }));
  assert.equal(dp.map.get([...dp.map.keys()][0]!)?.entry.id, id);
  assert.equal(dp.map.size, 1);
  assert.equal([...dp.map.values()][0]!.entry.src, undefined, 'data SA without a binding: tracked, no source rewrite yet');

  engine.onSaEvents(mirror.apply({ kind: 'policy-upsert', policy: mhPolicy, source: 'pfkey' }));
  const mh = [...dp.map.values()][0]!.entry;
  assert.equal(mh.id, id);
  assert.deepEqual(mh.src?.remap, { ancillary: true, fallback: COA }, 'MH SA (via the policy with reqid 2): pre-binding source rule');
  assert.equal(engine.trackedSas()[0]!.cls.cls, 'mh');

  engine.onSaEvents(mirror.apply({ kind: 'policy-remove', policy: mhPolicy, source: 'pfkey' }));
  assert.equal([...dp.map.values()][0]!.entry.src, undefined, 'the policy is gone: data again');
  assert.equal(engine.trackedSas()[0]!.cls.cls, 'data');
});

test('setPolicies replaces what policy events taught', () => {
  const dp = new MemoryDatapath();
  const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  engine.setCoa(COA, 3);
  engine.onSaEvents([{ type: 'policy-added', policy: mhPolicy }, { type: 'sa-added', sa: outSa }]);
  assert.equal(engine.trackedSas()[0]!.cls.cls, 'mh');
  engine.setPolicies([]);
  engine.sync();
  assert.equal(engine.trackedSas()[0]!.cls.cls, 'data');
});
