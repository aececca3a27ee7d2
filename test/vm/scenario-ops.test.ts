// Operating a node with the real CLI (E09, L05, E08, G13, I04, L04, D08): the MN is started with
// `iro-ctl up`, started again (nothing changes), killed with SIGKILL under a direct UDP and TCP
// flow (the flows go on; the restart adopts the data path and changes nothing in the kernel),
// and taken down with `iro-ctl down` (deregistration at the HA and the CN, then exactly what
// iro-ctl owns is removed: a foreign SA and policy survive byte for byte). No key ever shows
// in the status, the CLI output or any daemon log.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { iroTopology, type IroTopology } from '../lib/topology/index.ts';
import { Deployment, destroyAfterTests, mnEntry } from '../lib/scenario/deployment.ts';
import { startFlow, startFlowServer } from '../lib/scenario/flows.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnlessGuest();
let topo: IroTopology | undefined;
let dep: Deployment | undefined;
destroyAfterTests(() => [dep, topo]);

const OWNED_SPIS = [0x1001, 0x1002, 0x1005, 0x1006, 0x1011, 0x1012, 0x2001, 0x2002, 0x2003, 0x2004];
const DATA_TO_CN = 0x2003;
// a foreign SA and policy (another IPsec user of the same kernel), between addresses of no node
const FOREIGN = { src: '2001:db8:f00::1', dst: '2001:db8:f00::2', spi: '0x7777', reqid: '7' };

const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

function foreignState(t: IroTopology): { sa: string; policy: string } {
  return {
    sa: t.mn.ip('-6', 'xfrm', 'state', 'get', 'src', FOREIGN.src, 'dst', FOREIGN.dst, 'proto', 'esp', 'spi', FOREIGN.spi),
    policy: t.mn.ip('-6', 'xfrm', 'policy', 'get', 'src', `${FOREIGN.src}/128`, 'dst', `${FOREIGN.dst}/128`, 'dir', 'out'),
  };
}

/**
 * The MN's kernel IPsec state and rules, as text: equal snapshots = no change. The anti-replay
 * sequence numbers move with traffic and are left out; keys are replaced by a digest so that a
 * failing comparison prints no key material.
 */
function kernelSnapshot(t: IroTopology): string {
  const sad = t.mn
    .ip('-6', 'xfrm', 'state')
    .split('\n')
    .filter((l) => !l.includes('anti-replay context'))
    .map((l) => l.replace(/0x[0-9a-f]{16,}/g, (k) => `key#${sha(k)}`))
    .join('\n');
  return [sad, t.mn.ip('-6', 'xfrm', 'policy')].join('\n----\n');
}

function rulesOf(st: Record<string, unknown>): string {
  // by id: the status lists them in the engine's insertion order, which a restart may change
  const rules = (st.rules as Array<{ id: string; rules: string[]; oif: number }>).map((r) => [r.id, r.rules, r.oif] as const);
  return JSON.stringify(rules.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
}

function assertNoKeys(d: Deployment, text: string, what: string): void {
  for (const k of d.allKeys()) {
    for (const form of [k.toString('hex'), k.toString('base64'), k.toString('hex').toUpperCase()]) {
      assert.ok(!text.includes(form), `${what} contains key material (a key of ${k.length} bytes)`);
    }
  }
}

test('E09 a second `iro-ctl up` with the same configuration changes nothing; L04 status shows bindings, SPIs and counters, never keys', { skip, timeout: 900_000 }, async () => {
  topo = await iroTopology({ prefix: 'ops' });
  dep = new Deployment('ops');
  const { addr } = topo;
  for (const n of ['ha', 'cn', 'mn'] as const) dep.configure(n);
  topo.mn.ip('-6', 'xfrm', 'state', 'add', 'src', FOREIGN.src, 'dst', FOREIGN.dst, 'proto', 'esp', 'spi', FOREIGN.spi, 'reqid', FOREIGN.reqid, 'mode', 'transport',
    'auth-trunc', 'hmac(sha256)', `0x${randomBytes(32).toString('hex')}`, '128', 'enc', 'cbc(aes)', `0x${randomBytes(16).toString('hex')}`);
  topo.mn.ip('-6', 'xfrm', 'policy', 'add', 'src', `${FOREIGN.src}/128`, 'dst', `${FOREIGN.dst}/128`, 'dir', 'out', 'priority', '50',
    'tmpl', 'src', FOREIGN.src, 'dst', FOREIGN.dst, 'proto', 'esp', 'reqid', FOREIGN.reqid, 'mode', 'transport');
  const foreignBefore = foreignState(topo);

  await dep.start('ha', topo.ha.ns);
  await dep.start('cn', topo.cn.ns);
  const first = await dep.up('mn', topo.mn.ns);
  assert.equal(first.adoptedDatapath, false);
  assert.ok(((first.firstPush as { added: number }).added) >= OWNED_SPIS.length, `the first start pushes the SAs: ${JSON.stringify(first.firstPush)}`);
  await dep.waitFor('mn', (st) => mnEntry(st, addr.ha)?.state === 'effective' && mnEntry(st, addr.cn)?.state === 'effective', 'home and correspondent registrations', 120_000);

  const kernelBefore = kernelSnapshot(topo);
  const rulesBefore = rulesOf(await dep.status('mn'));
  const again = await dep.cli('mn', topo.mn.ns, ['up']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).alreadyUp, true);
  assert.equal(kernelSnapshot(topo), kernelBefore, 'E09: the second up changed the SAD/SPD');
  assert.equal(rulesOf(await dep.status('mn')), rulesBefore, 'E09: the second up changed the rules');

  // L04: the human status through the CLI
  const human = await dep.cli('mn', topo.mn.ns, ['status']);
  assert.equal(human.code, 0, human.stderr);
  const text = JSON.stringify(JSON.parse(human.stdout));
  assert.match(text, /"state":"effective"/);
  const st = JSON.parse(human.stdout) as { owned: { sas: Array<{ spi: number }> }; sas: Array<{ sa: { spi: number } }> };
  assert.deepEqual(st.owned.sas.map((s) => s.spi).sort(), [...OWNED_SPIS].sort(), 'status lists every SA iro-ctl owns');
  // the MN-HA tunnel SAs (0x1011/0x1012) are owned but never remapped (App. H): not tracked
  assert.deepEqual(st.sas.map((s) => s.sa.spi).sort(), OWNED_SPIS.filter((s) => s !== 0x1011 && s !== 0x1012).sort(), 'the IRO-tracked SAs');
  assert.match(text, /"srcHits":"\d+"/, 'per-rule counters (64-bit, as decimal strings)');
  assertNoKeys(dep, human.stdout + human.stderr, 'iro-ctl status');
  assert.deepEqual(foreignState(topo), foreignBefore, 'the foreign SA and policy are untouched by up');
});

