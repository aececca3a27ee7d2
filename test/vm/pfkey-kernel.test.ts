// PF_KEY client against the real af_key of the guest kernel (Debian 6.1), with `ip xfrm` as the
// independent oracle. Everything happens in a network namespace of its own, deleted afterwards.
// Covers D09 (EXPIRE hard/soft to a REGISTERed socket), D10 (SAs added with `ip xfrm` reach the
// PF_KEY socket as SADB_ADD), D11 (DUMP of pre-existing SAs ends with seq 0), D12 (GETSPI seen
// only in promiscuous mode), and ADD/GET/GETSPI+UPDATE/DELETE/FLUSH/X_SPD*/X_MIGRATE round trips.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PfkeyClient, type PfkeyClientOptions } from '../../src/kernel/pfkey/client.ts';
import * as C from '../../src/kernel/pfkey/constants.ts';
import { PfkeyRequestError } from '../../src/kernel/pfkey/errors.ts';
import type { PfkeyEvent } from '../../src/kernel/pfkey/events.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import { skipUnlessGuest } from '../lib/capabilities.ts';

const ns = `iro-pfk-${process.pid}`;
const A = '2001:db8:1::10';
const B = '2001:db8:2::20';

/** On failure the error shows stderr only, never the arguments (they may hold keys). */
function run(what: string, cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`${what} failed: ${stderr || (e as Error).message.split('\n')[0]}`);
  }
}
const ipn = (what: string, ...args: string[]) => run(what, 'ip', ['-n', ns, ...args]);

/** assert.match without printing the text on failure (`ip xfrm state` output holds keys). */
function has(text: string, re: RegExp, what: string): void {
  assert.ok(re.test(text), `${what}: ${re} not found in the ip xfrm output`);
}

/** af_key must be loaded (the harness does it); try modprobe once, else skip with the reason. */
function afKeyProblem(): string | false {
  const guest = skipUnlessGuest();
  if (guest) return guest;
  try {
    execFileSync('modprobe', ['af_key'], { stdio: 'ignore' });
    return false;
  } catch (e) {
    return `modprobe af_key failed in the guest: ${(e as Error).message.split('\n')[0]}`;
  }
}
const skip = afKeyProblem();

const hex = (n: number) => randomBytes(n).toString('hex');

function ipStateAdd(spi: number, extra: string[] = [], src = A, dst = B): void {
  ipn(`ip xfrm state add spi 0x${spi.toString(16)}`, 'xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', 'esp',
    'spi', `0x${spi.toString(16)}`, 'reqid', '7', 'mode', 'transport',
    'enc', 'cbc(aes)', `0x${hex(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${hex(32)}`, '128', ...extra);
}

const clients: PfkeyClient[] = [];
async function open(opts: PfkeyClientOptions = {}): Promise<{ c: PfkeyClient; events: PfkeyEvent[] }> {
  const c = await PfkeyClient.open({ netns: ns, timeoutMs: 15_000, ref: false, ...opts });
  clients.push(c);
  const events: PfkeyEvent[] = [];
  c.onEvent((e) => events.push(e));
  return { c, events };
}

