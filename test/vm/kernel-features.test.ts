// The guest kernel has what the [K] checks (DIGEST Part 3) need: ESP/AH transport SAs, PF_KEY,
// ip6ip6 tunnels, netem and tc clsact with cls_bpf. Everything happens in a namespace of its own.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { AF_KEY, PF_KEY_V2, SOCK_RAW } from '../../src/kernel/constants.ts';
import { DatagramSocket } from '../../src/kernel/socket.ts';
import { skipUnlessGuest } from '../lib/capabilities.ts';

const skip = skipUnlessGuest();
const ns = `iro-kf-${process.pid}`;

/** Runs a command; on failure the error names what was being done and shows stderr only (never the arguments, which may hold keys). */
function run(what: string, cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`${what} failed: ${stderr || (e as Error).message.split('\n')[0]}`);
  }
}
const ipn = (what: string, ...args: string[]) => run(what, 'ip', ['-n', ns, ...args]);
const tcn = (what: string, ...args: string[]) => run(what, 'tc', ['-n', ns, ...args]);
const hexKey = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

describe('guest kernel features', { skip }, () => {
  before(() => {
    run(`creating netns ${ns}`, 'ip', ['netns', 'add', ns]);
    ipn('bringing lo up', 'link', 'set', 'lo', 'up');
  });
  after(() => {
    try {
      run(`deleting netns ${ns}`, 'ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  });

  test('the guest runs the Debian 6.1 kernel', () => {
    assert.match(release(), /^6\.1\./, `uname -r is ${release()}`);
    assert.equal(run('uname -r', 'uname', ['-r']).trim(), release());
  });

  test('an IPv6 ESP transport SA installs (esp6)', () => {
    ipn('adding an ESP transport SA', 'xfrm', 'state', 'add',
      'src', '2001:db8:1::1', 'dst', '2001:db8:2::1', 'proto', 'esp', 'spi', '0x1001', 'reqid', '1', 'mode', 'transport',
      'enc', 'cbc(aes)', hexKey(16), 'auth-trunc', 'hmac(sha256)', hexKey(32), '128');
    assert.match(ipn('counting SAs', 'xfrm', 'state', 'count'), /\b1\b/);
  });

  test('an IPv6 AH transport SA installs (ah6)', () => {
    ipn('adding an AH transport SA', 'xfrm', 'state', 'add',
      'src', '2001:db8:1::1', 'dst', '2001:db8:2::1', 'proto', 'ah', 'spi', '0x1002', 'reqid', '2', 'mode', 'transport',
      'auth-trunc', 'hmac(sha256)', hexKey(32), '128');
    assert.match(ipn('counting SAs', 'xfrm', 'state', 'count'), /\b2\b/);
  });

  test('socket(PF_KEY, SOCK_RAW, PF_KEY_V2) opens (af_key)', () => {
    const s = DatagramSocket.open(AF_KEY, SOCK_RAW, PF_KEY_V2, { label: 'PF_KEY' });
    try {
      assert.ok(s.fd >= 0);
    } finally {
      s.close();
    }
  });

  test('an ip6ip6 tunnel device can be created (ip6_tunnel)', () => {
    ipn('creating an ip6tnl device', 'link', 'add', 'iro6t', 'type', 'ip6tnl', 'mode', 'ip6ip6',
      'local', '2001:db8:1::1', 'remote', '2001:db8:3::1');
    assert.match(ipn('showing the ip6tnl device', '-d', 'link', 'show', 'iro6t'), /ip6tnl ip6ip6/);
  });

  test('a netem qdisc and tc clsact with cls_bpf work on a veth in a netns', () => {
    ipn('creating a veth pair', 'link', 'add', 'iro-va', 'type', 'veth', 'peer', 'name', 'iro-vb');
    ipn('bringing iro-va up', 'link', 'set', 'iro-va', 'up');
    tcn('adding netem', 'qdisc', 'add', 'dev', 'iro-va', 'root', 'netem', 'delay', '10ms', 'loss', '1%');
    assert.match(tcn('showing qdiscs', 'qdisc', 'show', 'dev', 'iro-va'), /qdisc netem .*delay 10ms/);
    tcn('adding clsact', 'qdisc', 'add', 'dev', 'iro-va', 'clsact');
    // Classic BPF "return -1" (match) through cls_bpf on both clsact hooks.
    for (const hook of ['ingress', 'egress']) {
      tcn(`adding a cls_bpf filter on ${hook}`, 'filter', 'add', 'dev', 'iro-va', hook, 'bpf', 'bytecode', '1,6 0 0 4294967295,');
      assert.match(tcn(`showing ${hook} filters`, 'filter', 'show', 'dev', 'iro-va', hook), /\bbpf\b/);
    }
    assert.match(tcn('showing qdiscs', 'qdisc', 'show', 'dev', 'iro-va'), /qdisc clsact/);
  });
});
