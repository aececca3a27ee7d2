// L05 at engine level on a real kernel: the MN's watcher + engine + data path run in a child
// process; it is killed with SIGKILL while a UDP and a TCP flow run HoA<->CN over remapped ESP.
// The flows go on through the pinned programs and maps with nobody at home; a new process adopts
// the pinned data path, is fed a fresh startup collect and writes only what differs: nothing
// when nothing changed, exactly the changed entries when SAs came or went while it was down.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { skipUnlessGuest } from '../lib/capabilities.ts';
import { EngineNode, engineTopology, nodeSpecs, sleep, until, type EngineNodeSpec } from '../lib/scenario/engine-node.ts';
import { addSa, deleteSa, expectedSaInfo, policy, saPair } from '../lib/scenario/static-sa.ts';
import { startFlow, startFlowServer } from '../lib/scenario/flows.ts';
import { BackgroundProcess, type IroTopology } from '../lib/topology/index.ts';
import { Datapath } from '../../src/datapath/datapath.ts';
import { projectRoot } from '../../src/kernel/native.ts';
import type { SyncResult } from '../../src/iro/engine.ts';
import { rmSync } from 'node:fs';

const skip = skipUnlessGuest();
const PORT = 7200;
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* keep cleaning */
    }
  }
});

interface Ready {
  pid: number;
  adopted: boolean;
  first: SyncResult;
  rules: string[];
  attachments: Array<{ ifname: string; direction: string; progId: number | null }>;
}

/** Start the MN's engine node as a process; resolves once it has reconciled its startup picture. */
async function startChild(spec: EngineNodeSpec): Promise<{ proc: BackgroundProcess; ready: Ready }> {
  const main = join(projectRoot(), 'test', 'lib', 'scenario', 'engine-node-main.ts');
  const proc = new BackgroundProcess(null, [process.execPath, '--import', 'tsx', main, JSON.stringify(spec)], 'MN engine process');
  cleanups.push(() => proc.stop('SIGKILL', 1000));
  await until(() => `engine process ready (exit ${JSON.stringify(proc.exit)}; ${proc.stderr.slice(-2000)})`, () => /^READY /m.test(proc.stdout) || !proc.running, 120_000);
  const line = proc.stdout.split('\n').find((l) => l.startsWith('READY '));
  if (!line) throw new Error(`engine process ended before ready (${JSON.stringify(proc.exit)}): ${proc.stderr.slice(-2000)}`);
  return { proc, ready: JSON.parse(line.slice(6)) as Ready };
}

async function kill9(proc: BackgroundProcess): Promise<void> {
  proc.child.kill('SIGKILL');
  const exit = await proc.wait();
  assert.equal(exit.signal, 'SIGKILL');
}

const counts = (r: SyncResult) => ({ put: r.put, deleted: r.deleted, unchanged: r.unchanged });

