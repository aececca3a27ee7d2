// The data path from the real entry point: the iro-ctl binary, run as an operator would.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnless } from '../lib/capabilities.ts';
import { create, type Topology } from '../lib/topology/index.ts';
import { testDatapathPaths } from '../lib/datapath-fixture.ts';
import { sendRawIpv6, espPayload } from '../lib/raw-send.ts';
import { canonicalIPv6 } from '../../src/common/ipv6.ts';

const skip = skipUnless('netns');
const A = { HoA: '2001:db8:1::100', CoA: '2001:db8:a::100', B: '2001:db8:a::1' };
let topo: Topology<'mn' | 'b'> | undefined;
after(async () => topo?.destroy());

function cli(paths: { pinDir: string; stateFile: string }, ...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/iro-ctl.js', '--pin-dir', paths.pinDir, '--state-file', paths.stateFile, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('iro-ctl datapath/rule commands: load, attach in a namespace, add and apply rules, status, events, destroy', { skip }, async () => {
  topo = await create({
    hosts: { mn: { loopback: [A.HoA], routes: [{ dst: 'default', via: A.B }] }, b: {} },
    links: [{ name: 'l', ends: [{ host: 'mn', ifname: 'eth0', addrs: [`${A.CoA}/64`] }, { host: 'b', ifname: 'eth0', addrs: [`${A.B}/64`] }] }],
  });
  const mn = topo.host('mn');
  const paths = testDatapathPaths('cli');
  try {
    assert.equal(cli(paths, 'datapath', 'load').code, 0);
    const att = cli(paths, '--json', 'datapath', 'attach', 'eth0', '--netns', mn.ns);
    assert.equal(att.code, 0, att.err);
    assert.equal(JSON.parse(att.out).length, 2);

    const add = cli(paths, 'rule', 'add', `dir: out, SPI: 42, peer: ${A.B}, exp. src: HoA, remap. src: CoA`, '-D', `HoA=${A.HoA}`, '-D', `CoA=${A.CoA}`);
    assert.equal(add.code, 0, add.err);
    const bad = cli(paths, 'rule', 'add', 'dir: out, SPI: 42, exp. src: ::, remap. src: CoA', '-D', `CoA=${A.CoA}`);
    assert.equal(bad.code, 2, 'a rule the draft forbids is a usage error');
    assert.match(bad.err, /wildcard/);

    await mn.ping(A.B, { count: 1 });
    const cap = await topo.capture('l', { at: 'b', filter: ['ip6', 'proto', '50'] });
    sendRawIpv6(mn.ns, { proto: 50, src: A.HoA, dst: A.B, payload: espPayload(42) });
    await new Promise((r) => setTimeout(r, 400));
    const r = await cap.stop();
    assert.deepEqual(r.packets.map((p) => p.src), [canonicalIPv6(A.CoA)], r.text);

    const list = cli(paths, '--json', 'rule', 'list');
    const rows = JSON.parse(list.out) as Array<{ id: string; counters: { srcHits: string } }>;
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.counters.srcHits, '1');

    const dir = mkdtempSync(join(tmpdir(), 'iro-cli-'));
    const file = join(dir, 'rules.txt');
    writeFileSync(file, `# MN rules, IRO §5.2.2 example 1\ndir: out, SPI: 42, exp. src: HoA, remap. src: CoA\ndir: in , SPI: 43, exp. dst: CoA, remap. dst: HoA\n`);
    const apply = cli(paths, 'rule', 'apply', file, '-D', `HoA=${A.HoA}`, '-D', `CoA=${A.CoA}`, '--peer', A.B);
    assert.equal(apply.code, 0, apply.err);
    assert.match(apply.out, /1 entry written, 0 deleted, 1 unchanged/);
    assert.match(cli(paths, 'rule', 'apply', file, '-D', `HoA=${A.HoA}`, '-D', `CoA=${A.CoA}`, '--peer', A.B).out, /0 entries written, 0 deleted, 2 unchanged/);
    writeFileSync(file, 'dir: in , SPI: 43, exp. dst: nowhere, remap. dst: HoA\n');
    const broken = cli(paths, 'rule', 'apply', file, '-D', `HoA=${A.HoA}`);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /rules\.txt: exp\. dst "nowhere" is neither an IPv6 address nor a defined name/);

    const status = cli(paths, 'datapath', 'status');
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /eth0 egress: iro_egress via (tcx|clsact)/);
    assert.match(status.out, /rules: 2/);

    const del = cli(paths, 'rule', 'del', 'in/esp/43');
    assert.equal(del.code, 0, del.err);
    assert.equal(cli(paths, 'rule', 'del', 'in/esp/43').code, 1, 'deleting a missing entry is an error');

    const destroy = cli(paths, 'datapath', 'destroy');
    assert.equal(destroy.code, 0, destroy.err);
    assert.equal(existsSync(paths.pinDir), false);
    assert.doesNotMatch(mn.tc('filter', 'show', 'dev', 'eth0', 'egress'), /iro_/);
  } finally {
    if (existsSync(paths.pinDir)) spawnSync('rm', ['-rf', paths.pinDir]);
  }
});
