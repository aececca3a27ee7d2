// L02: `iro-ctl preflight` reports each kernel feature on its own, and what it says matches what
// the kernel actually does (oracles that do not use iro-ctl: python's AF_KEY socket, iproute2
// adding an ESP SA, the XFRM netlink dump); without af_key the SA event stream runs on XFRM
// netlink alone and says so once, and `kernel.pfkey: on` makes that an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { skipUnless } from '../lib/capabilities.ts';
import { freshNetns } from '../lib/xfrm-netns.ts';
import { projectRoot } from '../../src/kernel/native.ts';
import { IpsecWatcher } from '../../src/ipsec/watcher.ts';

const skip = skipUnless('netns');

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** What the kernel can do, asked without iro-ctl (each probe loads the module on demand, as use would). */
function oracle(ns: string): Record<string, boolean> {
  const pfkey = run('python3', ['-c', 'import socket; socket.socket(socket.AF_KEY, socket.SOCK_RAW, 2).close()']).ok;
  const xfrm = run('ip', ['-n', ns, 'xfrm', 'state', 'list']).ok;
  const sa = (proto: string, alg: string[]) =>
    run('ip', ['-n', ns, 'xfrm', 'state', 'add', 'src', '2001:db8::1', 'dst', '2001:db8::2', 'proto', proto, 'spi', proto === 'esp' ? '0x101' : '0x102', ...alg]).ok;
  const esp = sa('esp', ['enc', 'cbc(aes)', `0x${'11'.repeat(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${'22'.repeat(32)}`, '128']);
  const ah = sa('ah', ['auth-trunc', 'hmac(sha256)', `0x${'22'.repeat(32)}`, '128']);
  const tnl = run('ip', ['-n', ns, 'link', 'add', 'l02t', 'type', 'ip6tnl', 'mode', 'ip6ip6', 'local', '2001:db8::1', 'remote', '2001:db8::2']).ok;
  return { af_key: pfkey, xfrm_user: xfrm, esp6: esp, ah6: ah, ip6_tunnel: tnl };
}

test('L02 preflight reports every kernel feature on its own, and each verdict matches the kernel', { skip }, (t) => {
  const ns = freshNetns(t, 'l02');
  const truth = oracle(ns);
  const r = spawnSync(process.execPath, [join(projectRoot(), 'bin', 'iro-ctl.js'), '--json', 'preflight'], { encoding: 'utf8' });
  const report = JSON.parse(r.stdout) as { features: Array<{ feature: string; ok: boolean; detail: string }> };
  const byName = new Map(report.features.map((f) => [f.feature, f]));
  for (const name of ['bpf', 'xfrm_user', 'esp6', 'ah6', 'af_key', 'ip6_tunnel', 'sch_ingress', 'cls_bpf']) assert.ok(byName.has(name), `preflight lists ${name} on its own`);
  for (const [name, can] of Object.entries(truth)) {
    assert.equal(byName.get(name)!.ok, can, `preflight says ${name} ${byName.get(name)!.ok ? 'ok' : 'missing'} (${byName.get(name)!.detail}); the kernel ${can ? 'can' : 'cannot'}`);
  }
  // a missing required feature makes the exit status say so; an optional one does not
  const requiredMissing = report.features.some((f) => !f.ok && f.detail.includes('REQUIRED'));
  assert.equal(r.status !== 0, requiredMissing, `exit status ${r.status} with required features ${requiredMissing ? '' : 'not '}missing`);
  if (!truth.esp6) assert.match(byName.get('esp6')!.detail, /REQUIRED/);
  if (!truth.af_key) assert.doesNotMatch(byName.get('af_key')!.detail, /REQUIRED/, 'PF_KEY is optional');
});

test('L02 without af_key the SA event stream runs on XFRM netlink alone and says why; pfkey: on refuses', { skip }, async (t) => {
  const ns = freshNetns(t, 'l02w');
  if (oracle(ns).af_key) {
    t.skip('this kernel has PF_KEY (the VM tier covers PF_KEY attached: ipsec-events, engine-rules)');
    return;
  }
  const w = await IpsecWatcher.open({ netns: ns, pfkey: 'auto' });
  t.after(() => w.close());
  await w.pfkeyReady;
  assert.equal(w.pfkey, null);
  assert.match(w.pfkeyNotice ?? '', /PF_KEY.*XFRM netlink only/);
  // XFRM alone still tracks policies
  const seen = new Promise((resolve) => w.once('changes', resolve));
  run('ip', ['-n', ns, 'xfrm', 'policy', 'add', 'src', '2001:db8::1/128', 'dst', '2001:db8::2/128', 'dir', 'out', 'tmpl', 'proto', 'esp', 'mode', 'transport']);
  assert.ok(await seen);
  await assert.rejects(IpsecWatcher.open({ netns: ns, pfkey: 'on' }), /PF_KEY/);
});
