// Key material in the configuration: key files must be private (like ssh), are read as hex,
// length-checked per algorithm, and no key ever appears in a message, a warning, a dump or an
// inspection of the loaded configuration (DESIGN decision 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, describeConfig, loadConfig, loadConfigText, redactedConfig, toDesiredIpsec } from '../../src/config/index.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import { configFixture, exampleFixture } from '../lib/config-fixture.ts';
import { keyLeaks } from '../lib/key-leaks.ts';

const MN_SA = (auth: string, enc = 'enc: { alg: ecb(cipher_null) }') => `role: mn
mn: { homeAddress: 2001:db8:1::100, homeAgent: 2001:db8:1::2, interfaces: [fa] }
peers: [{ address: 2001:db8:c::10, kind: cn, mode: iro }]
ipsec:
  sas:
    - { name: a, spi: 0x2001, src: HoA, dst: 2001:db8:c::10, auth: ${auth}, ${enc} }
`;

const ofBytes = (b: Buffer) => SecretKey.from(b);

function errorsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('key files readable by group or others are refused with the path, the mode and the fix', () => {
  const text = readFileSync('deploy/examples/ha.yaml', 'utf8');
  const f = configFixture(text, { tag: 'mode', keyMode: 0o644 });
  try {
    const e = errorsOf(() => loadConfig(f.path));
    assert.equal(e.issues.length, 12); // bu, mpd and tunnel: 2 SAs each, auth + enc key files
    const first = e.issues[0]!;
    assert.equal(first.path, 'haIpsecProfile.bu.toHa.auth.keyFile');
    assert.equal(first.message, `key file ${join(f.dir, 'keys/home-sa1.auth')} is accessible by group or others (mode 0644); keys must be private: chmod 600 ${join(f.dir, 'keys/home-sa1.auth')}`);
    assert.equal(`${first.file}:${first.line}:${first.col}`, `${f.path}:37:43`); // the keyFile value in ha.yaml
    assert.deepEqual(keyLeaks(e.message, [...f.keys.values()]), []);
    // allowed only when the caller asks (tests)
    assert.equal(loadConfig(f.path, { allowInsecureKeyFiles: true }).config.ipsec.sas.length, 4);
  } finally {
    f.cleanup();
  }
});

test('a missing key file is reported with a command that creates it; a directory is refused', () => {
  const f = configFixture(MN_SA('{ alg: hmac(sha256), keyFile: keys/none.auth }'), { tag: 'missing' });
  try {
    rmSync(join(f.dir, 'keys/none.auth'));
    const e = errorsOf(() => loadConfig(f.path));
    assert.equal(e.issues.length, 1);
    const full = join(f.dir, 'keys/none.auth');
    assert.equal(e.issues[0]!.path, 'ipsec.sas[0].auth.keyFile');
    assert.equal(e.issues[0]!.message, `key file ${full} cannot be read: ENOENT (no such file); create it with: (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${full})`);
    mkdirSync(full, { recursive: true });
    assert.match(errorsOf(() => loadConfig(f.path)).issues[0]!.message, /is not a regular file/);
  } finally {
    f.cleanup();
  }
});

test('key file contents: hex with white space and 0x accepted; anything else refused without showing it; lengths in bits', () => {
  const f = configFixture(MN_SA('{ alg: hmac(sha256), keyFile: k.auth }'), { tag: 'content' });
  const path = join(f.dir, 'k.auth');
  const put = (text: string) => {
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
  };
  try {
    const key = randomBytes(32);
    const h = key.toString('hex');
    put(`${h.slice(0, 60)}\n${h.slice(60)}\n`); // `xxd -p` wraps at 30 octets
    const c = loadConfig(f.path).config;
    assert.ok(c.ipsec.sas[0]!.auth!.key!.equals(ofBytes(key)));
    put(`0x${h}`);
    assert.ok(loadConfig(f.path).config.ipsec.sas[0]!.auth!.key!.equals(ofBytes(key)));
    put('correct horse battery staple, a passphrase!');
    const e = errorsOf(() => loadConfig(f.path));
    assert.equal(e.issues[0]!.message, `key file ${path} does not hold a key as hex digits (the content is not shown); create it with: (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${path})`);
    assert.ok(!e.message.includes('horse'));
    const short = randomBytes(20);
    put(short.toString('hex'));
    const e2 = errorsOf(() => loadConfig(f.path));
    assert.equal(e2.issues[0]!.message, `hmac(sha256) needs a 256-bit key; key file ${path} holds 160 bits`);
    assert.deepEqual(keyLeaks(e2.message, [short]), []);
  } finally {
    f.cleanup();
  }
});

