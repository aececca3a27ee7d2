// D13 / OP-17: PF_KEY SAs carry no direction; in = daddr local (HoAs included), out = saddr
// local, both local -> configuration or unknown; an explicit XFRMA_SA_DIR-style direction wins.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inferDirection, localAddressSet, type DirectionContext } from '../../src/kernel/pfkey/direction.ts';
import { decodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { saInfo } from '../../src/kernel/pfkey/sa-info.ts';
import * as F from '../lib/pfkey-fixtures.ts';

const HOA = '2001:db8:1::10';
const COA = '2001:db8:f::5';
const CN = '2001:db8:2::20';

const local = localAddressSet([COA, '2001:0db8:0001:0000:0000:0000:0000:0010' /* the HoA, non-canonical */]);
const ctx: DirectionContext = { isLocal: local };

describe('D13 SA direction inference', () => {
  test('D13 daddr local (the HoA) -> in; saddr local -> out', () => {
    assert.deepEqual(inferDirection({ src: CN, dst: HOA }, ctx), { dir: 'in', reason: 'dst-local' });
    assert.deepEqual(inferDirection({ src: HOA, dst: CN }, ctx), { dir: 'out', reason: 'src-local' });
    assert.deepEqual(inferDirection({ src: CN, dst: COA }, ctx), { dir: 'in', reason: 'dst-local' });
  });

  test('D13 from a decoded PF_KEY ADD notification (no direction on the wire)', () => {
    const inbound = saInfo(decodePfkeyMessage(F.saNotify({ type: 3, seq: 1, pid: 1, spi: 0x100, src: F.CN_ADDR, dst: F.MN_HOA })))!;
    const outbound = saInfo(decodePfkeyMessage(F.saNotify({ type: 3, seq: 1, pid: 1, spi: 0x101 })))!;
    assert.equal(inferDirection(inbound, ctx).dir, 'in');
    assert.equal(inferDirection(outbound, ctx).dir, 'out');
  });

  test('D13 an explicit direction (XFRMA_SA_DIR) overrides address locality', () => {
    assert.deepEqual(inferDirection({ src: HOA, dst: CN }, ctx, 'in'), { dir: 'in', reason: 'explicit' });
    const hooked: DirectionContext = { ...ctx, override: (sa) => (sa.spi === 0x42 ? 'in' : undefined) };
    assert.deepEqual(inferDirection({ src: HOA, dst: CN, spi: 0x42 }, hooked), { dir: 'in', reason: 'override' });
    assert.deepEqual(inferDirection({ src: HOA, dst: CN, spi: 0x43 }, hooked), { dir: 'out', reason: 'src-local' });
  });

  test('D13 both ends local (netns tests): configured direction, else unknown; neither local: unknown', () => {
    assert.deepEqual(inferDirection({ src: HOA, dst: COA }, ctx), { dir: 'unknown', reason: 'both-local' });
    const configured: DirectionContext = { ...ctx, configured: (sa) => (sa.dst === COA ? 'in' : undefined) };
    assert.deepEqual(inferDirection({ src: HOA, dst: COA }, configured), { dir: 'in', reason: 'configured' });
    assert.deepEqual(inferDirection({ src: CN, dst: '2001:db8:3::1' }, ctx), { dir: 'unknown', reason: 'neither-local' });
  });

  test('D13 local addresses compare in canonical form', () => {
    assert.equal(local('2001:DB8:1::10'), true);
    assert.equal(local('2001:db8:1:0:0:0:0:10'), true);
    assert.equal(local('2001:db8:1::11'), false);
  });
});