test('L05 SIGKILL of the MN daemon under direct UDP and TCP flows: no gap over 1 s, the restart adopts and changes nothing (E09)', { skip, timeout: 900_000 }, async () => {
  assert.ok(topo && dep, 'the first test set up the deployment');
  const { addr } = topo;
  const server = await startFlowServer(topo.cn, addr.cn, 7300);
  const udp = await startFlow(topo.mn, 'udp', addr.mn.hoa, addr.cn, 7300, 20);
  const tcp = await startFlow(topo.mn, 'tcp', addr.mn.hoa, addr.cn, 7300, 20);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const kernelBefore = kernelSnapshot(topo);
    const rulesBefore = rulesOf(await dep.status('mn'));
    const cap = await topo.capture('foreignA', { at: 'router' });
    await dep.kill('mn');
    await new Promise((r) => setTimeout(r, 3000));
    const whileDown = await cap.stop();
    const direct = whileDown.packets.filter((p) => p.esp.some((e) => e.spi === DATA_TO_CN));
    assert.ok(direct.length >= 50, `direct ESP data went on with no daemon (${direct.length} packets):\n${whileDown.text.slice(0, 3000)}`);
    for (const p of direct) assert.equal(p.src, canonicalIPv6(addr.mn.coaA));
    assert.equal(kernelSnapshot(topo), kernelBefore, 'SIGKILL left the kernel state as it was');

    const st = await dep.up('mn', topo.mn.ns);
    assert.equal(st.adoptedDatapath, true, 'the restart adopted the pinned data path');
    assert.deepEqual({ put: (st.firstSync as { put: number }).put, deleted: (st.firstSync as { deleted: number }).deleted }, { put: 0, deleted: 0 }, 'the first sync changed no rule');
    const fp = st.firstPush as { added: number; replaced: number; removed: number };
    assert.deepEqual({ added: fp.added, replaced: fp.replaced, removed: fp.removed }, { added: 0, replaced: 0, removed: 0 }, 'the start-up push changed no SA or policy');
    assert.equal(rulesOf(st), rulesBefore, 'the same rules after the restart');
    await dep.waitFor('mn', (s) => mnEntry(s, addr.ha)?.state === 'effective' && mnEntry(s, addr.cn)?.state === 'effective' && mnEntry(s, addr.cn)?.phase === 'idle', 'the registrations after the restart', 120_000);
    assert.equal(rulesOf(await dep.status('mn')), rulesBefore, 'the re-registration left the rules as they were');
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    const u = await udp.stop();
    const t = await tcp.stop();
    await server.stop();
    for (const [kind, r] of [['udp', u], ['tcp', t]] as const) {
      assert.deepEqual(r.errors, [], `${kind} flow errors`);
      assert.ok(r.sent > 200, `${kind} flow ran (${r.sent} sent)`);
      assert.ok(r.maxGapMs < 1000, `${kind}: longest silence ${r.maxGapMs} ms (L05: at most 1 s); ${JSON.stringify(r)}`);
      assert.ok(r.longestLossRun * 20 < 1000, `${kind}: ${r.longestLossRun} consecutive losses`);
    }
    assert.ok(server.peers().every((p) => p.peer === canonicalIPv6(addr.mn.hoa)), 'the CN sockets saw the HoA');
  }
});

