import test from 'node:test';
import assert from 'node:assert/strict';
import { selectCoa, IFA_F_TENTATIVE, IFA_F_DEPRECATED, IFA_F_TEMPORARY, type IfaceState } from '../../src/mip6/movement.ts';

const HOME = { prefix: '2001:db8:1::', prefixlen: 64 };
const HOAS = new Set(['2001:db8:1::100']);

function iface(name: string, index: number, addrs: Array<[string, number?]>, o: Partial<IfaceState> = {}): IfaceState {
  return { name, index, up: true, defaultRoute: true, addresses: addrs.map(([address, flags]) => ({ address, prefixlen: 64, flags: flags ?? 0 })), ...o };
}

test('the first preferred interface that is up, with a default route and a usable global address gives the CoA', () => {
  const state = new Map([
    ['eth0', iface('eth0', 2, [['2001:db8:a::100']])],
    ['wlan0', iface('wlan0', 3, [['2001:db8:b::100']])],
  ]);
  assert.equal(selectCoa(['wlan0', 'eth0'], state, HOME, HOAS).coa, '2001:db8:b::100');
  assert.equal(selectCoa(['eth0', 'wlan0'], state, HOME, HOAS).coa, '2001:db8:a::100');
  state.get('eth0')!.up = false;
  const c = selectCoa(['eth0', 'wlan0'], state, HOME, HOAS);
  assert.equal(c.coa, '2001:db8:b::100');
  assert.equal(c.ifindex, 3);
});

test('tentative, deprecated, link-local and HoA addresses are not CoAs; stable beats temporary', () => {
  const state = new Map([
    ['eth0', iface('eth0', 2, [['fe80::1'], ['2001:db8:a::1', IFA_F_TENTATIVE], ['2001:db8:a::2', IFA_F_DEPRECATED], ['2001:db8:1::100']])],
    ['wlan0', iface('wlan0', 3, [['2001:db8:b::9', IFA_F_TEMPORARY], ['2001:db8:b::100']])],
  ]);
  const c = selectCoa(['eth0', 'wlan0'], state, HOME, HOAS);
  assert.equal(c.coa, '2001:db8:b::100');
  assert.match(selectCoa(['eth0'], state, HOME, HOAS).why, /eth0: no usable global address/);
});

test('an address in the home prefix means the MN is at home: no CoA', () => {
  const state = new Map([['eth0', iface('eth0', 2, [['2001:db8:1::55']])]]);
  const c = selectCoa(['eth0'], state, HOME, HOAS);
  assert.equal(c.atHome, true);
  assert.equal(c.coa, null);
});

test('without a default route an interface is skipped; nothing usable gives no CoA with the reasons', () => {
  const state = new Map([['eth0', iface('eth0', 2, [['2001:db8:a::100']], { defaultRoute: false })]]);
  const c = selectCoa(['eth0', 'wlan9'], state, HOME, HOAS);
  assert.equal(c.coa, null);
  assert.equal(c.atHome, false);
  assert.match(c.why, /eth0: no default route; wlan9: absent/);
});
