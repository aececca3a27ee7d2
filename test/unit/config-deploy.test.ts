// The systemd units in deploy/systemd: systemd's own verifier accepts them (an oracle we did not
// write), and they run the daemon and `down` with the configuration, with exactly the
// capabilities the daemon needs (L01: without CAP_NET_ADMIN/CAP_BPF it cannot run) and the
// directories it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../lib/config-fixture.ts';

const UNITS = ['iro-ctl.service', 'iro-ctl@.service'] as const;

function haveSystemdAnalyze(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v systemd-analyze'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** key -> values of the [Service] (and other) sections, ignoring comments. */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('[')) continue;
    const eq = t.indexOf('=');
    const k = t.slice(0, eq);
    out.set(k, [...(out.get(k) ?? []), t.slice(eq + 1)]);
  }
  return out;
}

test('systemd-analyze verify accepts both units (binary path replaced by a stub)', { skip: haveSystemdAnalyze() ? false : 'systemd-analyze is not installed' }, () => {
  const dir = makeTempDir('units');
  try {
    const stub = join(dir, 'iro-ctl');
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
    const files: string[] = [];
    for (const u of UNITS) {
      const text = readFileSync(`deploy/systemd/${u}`, 'utf8').replaceAll('/usr/local/bin/iro-ctl', stub);
      const file = join(dir, u === 'iro-ctl@.service' ? 'iro-ctl@test.service' : u);
      writeFileSync(file, text);
      files.push(file);
    }
    const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warning at all');
    assert.equal(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('L01 L05 the units run `daemon` with the configuration and no ExecStop (a stop or restart keeps the kernel state for the next start to adopt), Type=exec, restart on failure, the four capabilities only', () => {
  for (const u of UNITS) {
    const d = directives(readFileSync(`deploy/systemd/${u}`, 'utf8'));
    const cfg = u === 'iro-ctl.service' ? '/etc/iro-ctl/iro-ctl.yaml' : '/etc/iro-ctl/%i.yaml';
    assert.deepEqual(d.get('Type'), ['exec'], u);
    assert.deepEqual(d.get('ExecStart'), [`/usr/local/bin/iro-ctl daemon --config ${cfg}`], u);
    assert.equal(d.get('ExecStop'), undefined, `${u}: \`down\` on every restart would defeat adoption (L05)`);
    assert.deepEqual(d.get('Restart'), ['on-failure'], u);
    assert.deepEqual(d.get('CapabilityBoundingSet')?.[0]?.split(/\s+/).sort(), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN'], u);
    assert.deepEqual(d.get('RuntimeDirectory'), [u === 'iro-ctl.service' ? 'iro-ctl' : 'iro-ctl/%i'], u);
    assert.deepEqual(d.get('RuntimeDirectoryPreserve'), ['yes'], u);
    assert.deepEqual(d.get('ProtectSystem'), ['strict'], u);
    assert.deepEqual(d.get('NoNewPrivileges'), ['yes'], u);
    // PF_KEY and netlink must stay reachable; bpffs (/sys/fs/bpf) and /proc/sys must stay writable
    assert.ok(d.get('RestrictAddressFamilies')?.[0]?.split(/\s+/).includes('AF_KEY'), u);
    assert.ok(d.get('RestrictAddressFamilies')?.[0]?.split(/\s+/).includes('AF_NETLINK'), u);
    assert.equal(d.get('ProtectKernelTunables'), undefined, u);
    assert.equal(d.get('MemoryDenyWriteExecute'), undefined, `${u}: Node's JIT needs W+X memory`);
  }
});

test('the example configurations reference keys only by path: no inline key is committed', () => {
  for (const n of ['mn', 'cn', 'ha', 'mn2']) {
    const text = readFileSync(`deploy/examples/${n}.yaml`, 'utf8');
    assert.doesNotMatch(text.replace(/^\s*#.*$/gm, ''), /\bkey:/, `${n}.yaml`);
    assert.match(text, /keyFile: keys\//);
  }
});