test('G13 E08 I04 `iro-ctl down`: deregistration at the HA and the CN, exactly what iro-ctl owns removed, foreign state byte for byte; D08 no key in any log', { skip, timeout: 900_000 }, async () => {
  assert.ok(topo && dep, 'the first test set up the deployment');
  const { addr } = topo;
  const hoa = canonicalIPv6(addr.mn.hoa);
  const foreignBefore = foreignState(topo);
  const mnNode = dep.nodes.get('mn')!;
  // the CN's data rules with the MN: to its CoA (out, data-to-mn) and from it (in, data-to-cn)
  const dataRuleIds = [`out/esp/${0x2004}/${hoa}`, `in/esp/${DATA_TO_CN}`];
  const cnDataRules = async () => ((await dep!.status('cn')).rules as Array<{ id: string }>).map((r) => r.id).filter((id) => dataRuleIds.includes(id));
  assert.deepEqual((await cnDataRules()).sort(), [...dataRuleIds].sort(), 'the CN has both data rules for the MN before');

  const down = await dep.cli('mn', topo.mn.ns, ['down']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(JSON.parse(down.stdout).stopped, true);

  // G13: lifetime-0 BUs reached the HA and the CN, and they dropped the binding and its rules
  const haSt = await dep.waitFor('ha', (s) => !((s.ha as { entries: Array<{ hoa: string }> }).entries.some((e) => e.hoa === hoa)), 'the home deregistration', 30_000);
  assert.ok(haSt);
  await dep.waitFor('cn', (s) => !((s.cn as { bindings: Array<{ hoa: string }> }).bindings.some((b) => b.hoa === hoa)), 'the correspondent deregistration', 30_000);
  assert.deepEqual(await cnDataRules(), [], "the CN removed the data rules with the MN's CoA");
  assert.doesNotMatch(topo.ha.ip('-6', 'neigh', 'show', 'proxy'), new RegExp(hoa), 'the HA no longer defends the HoA');

  // E08: the MN's kernel holds nothing of iro-ctl and everything that was not its
  const sad = topo.mn.ip('-6', 'xfrm', 'state');
  for (const spi of OWNED_SPIS) assert.doesNotMatch(sad, new RegExp(`spi 0x0*${spi.toString(16)}\\b`), `owned SA 0x${spi.toString(16)} removed`);
  const after = foreignState(topo);
  assert.equal(sha(after.sa), sha(foreignBefore.sa), 'the foreign SA survived byte for byte');
  assert.equal(after.policy, foreignBefore.policy, 'the foreign policy survived byte for byte');
  assert.equal(topo.mn.ip('-6', 'xfrm', 'policy').trim().split('\n').filter((l) => l.startsWith('src ')).length, 1, `only the foreign policy is left:\n${topo.mn.ip('-6', 'xfrm', 'policy')}`);
  assert.equal(existsSync(mnNode.pinDir), false, 'the pins are gone');
  for (const ifname of ['fa', 'fb']) {
    const net = topo.mn.exec(['bpftool', 'net', 'show', 'dev', ifname]).stdout;
    assert.doesNotMatch(net, /iro_/, `no iro program on ${ifname}:\n${net}`);
    assert.doesNotMatch(topo.mn.tc('qdisc', 'show', 'dev', ifname), /clsact/, `no clsact left on ${ifname}`);
  }
  assert.doesNotMatch(topo.mn.ip('link', 'show'), /iro-ha0/, 'the MN-HA tunnel is gone');

  // I04: the HA's manually keyed SAs with the MN (SA1/SA2, SA5/SA6) outlive the deregistration
  const haSad = topo.ha.ip('-6', 'xfrm', 'state');
  for (const spi of [0x1001, 0x1002, 0x1005, 0x1006]) assert.match(haSad, new RegExp(`spi 0x0*${spi.toString(16)}\\b`), `the HA keeps SA 0x${spi.toString(16)}`);

  // D08: no key in any daemon log or CLI output
  const mnLog = readFileSync(join(dep.dir, 'run-mn', 'daemon.log'), 'utf8');
  assert.match(mnLog, /iro-ctl node up/, 'the MN log is the daemon log');
  assertNoKeys(dep, mnLog + down.stdout + down.stderr, 'the MN daemon log');
  await dep.stopAll();
  for (const n of ['ha', 'cn'] as const) {
    const log = readFileSync(dep.nodes.get(n)!.log, 'utf8');
    assert.match(log, /iro-ctl node up/, `the ${n} log is the daemon log`);
    assertNoKeys(dep, log, `the ${n} daemon log`);
  }
});
