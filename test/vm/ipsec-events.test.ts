// The SA event stream (IpsecWatcher, XFRM side) with real SAs on the guest kernel, all the way
// to the IRO engine's rules: NEWSA/UPDSA/DELSA/EXPIRE give the same events and rules as the
// PF_KEY notifications of the same kernel changes (E04), soft then hard expiry removes the rules
// at once (D09), the startup collect builds what event learning builds (D11), and after lost
// events (ENOBUFS) the mirror and the rules equal `ip xfrm state` (E05).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { freshNetns } from '../lib/xfrm-netns.ts';
import { ipXfrm, parseIpXfrmState } from '../lib/ip-xfrm-state.ts';
import { openTestDatapath, destroyQuietly } from '../lib/datapath-fixture.ts';
import { MemoryDatapath } from '../lib/memory-datapath.ts';
import { IpsecWatcher } from '../../src/ipsec/watcher.ts';
import { SadbMirror } from '../../src/ipsec/mirror.ts';
import { saKeyId, type SaEvent, type SaInfo } from '../../src/ipsec/model.ts';
import { IroEngine, type RulePort } from '../../src/iro/engine.ts';
import type { Datapath } from '../../src/datapath/datapath.ts';
import { PfkeyClient } from '../../src/kernel/pfkey/client.ts';
import { SADB_SATYPE_ESP } from '../../src/kernel/pfkey/constants.ts';
import { changesFromPfkey } from '../../src/ipsec/pfkey-adapter.ts';

