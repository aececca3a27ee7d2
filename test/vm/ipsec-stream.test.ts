// The one SA event stream with both back-ends on a real kernel: an SA installed through XFRM is
// also reported by PF_KEY (D10), the two reports make one event (de-duplication), and an SA
// added through PF_KEY reaches the engine the same way as one added through XFRM (E04, D03).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { IpsecWatcher } from '../../src/ipsec/watcher.ts';
import type { SaEvent } from '../../src/ipsec/model.ts';
import { IroEngine } from '../../src/iro/engine.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';
import { PfkeyClient } from '../../src/kernel/pfkey/client.ts';
import { SADB_X_EALG_AESCBC, SADB_SATYPE_ESP, SADB_X_AALG_SHA2_256HMAC } from '../../src/kernel/pfkey/constants.ts';
import { describeArgv, redactText } from '../lib/topology/redact.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';

const skip = skipUnlessGuest();
const HOA = '2001:db8:1::100';
const CN = '2001:db8:c::10';
const COA = '2001:db8:a::100';
const KEY = '0x' + '3c'.repeat(32);
const ENC = '0x' + '5a'.repeat(16);

/** `ip -n NS ...`; a failure message never shows the key arguments. */
function ip(ns: string, ...args: string[]): void {
  try {
    execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`ip ${describeArgv(args)} failed: ${redactText(String((e as { stderr?: Buffer }).stderr ?? ''))}`);
  }
}

function netns(t: { after(fn: () => void): void }, tag: string): string {
  const name = `iro-stream-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => execFileSync('ip', ['netns', 'del', name]));
  return name;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('D10 an SA added with ip xfrm is seen on PF_KEY too; both reports make one sa-added event; one delete event', { skip, timeout: 180_000 }, async (t) => {
  const ns = netns(t, 'd10');
  const w = await IpsecWatcher.open({ netns: ns, pfkey: 'on' });
  t.after(() => w.close());
  assert.ok(w.pfkey, 'PF_KEY in use');
  const events: SaEvent[] = [];
  w.on('changes', (e) => events.push(...e));
  ip(ns, 'xfrm', 'state', 'add', 'src', CN, 'dst', HOA, 'proto', 'esp', 'spi', '0x4301', 'mode', 'transport', 'reqid', '4', 'auth-trunc', 'hmac(sha256)', KEY, '128', 'enc', 'cbc(aes)', ENC, 'sel', 'src', CN, 'dst', HOA);
  await until(() => (w.mirror.get({ proto: 'esp', spi: 0x4301, daddr: HOA })?.sources.length ?? 0) === 2);
  assert.deepEqual(w.mirror.get({ proto: 'esp', spi: 0x4301, daddr: HOA })!.sources, ['pfkey', 'xfrm']);
  assert.equal(events.filter((e) => e.type === 'sa-added').length, 1, 'one sa-added for the two reports');
  assert.equal(w.mirror.get({ proto: 'esp', spi: 0x4301, daddr: HOA })!.selector?.dst, HOA, 'the XFRM selector is kept whatever arrives last');
  ip(ns, 'xfrm', 'state', 'del', 'src', CN, 'dst', HOA, 'proto', 'esp', 'spi', '0x4301');
  await until(() => events.some((e) => e.type === 'sa-deleted'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events.filter((e) => e.type === 'sa-deleted').length, 1, 'one sa-deleted for the two reports');
});

test('E04/D03 an SA added through PF_KEY and one added through XFRM give the same rules', { skip, timeout: 180_000 }, async (t) => {
  const results: string[][] = [];
  for (const via of ['pfkey', 'xfrm'] as const) {
    const ns = netns(t, via);
    const w = await IpsecWatcher.open({ netns: ns, pfkey: 'on' });
    t.after(() => w.close());
    const dp = new MemoryDatapath();
    const engine = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
    engine.setCoa(COA, 2);
    engine.onSaEvents(w.initialEvents());
    w.on('changes', (e) => engine.onSaEvents(e));
    if (via === 'xfrm') {
      ip(ns, 'xfrm', 'state', 'add', 'src', CN, 'dst', HOA, 'proto', 'esp', 'spi', '0x4302', 'mode', 'transport', 'reqid', '4', 'auth-trunc', 'hmac(sha256)', KEY, '128', 'enc', 'cbc(aes)', ENC);
    } else {
      const c = await PfkeyClient.open({ netns: ns, register: [] });
      try {
        await c.add({ satype: SADB_SATYPE_ESP, spi: 0x4302, src: CN, dst: HOA, mode: 'transport', reqid: 4, auth: { alg: SADB_X_AALG_SHA2_256HMAC, key: KeyMaterial.fromHex(KEY) }, enc: { alg: SADB_X_EALG_AESCBC, key: KeyMaterial.fromHex(ENC) } });
      } finally {
        c.close();
      }
    }
    await until(() => dp.map.size === 1);
    results.push(dp.snapshot().map((s) => s.split('@')[1]!));
  }
  assert.deepEqual(results[0], results[1]);
  assert.deepEqual(results[0], ['in/esp/17154']);
});