test('inline keys make the configuration file itself a secret: refused when group or others can read it', () => {
  const key = randomBytes(32);
  const text = MN_SA(`{ alg: hmac(sha256), key: "${key.toString('hex')}" }`);
  const open = configFixture(text, { tag: 'inline', fileMode: 0o640 });
  try {
    const e = errorsOf(() => loadConfig(open.path));
    assert.equal(e.issues.length, 1);
    assert.equal(e.issues[0]!.path, 'ipsec.sas[0].auth.key');
    assert.equal(e.issues[0]!.message, `the configuration holds inline keys but is accessible by group or others (mode 0640): chmod 600 ${open.path}, or move the keys to key files`);
    assert.deepEqual(keyLeaks(e.message, [key]), []);
    chmodSync(open.path, 0o600);
    const c = loadConfig(open.path).config;
    assert.equal(c.ipsec.sas[0]!.auth!.source, 'inline');
    assert.ok(c.ipsec.sas[0]!.auth!.key!.equals(ofBytes(key)));
  } finally {
    open.cleanup();
  }
});

test('no key in describeConfig, redactedConfig, JSON, inspect or the desired state\'s JSON, for all three examples', () => {
  for (const name of ['mn', 'cn', 'ha'] as const) {
    const f = exampleFixture(name);
    try {
      const keys = [...f.keys.values()];
      const { config } = loadConfig(f.path);
      const shown = describeConfig(config);
      assert.match(shown, /key: "\[redacted, 256 bits\]"/);
      for (const text of [shown, JSON.stringify(redactedConfig(config)), JSON.stringify(config), inspect(config, { depth: 20 }), JSON.stringify(toDesiredIpsec(config))]) {
        assert.deepEqual(keyLeaks(text, keys), [], name);
      }
    } finally {
      f.cleanup();
    }
  }
});

test('no key in any error or warning: wrong lengths, misplaced keys, bare numbers, YAML errors next to keys', () => {
  const k1 = randomBytes(24);
  const k2 = randomBytes(32);
  const cases = [
    MN_SA(`{ alg: hmac(sha256), key: "${k1.toString('hex')}" }`),
    // the key pasted where the algorithm block belongs
    MN_SA(`"${k2.toString('hex')}"`),
    // a key YAML reads as a number
    MN_SA(`{ alg: hmac(sha256), key: 0x${k2.subarray(0, 6).toString('hex')} }`),
    // an unknown key right next to the secret
    MN_SA(`{ alg: hmac(sha256), key: "${k2.toString('hex')}", kee: "${k1.toString('hex')}" }`),
    // broken YAML on the line of a key
    MN_SA(`{ alg: hmac(sha256), key: "${k2.toString('hex')}" `),
  ];
  for (const text of cases) {
    const e = errorsOf(() => loadConfigText(text, { file: 'k.yaml' }));
    assert.deepEqual(keyLeaks(e.message, [k1, k2, k2.subarray(0, 6)]), [], e.message);
  }
  const withWarnings = loadConfigText(MN_SA(`{ alg: hmac(sha256), key: "${k2.toString('hex')}" }`).replace('dst: 2001:db8:c::10', 'dst: 2001:db8:c::10, mode: tunnel, selector: { dst: any }'), { file: 'k.yaml' });
  assert.ok(withWarnings.warnings.length > 0);
  assert.deepEqual(keyLeaks(JSON.stringify(withWarnings.warnings), [k2]), []);
});