const skip = skipUnlessGuest();
const HOA = '2001:db8:1::100';
const CN = '2001:db8:c::10';
const COA = '2001:db8:a::100';
const AUTH = '0x' + '5a'.repeat(32);
const ENC = '0x' + 'a5'.repeat(16);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string | (() => string), cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${typeof what === 'string' ? what : what()}: not within ${ms} ms`);
    await sleep(20);
  }
}

/** `ip -n NS xfrm ...`; the arguments hold (test) keys, so a failure shows stderr only. */
function xfrm(ns: string, ...args: string[]): void {
  try {
    execFileSync('ip', ['-n', ns, 'xfrm', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(`ip xfrm ${args.slice(0, 2).join(' ')} failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim()}`);
  }
}

const hex = (spi: number) => `0x${spi.toString(16)}`;

/** `ip xfrm state add|update` arguments of an ESP transport SA between `src` and `dst`. */
function saArgs(src: string, dst: string, spi: number, reqid: number, upper?: string, extra: string[] = []): string[] {
  return ['src', src, 'dst', dst, 'proto', 'esp', 'spi', hex(spi), 'reqid', String(reqid), 'mode', 'transport',
    'auth-trunc', 'hmac(sha256)', AUTH, '128', 'enc', 'cbc(aes)', ENC,
    'sel', 'src', `${src}/128`, 'dst', `${dst}/128`, ...(upper ? ['proto', upper] : []), ...extra];
}

function policyArgs(src: string, dst: string, dir: 'in' | 'out', reqid: number, upper?: string): string[] {
  return ['src', `${src}/128`, 'dst', `${dst}/128`, ...(upper ? ['proto', upper] : []), 'dir', dir, 'tmpl', 'src', src, 'dst', dst, 'proto', 'esp', 'reqid', String(reqid), 'mode', 'transport'];
}

function mnEngine(dp: RulePort): IroEngine {
  const e = new IroEngine({ role: 'mn', hoas: [HOA], localAddrs: [], peers: [{ address: CN, kind: 'cn', mode: 'iro' }], datapath: dp });
  e.setCoa(COA, 0);
  // a BU to the CN is out: outgoing data gets its source rewrite too
  e.setMyBinding(CN, { coa: COA, state: 'bu-sent' });
  return e;
}

/** The rule map's content in a comparable form (ids and rules, sorted). */
function rulesOf(dp: Datapath | MemoryDatapath): string[] {
  const entries = 'listEntries' in dp ? dp.listEntries() : [...dp.map.values()].map((v) => v.entry);
  return entries.map((e) => JSON.stringify({ id: e.id, src: e.src, dst: e.dst, oif: e.oif })).sort();
}
const idsOf = (rules: string[]) => rules.map((r) => (JSON.parse(r) as { id: string }).id);

/** "type spi" per SA event, in arrival order (policy events left out). */
function saTrail(events: SaEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type === 'sa-added' || e.type === 'sa-updated' || e.type === 'sa-deleted') return [`${e.type} ${hex(e.sa.key.spi)}`];
    if (e.type === 'sa-expired') return [`${e.type}(${e.hard ? 'hard' : 'soft'}) ${hex(e.sa.key.spi)}`];
    return [];
  });
}

test('E04 NEWSA/UPDSA/DELSA/EXPIRE(hard) of real SAs: the watcher emits the events and the engine holds the rules the PF_KEY notifications of the same changes give', { skip, timeout: 420_000 }, async (t) => {
  const ns = freshNetns(t, 'e04');
  // XFRM side: the watcher (PF_KEY off, so it is XFRM alone) -> engine on a real data path
  const w = await IpsecWatcher.open({ netns: ns, pfkey: 'off' });
  t.after(() => w.close());
  const dpX = openTestDatapath('e04x');
  t.after(() => destroyQuietly(dpX));
  const engineX = mnEngine(dpX);
  const evX: SaEvent[] = [];
  engineX.onSaEvents(w.initialEvents());
  w.on('changes', (e) => {
    evX.push(...e);
    engineX.onSaEvents(e);
  });
  // PF_KEY side: the kernel's PF_KEY notifications of the same changes -> mirror -> engine
  // the first REGISTER of a boot makes the kernel probe every algorithm (module loads, slow under TCG)
  const pk = await PfkeyClient.open({ netns: ns, register: [SADB_SATYPE_ESP], registerTimeoutMs: 180_000 });
  t.after(() => pk.close());
  const mirrorP = new SadbMirror();
  const dpP = openTestDatapath('e04p');
  t.after(() => destroyQuietly(dpP));
  const engineP = mnEngine(dpP);
  const evP: SaEvent[] = [];
  pk.onEvent((pe) => {
    const events = mirrorP.applyAll(changesFromPfkey(pe).flatMap((c) => (c.kind === 'resync' ? [] : [c])));
    evP.push(...events);
    engineP.onSaEvents(events);
  });

  const same = async (what: string, cond: () => boolean) => {
    const both = () => cond() && saTrail(evX).length === saTrail(evP).length;
    await until(() => `${what} (XFRM trail: ${saTrail(evX).join(', ')}; PF_KEY trail: ${saTrail(evP).join(', ')})`, both);
    assert.deepEqual(saTrail(evP), saTrail(evX), `${what}: the same SA events from both interfaces`);
    assert.deepEqual(rulesOf(dpP), rulesOf(dpX), `${what}: the same rules`);
    return idsOf(rulesOf(dpX));
  };

  // Policies first: MH (reqid 2, proto 135) and data (reqid 1, any protocol). PF_KEY-learned SAs
  // carry no selector protocol and are classed through these (F02).
  xfrm(ns, 'policy', 'add', ...policyArgs(HOA, CN, 'out', 2, '135'));
  xfrm(ns, 'policy', 'add', ...policyArgs(CN, HOA, 'in', 2, '135'));
  xfrm(ns, 'policy', 'add', ...policyArgs(HOA, CN, 'out', 1));
  xfrm(ns, 'policy', 'add', ...policyArgs(CN, HOA, 'in', 1));
  await until('four policies on both sides', () => w.mirror.allPolicies().length === 4 && mirrorP.allPolicies().length === 4);

  // NEWSA: MH out/in (0x3001/0x3002), data out/in (0x3003/0x3004)
  xfrm(ns, 'state', 'add', ...saArgs(HOA, CN, 0x3001, 2, '135'));
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x3002, 2, '135'));
  xfrm(ns, 'state', 'add', ...saArgs(HOA, CN, 0x3003, 1));
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x3004, 1));
  let ids = await same('NEWSA', () => w.mirror.size === 4 && mirrorP.size === 4);
  assert.deepEqual(saTrail(evX), ['sa-added 0x3001', 'sa-added 0x3002', 'sa-added 0x3003', 'sa-added 0x3004']);
  assert.deepEqual(ids.sort(), ['in/esp/12290', 'in/esp/12292', `out/esp/12289/${CN}`, `out/esp/12291/${CN}`].sort());
  const tracked = (e: IroEngine) => e.trackedSas().map((x) => `${hex(x.sa.key.spi)} ${x.cls.cls} ${x.cls.dir}`).sort();
  assert.deepEqual(tracked(engineX), ['0x3001 mh out', '0x3002 mh in', '0x3003 data out', '0x3004 data in']);
  assert.deepEqual(tracked(engineP), tracked(engineX), 'PF_KEY-learned SAs are classed through the policies');
  const mhOut = rulesOf(dpX).map((r) => JSON.parse(r) as { id: string; src?: { remap: unknown } }).find((r) => r.id === `out/esp/12289/${CN}`)!;
  assert.deepEqual(mhOut.src?.remap, { ancillary: true, fallback: COA }, 'the MH SA got the pre-binding MH source rule');

  // UPDSA that completes a larval SA (ALLOCSPI, then update): a new SA for both interfaces
  xfrm(ns, 'state', 'allocspi', 'src', CN, 'dst', HOA, 'proto', 'esp', 'mode', 'transport', 'reqid', '1', 'min', '0x3005', 'max', '0x3005');
  xfrm(ns, 'state', 'update', ...saArgs(CN, HOA, 0x3005, 1));
  // UPDSA of a live SA (new lifetime only): nothing IRO uses changes, its rules stay. (PF_KEY's
  // SADB_UPDATE for this says DEAD: the kernel reports the object it discarded.)
  xfrm(ns, 'state', 'update', ...saArgs(CN, HOA, 0x3004, 1, undefined, ['limit', 'time-hard', '3600']));
  // a NEWSA after them: once both sides have it, they have seen everything before it
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x3007, 1));
  const seen = (trail: string) => () => saTrail(evX).includes(trail) && saTrail(evP).includes(trail);
  ids = await same('UPDSA', seen('sa-added 0x3007'));
  assert.deepEqual(saTrail(evX).slice(4), ['sa-added 0x3005', 'sa-added 0x3007'], 'the larval SA completed by UPDSA is new; the lifetime update is no event');
  assert.deepEqual(ids.sort(), ['in/esp/12290', 'in/esp/12292', 'in/esp/12293', 'in/esp/12295', `out/esp/12289/${CN}`, `out/esp/12291/${CN}`].sort());

  // DELSA
  xfrm(ns, 'state', 'delete', 'src', CN, 'dst', HOA, 'proto', 'esp', 'spi', '0x3004');
  ids = await same('DELSA', seen('sa-deleted 0x3004'));
  assert.deepEqual(saTrail(evX).slice(6), ['sa-deleted 0x3004']);
  assert.deepEqual(ids.sort(), ['in/esp/12290', 'in/esp/12293', 'in/esp/12295', `out/esp/12289/${CN}`, `out/esp/12291/${CN}`].sort());

  // EXPIRE: soft after 1 s, hard after 2 s; the kernel removes the SA with the hard expiry
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x3006, 1, undefined, ['limit', 'time-soft', '1', 'limit', 'time-hard', '2']));
  ids = await same('EXPIRE', seen('sa-expired(hard) 0x3006'));
  assert.deepEqual(saTrail(evX).slice(7), ['sa-added 0x3006', 'sa-expired(soft) 0x3006', 'sa-expired(hard) 0x3006']);
  assert.deepEqual(ids.sort(), ['in/esp/12290', 'in/esp/12293', 'in/esp/12295', `out/esp/12289/${CN}`, `out/esp/12291/${CN}`].sort(), 'the hard-expired SA left no rule');
  assert.equal(w.mirror.get({ proto: 'esp', spi: 0x3006, daddr: HOA }), undefined);
  assert.ok(!ipXfrm(ns, 'state').includes('spi 0x00003006'), 'the kernel removed it too');
});

test('D09 (XFRM side) `ip xfrm state … limit time-soft 2 time-hard 4`: a soft then a hard expire event through the watcher; the SA\'s rules leave the data path within 2 s of the hard expiry', { skip, timeout: 180_000 }, async (t) => {
  const ns = freshNetns(t, 'd09');
  const w = await IpsecWatcher.open({ netns: ns, pfkey: 'off' });
  t.after(() => w.close());
  const dp = openTestDatapath('d09');
  t.after(() => destroyQuietly(dp));
  const engine = mnEngine(dp);
  engine.onSaEvents(w.initialEvents());
  const log: Array<{ at: number; e: SaEvent; rules: string[] }> = [];
  w.on('changes', (events) => {
    engine.onSaEvents(events);
    for (const e of events) log.push({ at: Date.now(), e, rules: idsOf(rulesOf(dp)) });
  });
  const added = Date.now();
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x4001, 1, undefined, ['limit', 'time-soft', '2', 'limit', 'time-hard', '4']));
  xfrm(ns, 'state', 'add', ...saArgs(HOA, CN, 0x4002, 1)); // no limits: stays
  await until('the hard expiry', () => log.some((l) => l.e.type === 'sa-expired' && l.e.hard), 60_000);
  const hardAt = log.find((l) => l.e.type === 'sa-expired' && l.e.hard)!.at;
  // the rule map as read from the kernel, until the expired SA's entry is gone
  let goneAt = Date.now();
  while (idsOf(rulesOf(dp)).includes('in/esp/16385')) {
    if (Date.now() - hardAt > 5000) break;
    await sleep(10);
    goneAt = Date.now();
  }
  const trail = log.map((l) => `${l.e.type}${l.e.type === 'sa-expired' ? `(${l.e.hard ? 'hard' : 'soft'})` : ''} ${'sa' in l.e ? hex(l.e.sa.key.spi) : ''}`);
  assert.deepEqual(trail, ['sa-added 0x4001', 'sa-added 0x4002', 'sa-expired(soft) 0x4001', 'sa-expired(hard) 0x4001']);
  const soft = log.find((l) => l.e.type === 'sa-expired' && !l.e.hard)!;
  assert.ok(soft.rules.includes('in/esp/16385'), 'a soft expiry changes nothing (IRO §6.2.6)');
  assert.ok(soft.at - added >= 900, `soft expiry ${soft.at - added} ms after the add`);
  assert.ok(hardAt - added >= 2900, `hard expiry ${hardAt - added} ms after the add`);
  assert.ok(goneAt - hardAt <= 2000, `rules gone ${goneAt - hardAt} ms after the hard expire event`);
  assert.deepEqual(idsOf(rulesOf(dp)), [`out/esp/16386/${CN}`], 'only the SA without limits keeps its rule');
});

test('D11 (XFRM side) SAs that exist before the watcher starts are found by its startup collect; the engine built from the collect equals the one built from events', { skip, timeout: 180_000 }, async (t) => {
  const ns = freshNetns(t, 'd11');
  // the event-learning side starts on an empty namespace
  const w1 = await IpsecWatcher.open({ netns: ns, pfkey: 'off' });
  t.after(() => w1.close());
  const dp1 = openTestDatapath('d11ev');
  t.after(() => destroyQuietly(dp1));
  const e1 = mnEngine(dp1);
  e1.onSaEvents(w1.initialEvents());
  w1.on('changes', (e) => e1.onSaEvents(e));
  xfrm(ns, 'policy', 'add', ...policyArgs(HOA, CN, 'out', 2, '135'));
  xfrm(ns, 'policy', 'add', ...policyArgs(CN, HOA, 'in', 2, '135'));
  xfrm(ns, 'state', 'add', ...saArgs(HOA, CN, 0x5001, 2, '135'));
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x5002, 2, '135'));
  xfrm(ns, 'state', 'add', ...saArgs(HOA, CN, 0x5003, 1));
  xfrm(ns, 'state', 'add', ...saArgs(CN, HOA, 0x5004, 1));
  // not IRO's: another host pair, and a tunnel SA of the HoA (neither gets rules)
  xfrm(ns, 'state', 'add', ...saArgs('2001:db8:9::1', '2001:db8:9::2', 0x5005, 1));
  xfrm(ns, 'state', 'add', 'src', HOA, 'dst', CN, 'proto', 'esp', 'spi', '0x5006', 'reqid', '3', 'mode', 'tunnel', 'auth-trunc', 'hmac(sha256)', AUTH, '128', 'enc', 'cbc(aes)', ENC);
  await until('event learning', () => w1.mirror.size === 6 && w1.mirror.allPolicies().length === 2);

  // the collect side starts now, with everything already in the kernel
  const w2 = await IpsecWatcher.open({ netns: ns, pfkey: 'off' });
  t.after(() => w2.close());
  assert.equal(w2.mirror.size, 6, 'the startup collect found every SA');
  const dp2 = openTestDatapath('d11collect');
  t.after(() => destroyQuietly(dp2));
  const e2 = mnEngine(dp2);
  e2.onSaEvents(w2.initialEvents());

  const table = (w: IpsecWatcher) => w.mirror.allSas().map((s) => JSON.stringify(s)).sort();
  assert.deepEqual(table(w2), table(w1), 'the same SA table');
  assert.deepEqual(w2.mirror.allPolicies().map((p) => JSON.stringify(p)).sort(), w1.mirror.allPolicies().map((p) => JSON.stringify(p)).sort());
  const sasOf = (e: IroEngine) => e.saTable().map((s: SaInfo) => saKeyId(s.key)).sort();
  assert.deepEqual(sasOf(e2), sasOf(e1));
  assert.deepEqual(rulesOf(dp2), rulesOf(dp1), 'the same rules');
  assert.deepEqual(idsOf(rulesOf(dp1)).sort(), ['in/esp/20482', 'in/esp/20484', `out/esp/20481/${CN}`, `out/esp/20483/${CN}`].sort());
  const kernel = parseIpXfrmState(ipXfrm(ns, 'state')).map((s) => `esp/${s.spi}/${s.dst}`).sort();
  assert.deepEqual(w2.mirror.allSas().map((s) => saKeyId(s.key)).sort(), kernel, 'and both equal `ip xfrm state`');
});

test('E05 with real SAs: a flood of `ip xfrm state add` (ip -batch) overruns a small receive queue (ENOBUFS); after the resync the mirror and the rules equal `ip xfrm state`', { skip, timeout: 600_000 }, async (t) => {
  const N = 1000;
  const ns = freshNetns(t, 'e05');
  const w = await IpsecWatcher.open({ netns: ns, pfkey: 'off', kernelRcvBuf: 4096 });
  t.after(() => w.close());
  const dp = new MemoryDatapath();
  const engine = mnEngine(dp);
  engine.onSaEvents(w.initialEvents());
  // a consumer that applies what arrived every 50 ms (one derive per batch, not per event)
  let queued: SaEvent[] = [];
  w.on('changes', (e) => queued.push(...e));
  const pump = setInterval(() => {
    if (!queued.length) return;
    const batch = queued;
    queued = [];
    engine.onSaEvents(batch);
  }, 50);
  t.after(() => clearInterval(pump));

  // through stdin: the (test) keys never touch a file
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(`xfrm state add ${saArgs(CN, HOA, 0x10000 + i, 1).join(' ')}`);
  execFileSync('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });

  await until('an overrun and a resync', () => w.resyncCount > 0, 60_000);
  assert.ok(w.resyncCount >= 1);
  const truth = () => parseIpXfrmState(ipXfrm(ns, 'state')).map((s) => `esp/${s.spi}/${s.dst} ${s.src} ${s.reqid} ${s.mode} ${s.sel?.src} ${s.sel?.dst}`).sort();
  const mirrored = () => w.mirror.allSas().map((s) => `${saKeyId(s.key)} ${s.saddr} ${s.reqid} ${s.mode} ${s.selector?.src}/${s.selector?.srcLen} ${s.selector?.dst}/${s.selector?.dstLen}`).sort();
  await until('the mirror holds every SA', () => w.mirror.size === N, 120_000);
  const kernel = truth();
  assert.equal(kernel.length, N);
  await until('the mirror equals `ip xfrm state`', () => JSON.stringify(mirrored()) === JSON.stringify(kernel), 60_000);
  await until('the engine caught up', () => dp.map.size === N, 60_000);
  const expectedIds = kernel.map((k) => `in/esp/${k.split('/')[1]}`).sort();
  assert.deepEqual([...dp.map.values()].map((v) => v.entry.id).sort(), expectedIds, 'one incoming rule per SA in the kernel, no more');
});