async function waitFor<T>(what: string, get: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PF_KEY against the guest kernel', { skip }, () => {
  before(() => {
    run(`creating netns ${ns}`, 'ip', ['netns', 'add', ns]);
    ipn('bringing lo up', 'link', 'set', 'lo', 'up');
  });
  after(() => {
    for (const c of clients) c.close();
    try {
      run(`deleting netns ${ns}`, 'ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
  });

  test('opening a PF_KEY socket in the netns and REGISTERing ESP and AH lists the kernel algorithms', async () => {
    // The first REGISTER makes the kernel probe every algorithm, loading crypto modules (slow under TCG).
    const c = await PfkeyClient.open({ netns: ns, register: [], timeoutMs: 15_000, registerTimeoutMs: 120_000, ref: false });
    clients.push(c);
    const esp = await c.register(C.SADB_SATYPE_ESP);
    assert.ok(esp.encrypt.some((a) => a.id === C.SADB_X_EALG_AESCBC), 'cbc(aes) offered');
    assert.ok(esp.auth.some((a) => a.id === C.SADB_X_AALG_SHA2_256HMAC), 'hmac(sha256) offered');
    await c.register(C.SADB_SATYPE_AH);
    await assert.rejects(c.register(C.SADB_SATYPE_ESP), /PF_KEY REGISTER esp failed: EEXIST/);
  });

  test('an ESP transport SA added through PF_KEY is what `ip xfrm state` shows, keys included', async () => {
    const { c, events } = await open();
    const auth = randomBytes(32);
    const enc = randomBytes(16);
    const reply = await c.add({
      satype: C.SADB_SATYPE_ESP, spi: 0x2001, src: A, dst: B, mode: 'transport', reqid: 42,
      auth: { alg: C.SADB_X_AALG_SHA2_256HMAC, key: new KeyMaterial(auth) },
      enc: { alg: C.SADB_X_EALG_AESCBC, key: new KeyMaterial(enc) },
      hard: { addtime: 3600 }, soft: { addtime: 3000 },
    });
    assert.equal(reply.type, C.SADB_ADD);
    assert.equal(reply.pid, c.pid);
    assert.equal(reply.ext.sa?.spi, 0x2001);
    assert.deepEqual(reply.removedKeys, { auth: 256, encrypt: 128 }, 'the kernel echoes keys in ADD notifications');
    const out = ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', '0x00002001');
    has(out, /src 2001:db8:1::10 dst 2001:db8:2::20/, 'endpoints');
    has(out, /proto esp spi 0x00002001 reqid 42 mode transport/, 'SA id, reqid, mode');
    // af_key gives hmac(sha256) the 96-bit ICV of draft-ietf-ipsec-ciph-sha-256 (not RFC 4868's 128).
    has(out, /auth-trunc hmac\(sha256\) 0x[0-9a-f]{64} 96\b/, 'auth algorithm and ICV length');
    has(out, /enc cbc\(aes\) 0x[0-9a-f]{32}\b/, 'encryption algorithm');
    assert.ok(out.includes(`0x${auth.toString('hex')}`), 'auth key as pushed');
    assert.ok(out.includes(`0x${enc.toString('hex')}`), 'encryption key as pushed');
    const stats = ipn('ip -s xfrm state', '-s', 'xfrm', 'state', 'list', 'spi', '0x00002001');
    has(stats, /expire add: soft 3000\(sec\), hard 3600\(sec\)/, 'soft/hard lifetimes');
    await waitFor('sa-added event', () => events.find((e) => e.kind === 'sa-added' && e.sa.spi === 0x2001));
  });

  test('D10 an SA added with `ip xfrm state add` arrives on the PF_KEY socket as SADB_ADD', async () => {
    const { events } = await open();
    ipStateAdd(0x3001);
    const ev = await waitFor('SADB_ADD for spi 0x3001', () => events.find((e) => e.kind === 'sa-added' && e.sa.spi === 0x3001));
    assert.ok(ev.kind === 'sa-added');
    assert.equal(ev.sa.src, A);
    assert.equal(ev.sa.dst, B);
    assert.equal(ev.sa.proto, 50);
    assert.equal(ev.sa.reqid, 7);
    assert.equal(ev.sa.mode, 'transport');
    assert.equal(ev.message.ext.src?.proto, 0, 'no selector protocol in PF_KEY SA messages (DIGEST 2.1.5 item 4)');
    assert.deepEqual(ev.message.removedKeys, { auth: 256, encrypt: 128 });
  });

  test('D11 DUMP at startup finds pre-existing SAs; the last message has seq 0', async () => {
    ipn('flushing states', 'xfrm', 'state', 'flush');
    for (const spi of [0x4001, 0x4002, 0x4003]) ipStateAdd(spi);
    const { c } = await open();
    const dump = await c.dumpSas(C.SADB_SATYPE_ESP);
    assert.deepEqual(dump.map((m) => m.ext.sa!.spi).sort((a, b) => a - b), [0x4001, 0x4002, 0x4003]);
    assert.equal(dump.at(-1)!.seq, 0, 'last dump message has seq 0');
    assert.ok(dump.slice(0, -1).every((m) => m.seq !== 0));
    assert.ok(dump.every((m) => m.type === C.SADB_DUMP && m.pid === c.pid));
    assert.deepEqual(await c.dumpSas(C.SADB_SATYPE_AH), [], 'an empty dump (ENOENT) is []');
  });

  test('D09 hard EXPIRE after `limit time-hard 3` (and soft after time-soft 2) reaches a REGISTERed socket', async () => {
    const { events } = await open();
    const { events: unregistered } = await open({ register: [] });
    ipStateAdd(0x5001, ['limit', 'time-soft', '2', 'limit', 'time-hard', '3']);
    const soft = await waitFor('soft SADB_EXPIRE', () => events.find((e) => e.kind === 'sa-expired' && e.sa.spi === 0x5001 && !e.hard));
    const hard = await waitFor('hard SADB_EXPIRE', () => events.find((e) => e.kind === 'sa-expired' && e.sa.spi === 0x5001 && e.hard));
    assert.ok(soft.kind === 'sa-expired' && soft.message.ext.lifetimeSoft && !soft.message.ext.lifetimeHard);
    assert.ok(hard.kind === 'sa-expired' && hard.message.ext.lifetimeHard && !hard.message.ext.lifetimeSoft);
    assert.equal(hard.message.seq, 0);
    assert.equal(hard.message.pid, 0);
    await waitFor('hard expiry deletes the SA', () => (ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', '0x00005001').trim() === '' ? true : undefined));
    assert.equal(unregistered.filter((e) => e.kind === 'sa-expired').length, 0, 'EXPIRE only reaches REGISTERed sockets');
  });

  test('D12 a GETSPI from another socket is seen by a promiscuous socket, not by a non-promiscuous one', async () => {
    const { events: promisc, c: pc } = await open({ promiscuous: true });
    const { events: plain } = await open();
    const { c: ike } = await open({ register: [] });
    assert.equal(pc.promiscuous, true);
    const { spi } = await ike.getspi({ satype: C.SADB_SATYPE_ESP, src: B, dst: A, range: { min: 0x7000, max: 0x7fff } });
    assert.ok(spi >= 0x7000 && spi <= 0x7fff, `spi 0x${spi.toString(16)} in range`);
    const seen = await waitFor('GETSPI reply on the promiscuous socket', () => promisc.find((e) => e.kind === 'sa-larval' && e.sa.spi === spi));
    assert.ok(seen.kind === 'sa-larval' && seen.sa.dst === A && seen.sa.state === 'larval');
    assert.equal(promisc.filter((e) => e.kind === 'sa-larval' && e.sa.spi === spi).length, 1, 'de-duplicated');
    assert.ok(pc.stats.requestEchoes >= 1, 'the echoed GETSPI request (no SA) was ignored');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(plain.filter((e) => e.kind === 'sa-larval').length, 0, 'GETSPI replies are not broadcast');
    has(ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', `0x${spi.toString(16).padStart(8, '0')}`), /proto esp/, 'larval SA');
  });

  test('GETSPI then UPDATE completes the larval SA; GET reads it; DELETE removes it', async () => {
    const { c } = await open();
    const { spi } = await c.getspi({ satype: C.SADB_SATYPE_ESP, src: B, dst: A, mode: 'transport', reqid: 9 });
    await c.update({
      satype: C.SADB_SATYPE_ESP, spi, src: B, dst: A, mode: 'transport', reqid: 9,
      auth: { alg: C.SADB_X_AALG_SHA2_256HMAC, key: new KeyMaterial(randomBytes(32)) },
      enc: { alg: C.SADB_X_EALG_AESCBC, key: new KeyMaterial(randomBytes(16)) },
    });
    const spiText = `0x${spi.toString(16).padStart(8, '0')}`;
    has(ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', spiText), /enc cbc\(aes\)/, 'updated SA');
    const got = await c.get({ satype: C.SADB_SATYPE_ESP, spi, src: B, dst: A });
    assert.equal(got.type, C.SADB_GET);
    assert.equal(got.ext.sa?.state, C.SADB_SASTATE_MATURE);
    assert.equal(got.ext.sa2?.reqid, 9);
    await c.delete({ satype: C.SADB_SATYPE_ESP, spi, src: B, dst: A });
    assert.equal(ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', spiText).trim(), '');
    await assert.rejects(c.delete({ satype: C.SADB_SATYPE_ESP, spi, src: B, dst: A }), (e: unknown) => {
      assert.ok(e instanceof PfkeyRequestError);
      assert.equal(e.errnoCode, 'ESRCH');
      assert.match(e.message, new RegExp(`PF_KEY DELETE esp spi ${spiText} dst ${A} failed: ESRCH`));
      return true;
    });
  });

  test('X_SPDADD policy is visible in `ip xfrm policy`; X_SPDDUMP lists it; X_SPDDELETE, X_SPDGET, X_SPDDELETE2, X_SPDFLUSH', async () => {
    const { c, events } = await open();
    ipn('flushing policies', 'xfrm', 'policy', 'flush');
    const reply = await c.spdAdd({
      dir: 'out', src: { address: A }, dst: { address: B }, proto: 135, priority: 1234,
      templates: [{ proto: 50, mode: 'transport', reqid: 17 }],
    });
    assert.equal(reply.type, C.SADB_X_SPDADD);
    const out = ipn('ip xfrm policy', 'xfrm', 'policy', 'list');
    assert.match(out, /src 2001:db8:1::10\/128 dst 2001:db8:2::20\/128 proto mobility-header/);
    assert.match(out, /dir out priority 1234/);
    assert.match(out, /tmpl src :: dst ::\s+proto esp reqid 17 mode transport/);
    await waitFor('policy-added event', () => events.find((e) => e.kind === 'policy-added'));
    const dump = await c.spdDump();
    assert.equal(dump.length, 1);
    assert.equal(dump[0]!.seq, 0);
    assert.equal(dump[0]!.ext.policy?.requests[0]?.reqid, 17);
    await c.spdDelete({ dir: 'out', src: { address: A }, dst: { address: B }, proto: 135 });
    assert.equal(ipn('ip xfrm policy', 'xfrm', 'policy', 'list').trim(), '');
    // By index: X_SPDGET then X_SPDDELETE2.
    const added = await c.spdAdd({ dir: 'in', src: { address: B }, dst: { address: A }, proto: 17, templates: [{ proto: 50, mode: 'transport' }] });
    const id = added.ext.policy!.id;
    assert.ok(id > 0, 'the notification carries the policy index');
    const got = await c.spdGet(id);
    assert.equal(got.ext.policy?.id, id);
    assert.equal(got.ext.src?.proto, 17);
    const deleted = await c.spdDeleteById(id);
    assert.equal(deleted.type, C.SADB_X_SPDDELETE2);
    assert.equal(ipn('ip xfrm policy', 'xfrm', 'policy', 'list').trim(), '');
    await c.spdAdd({ dir: 'in', src: { address: B }, dst: { address: A }, templates: [{ proto: 50, mode: 'transport' }] });
    await c.spdFlush();
    assert.equal(ipn('ip xfrm policy', 'xfrm', 'policy', 'list').trim(), '');
    await waitFor('policy-flushed event', () => events.find((e) => e.kind === 'policy-flushed'));
  });

  test('X_MIGRATE moves a tunnel-mode SA and policy to new endpoints', async () => {
    const { c, events } = await open();
    ipn('flushing states', 'xfrm', 'state', 'flush');
    ipn('flushing policies', 'xfrm', 'policy', 'flush');
    const oldSrc = '2001:db8:f::1';
    const newSrc = '2001:db8:f::2';
    const gw = '2001:db8:e::1';
    ipn('tunnel SA', 'xfrm', 'state', 'add', 'src', oldSrc, 'dst', gw, 'proto', 'esp', 'spi', '0x6001', 'reqid', '21',
      'mode', 'tunnel', 'enc', 'cbc(aes)', `0x${hex(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${hex(32)}`, '128');
    ipn('tunnel policy', 'xfrm', 'policy', 'add', 'src', `${A}/128`, 'dst', `${B}/128`, 'dir', 'out',
      'tmpl', 'src', oldSrc, 'dst', gw, 'proto', 'esp', 'reqid', '21', 'mode', 'tunnel');
    await c.migrate({
      selector: { dir: 'out', src: { address: A }, dst: { address: B } },
      bundles: [{ proto: 50, mode: 'tunnel', reqid: 21, old: { src: oldSrc, dst: gw }, new: { src: newSrc, dst: gw } }],
    });
    has(ipn('ip xfrm state', 'xfrm', 'state', 'list', 'spi', '0x00006001'), /src 2001:db8:f::2 dst 2001:db8:e::1/, 'migrated SA');
    assert.match(ipn('ip xfrm policy', 'xfrm', 'policy', 'list'), /tmpl src 2001:db8:f::2 dst 2001:db8:e::1/);
    await waitFor('migrate event', () => events.find((e) => e.kind === 'migrate'));
    await assert.rejects(
      c.migrate({
        selector: { dir: 'out', src: { address: A }, dst: { address: '2001:db8:99::1' } },
        bundles: [{ proto: 50, mode: 'tunnel', reqid: 21, old: { src: oldSrc, dst: gw }, new: { src: newSrc, dst: gw } }],
      }),
      /PF_KEY X_MIGRATE out policy failed: ENOENT/,
    );
  });

  test('FLUSH empties the SADB and is reported to the other sockets', async () => {
    const { c } = await open();
    const { events: other } = await open();
    ipStateAdd(0x8001);
    await c.flush(C.SADB_SATYPE_ESP);
    assert.equal(ipn('ip xfrm state', 'xfrm', 'state', 'list').trim(), '');
    await waitFor('sa-flushed on the other socket', () => other.find((e) => e.kind === 'sa-flushed'));
  });
});
