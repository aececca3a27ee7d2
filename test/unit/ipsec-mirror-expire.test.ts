// SadbMirror with both back-ends reporting the same hard expiry (XFRM EXPIRE and PF_KEY
// SADB_EXPIRE, as the guest kernel does): one sa-expired event, not two (D10 de-duplication,
// D09). Found by test/vm/engine-rules.test.ts on a real kernel.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SadbMirror } from '../../src/ipsec/mirror.ts';
import type { SaInfo, SaSource } from '../../src/ipsec/model.ts';

const HOA = '2001:db8:1::100';
const CN = '2001:db8:c::10';

function sa(spi: number): SaInfo {
  return { key: { proto: 'esp', spi, daddr: HOA }, saddr: CN, mode: 'transport', reqid: 1, state: 'mature', sources: ['xfrm'] };
}

const hard = (spi: number, source: SaSource) => ({ kind: 'sa-expire' as const, key: sa(spi).key, hard: true, source, sa: sa(spi) });
const types = (m: SadbMirror, c: Parameters<SadbMirror['apply']>[0]) => m.apply(c).map((e) => (e.type === 'sa-expired' ? `${e.type}(${e.hard ? 'hard' : 'soft'})` : e.type));

test('D10/D09 a hard expiry reported by XFRM and by PF_KEY is one sa-expired event, in either order', () => {
  for (const [first, second] of [['xfrm', 'pfkey'], ['pfkey', 'xfrm']] as const) {
    const m = new SadbMirror();
    m.apply({ kind: 'sa-upsert', sa: sa(0x10), source: 'xfrm' });
    assert.deepEqual(types(m, hard(0x10, first)), ['sa-expired(hard)']);
    assert.deepEqual(types(m, hard(0x10, second)), [], `${second} after ${first}: a duplicate`);
    assert.equal(m.size, 0);
  }
});

test('D09 an SA re-added under the same key after a hard expiry expires again with its own event', () => {
  const m = new SadbMirror();
  m.apply({ kind: 'sa-upsert', sa: sa(0x11), source: 'xfrm' });
  assert.deepEqual(types(m, hard(0x11, 'xfrm')), ['sa-expired(hard)']);
  assert.deepEqual(types(m, { kind: 'sa-upsert', sa: sa(0x11), source: 'xfrm' }), ['sa-added']);
  assert.deepEqual(types(m, hard(0x11, 'pfkey')), ['sa-expired(hard)']);
});

test('a hard expiry of an SA the mirror never held (e.g. a larval SA known only downstream) is reported once', () => {
  const m = new SadbMirror();
  assert.deepEqual(types(m, hard(0x12, 'pfkey')), ['sa-expired(hard)']);
  assert.deepEqual(types(m, hard(0x12, 'xfrm')), []);
  assert.deepEqual(types(m, { kind: 'sa-expire', key: sa(0x13).key, hard: true, source: 'xfrm' }), [], 'no SA, no description: nothing to tell');
});