test('L05 kill -9 of the engine process under UDP and TCP flows: traffic continues on the pinned maps; each restart adopts them, collects afresh and writes only the difference (0 when nothing changed)', { skip, timeout: 600_000 }, async () => {
  const t: IroTopology = await engineTopology('engl05');
  cleanups.push(() => t.destroy());
  const { hoa } = t.addr.mn;
  const cn = t.addr.cn;
  const specs = nodeSpecs(t, 'l05');
  cleanups.push(() => {
    // whatever the last process left: adopt it and remove it
    const dp = Datapath.open({ pinDir: specs.mn.pinDir, stateFile: specs.mn.stateFile });
    try {
      dp.destroy();
    } finally {
      rmSync(specs.mn.pinDir, { recursive: true, force: true });
    }
  });
  const cnNode = await EngineNode.start(specs.cn);
  cleanups.push(() => cnNode.destroy());

  // the data SA pair, policies as static keying makes them (rules first on the CN, which keeps running)
  const data = saPair(hoa, cn, 0x2500, 0x2501, 25);
  cnNode.engine.expectSas([expectedSaInfo(data.out), expectedSaInfo(data.in)]);
  for (const [host, o] of [[t.mn, data.out], [t.cn, data.in]] as const) {
    addSa(host, data.out);
    addSa(host, data.in);
    policy(host, 'add', o.src, o.dst, 'out', 25);
    policy(host, 'add', o.dst, o.src, 'in', 0);
  }
  const dataRules = [`in/esp/${0x2501}`, `out/esp/${0x2500}/${cn}`];

  // first process: loads the data path fresh
  let child = await startChild(specs.mn);
  assert.equal(child.ready.adopted, false);
  assert.deepEqual(counts(child.ready.first), { put: 2, deleted: 0, unchanged: 0 });
  assert.deepEqual(child.ready.rules, dataRules);
  const attachments = child.ready.attachments;
  assert.equal(attachments.length, 2);
  assert.ok(attachments.every((a) => a.progId), `programs on fa: ${JSON.stringify(attachments)}`);

  const server = await startFlowServer(t.cn, cn, PORT);
  cleanups.push(() => server.stop());
  await t.mn.ping(t.addr.router.foreignA, { count: 1 });
  const udp = await startFlow(t.mn, 'udp', hoa, cn, PORT, 20);
  cleanups.push(() => udp.proc.stop('SIGKILL'));
  const tcp = await startFlow(t.mn, 'tcp', hoa, cn, PORT, 50);
  cleanups.push(() => tcp.proc.stop('SIGKILL'));
  const cnIn = () => cnNode.dp.ruleCounters(`in/esp/${0x2500}`)!.srcHits;
  await until('both flows run over the direct path', () => cnIn() > 40n && server.peers().length === 2, 30_000);
  assert.deepEqual(server.peers().map((p) => p.peer).sort(), [hoa, hoa], 'the CN sees the HoA on both flows');

  const restart = async (whileDown: () => void, expect: { put: number; deleted: number; unchanged: number }, rules: string[], what: string) => {
    await kill9(child.proc);
    const before = cnIn();
    whileDown();
    await sleep(3000);
    assert.ok(cnIn() - before >= 50n, `${what}: remapped ESP keeps arriving at the CN while no engine runs (${cnIn() - before} packets in 3 s)`);
    child = await startChild(specs.mn);
    assert.equal(child.ready.adopted, true, `${what}: the new process adopts the pinned data path`);
    assert.deepEqual(counts(child.ready.first), expect, `${what}: the first reconcile writes only the difference`);
    assert.deepEqual(child.ready.rules, rules, what);
    assert.deepEqual(child.ready.attachments, attachments, `${what}: the same programs stay attached (not re-attached)`);
    await sleep(1500);
  };

  // 1. nothing changed while the engine was down: not a single map write
  await restart(() => undefined, { put: 0, deleted: 0, unchanged: 2 }, dataRules, 'restart with nothing changed');
  // 2. an MH SA pair appeared while it was down: its two entries, nothing else
  const mh = saPair(hoa, cn, 0x2600, 0x2601, 26, '135');
  const withMh = [...dataRules, `in/esp/${0x2601}`, `out/esp/${0x2600}/${cn}`].sort();
  await restart(() => (addSa(t.mn, mh.out), addSa(t.mn, mh.in)), { put: 2, deleted: 0, unchanged: 2 }, withMh, 'restart after two SAs were added');
  // 3. one of them went away while it was down: one delete
  await restart(() => deleteSa(t.mn, mh.in), { put: 0, deleted: 1, unchanged: 3 }, withMh.filter((id) => id !== `in/esp/${0x2601}`), 'restart after an SA was deleted');
  // the restarted process follows events again
  deleteSa(t.mn, mh.out);
  await until(() => `the restarted engine removes the rule of a deleted SA (${child.proc.stdout.split('\n').slice(-3).join(' | ')})`, () => /^SYNC .*"deleted":1/m.test(child.proc.stdout), 15_000);

  const u = await udp.stop();
  const c = await tcp.stop();
  await child.proc.stop('SIGTERM');
  console.log(`# L05 udp ${JSON.stringify(u)}\n# L05 tcp ${JSON.stringify(c)}`);
  for (const [name, r] of [['udp', u], ['tcp', c]] as const) {
    assert.deepEqual(r.errors, [], `${name} flow errors`);
    assert.ok(r.received > 100, `${name} flow ran: ${JSON.stringify(r)}`);
    assert.ok(r.maxGapMs < 1000, `${name}: longest silence ${r.maxGapMs} ms (< 1 s across three kill -9 and restarts)`);
  }
  assert.equal(u.lostCount, 0, `no datagram lost: ${JSON.stringify(u)}`);
  const dp = Datapath.open({ pinDir: specs.mn.pinDir, stateFile: specs.mn.stateFile });
  try {
    const s = dp.stats();
    assert.equal(s.miss_hoa, 0n, 'no packet from the HoA met a missing rule');
  } finally {
    dp.close();
  }
});
