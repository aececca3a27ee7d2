// D08: key material from PF_KEY ADD/UPDATE notifications (which carry KEY_AUTH/KEY_ENCRYPT,
// DIGEST §2.1.5 item 3) never reaches logs, debug dumps or error messages. A message with
// distinctive keys goes through every formatting and logging path we have; the key bytes,
// in any of the usual encodings, must appear nowhere. The needle search is checked against a
// deliberate leak so the test can fail.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { format, inspect } from 'node:util';
import pino from 'pino';
import { PfkeyClient } from '../../src/kernel/pfkey/client.ts';
import { decodePfkeyMessage, tryDecodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { encodePfkeyMessage } from '../../src/kernel/pfkey/encode.ts';
import { PfkeyRequestError } from '../../src/kernel/pfkey/errors.ts';
import type { PfkeyEvent } from '../../src/kernel/pfkey/events.ts';
import { formatPfkeyMessage, pfkeyLoggable } from '../../src/kernel/pfkey/format.ts';
import { KeyMaterial } from '../../src/kernel/pfkey/key-material.ts';
import { saInfo } from '../../src/kernel/pfkey/sa-info.ts';
import { FakePfkeyKernel } from '../lib/pfkey-fake-kernel.ts';
import * as F from '../lib/pfkey-fixtures.ts';

const KEYS = [Buffer.from(F.AUTH_KEY), Buffer.from(F.ENC_KEY)];

/** Every textual form a key could leak in. */
function needles(key: Buffer): string[] {
  const dec = [...key];
  const hexSpaced = dec.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return [
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    hexSpaced,
    key.toString('base64'),
    key.toString('base64url'),
    key.toString('latin1'),
    dec.join(','),
    dec.join(', '),
    // any 8 consecutive key octets as hex (catches partial dumps)
    key.subarray(4, 12).toString('hex'),
  ];
}

function assertNoKeys(text: string, where: string): void {
  for (const k of KEYS) for (const n of needles(k)) assert.ok(!text.includes(n), `${where}: key material found (${JSON.stringify(n.slice(0, 16))}...)`);
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function capturePino(): { log: pino.Logger; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: pino({ level: 'trace' }, stream), text: () => out };
}

function captureConsole(fn: () => void): string {
  let out = '';
  const orig = { log: console.log, error: console.error, warn: console.warn, info: console.info, debug: console.debug, dir: console.dir };
  const sink = (...a: unknown[]) => {
    out += format(...a) + '\n';
  };
  console.log = console.error = console.warn = console.info = console.debug = sink;
  console.dir = (o: unknown, opts?: object) => {
    out += inspect(o, opts) + '\n';
  };
  try {
    fn();
  } finally {
    Object.assign(console, orig);
  }
  return out;
}

describe('D08 key material never reaches logs, dumps or errors', () => {
  test('D08 the needle search finds a deliberate leak (the test can fail)', () => {
    const m = decodePfkeyMessage(F.saNotify({ type: 3, seq: 1, pid: 1, spi: 0x10 }));
    const leak = `${m.ext.keyAuth!.key.reveal().toString('hex')} ${[...m.ext.keyEncrypt!.key.reveal()].join(', ')}`;
    assert.throws(() => assertNoKeys(leak, 'deliberate leak'), /key material found/);
    assert.throws(() => assertNoKeys(inspect(Buffer.from(F.AUTH_KEY)), 'raw buffer'), /key material found/);
  });

  test('D08 a decoded ADD notification with keys: every formatting path is key-free', () => {
    const raw = F.saNotify({ type: 3, seq: 1, pid: 1, spi: 0x10 });
    const m = decodePfkeyMessage(raw);
    assert.ok(m.ext.keyAuth && m.ext.keyEncrypt, 'the fixture carries keys');
    const spread = { ...m, ext: { ...m.ext } };
    const outputs: [string, string][] = [
      ['formatPfkeyMessage', formatPfkeyMessage(m)],
      ['JSON.stringify(message)', JSON.stringify(m)],
      ['JSON.stringify(pfkeyLoggable)', JSON.stringify(pfkeyLoggable(m))],
      ['JSON.stringify(spread)', JSON.stringify(spread, bigintSafe)],
      ['JSON.stringify(ext)', JSON.stringify(m.ext, bigintSafe)],
      ['JSON.stringify(keyAuth)', JSON.stringify(m.ext.keyAuth)],
      ['inspect(message)', inspect(m, { depth: Infinity, showHidden: true })],
      ['inspect(spread)', inspect(spread, { depth: Infinity, showHidden: true, getters: true })],
      ['inspect(ext)', inspect(m.ext, { depth: Infinity, showHidden: true })],
      ['inspect(key)', inspect(m.ext.keyEncrypt!.key, { showHidden: true })],
      ['String(message)', String(m)],
      ['template', `${m} ${m.ext.keyAuth!.key}`],
      ['concat', '' + m.ext.keyEncrypt!.key],
      ['util.format %s %o %O %j', format('%s %o %O %j', m, m, m.ext, m)],
      ['Object.entries(key)', JSON.stringify(Object.entries(m.ext.keyAuth!.key))],
      ['structuredClone(key)', inspect(structuredClone(m.ext.keyAuth!.key))],
      ['saInfo', JSON.stringify(saInfo(m), bigintSafe)],
      ['console', captureConsole(() => {
        console.log(m);
        console.log('%o', m);
        console.error(m.ext);
        console.info(JSON.stringify(m));
        console.dir(spread, { depth: null, showHidden: true });
      })],
    ];
    const { log, text } = capturePino();
    log.info(m, 'message as merge object');
    log.info({ pfkey: m }, 'message as field');
    log.debug({ ext: m.ext }, 'extensions');
    log.trace({ loggable: pfkeyLoggable(m) }, 'loggable');
    log.info({ key: m.ext.keyAuth }, 'key ext');
    log.info(`${m}`);
    outputs.push(['pino', text()]);
    assert.ok(text().length > 500, 'pino wrote the records');
    for (const [where, out] of outputs) assertNoKeys(out, where);
    // The formatter still says which keys exist and how long they are.
    assert.match(formatPfkeyMessage(m), /keys=\[auth 256 bits redacted, encrypt 128 bits redacted\]/);
    // The accessor does give the key (for the encoder), and encode(decode) keeps it.
    assert.deepEqual(m.ext.keyAuth!.key.reveal(), Buffer.from(F.AUTH_KEY));
    assert.deepEqual(encodePfkeyMessage(m), raw);
  });

  test('D08 decode errors about key extensions and request errors never quote key bytes', () => {
    const buf = F.saNotify({ type: 3, seq: 1, pid: 1, spi: 0x10 });
    // Make KEY_ENCRYPT claim more bits than it carries; and truncate another copy mid-key.
    const keyOff = buf.indexOf(Buffer.from(F.ENC_KEY)) - 8;
    const bad = Buffer.from(buf);
    bad.writeUInt16LE(4096, keyOff + 4);
    const r1 = tryDecodePfkeyMessage(bad);
    assert.ok(!r1.ok);
    assert.match(r1.error.message, /KEY_ENCRYPT at offset \d+: 4096 key bits need/);
    const trunc = Buffer.from(buf.subarray(0, keyOff + 16));
    trunc.writeUInt16LE(trunc.length / 8, 4);
    const r2 = tryDecodePfkeyMessage(trunc);
    assert.ok(!r2.ok);
    const err = new PfkeyRequestError('ADD', 'esp spi 0x00000010 dst 2001:db8:2::20', 17);
    for (const t of [r1.error.message, r1.error.stack ?? '', r2.error.message, inspect(r1.error), err.message, inspect(err)]) assertNoKeys(t, 'error text');
  });

  test('D08 the client drops and wipes received keys; events and raw datagrams hold none', async () => {
    const k = new FakePfkeyKernel();
    const sock = k.socket();
    const c = await PfkeyClient.open({ transport: sock, timeoutMs: 500 });
    const events: PfkeyEvent[] = [];
    c.onEvent((e) => events.push(e));
    const warnings: Error[] = [];
    c.onWarning((e) => warnings.push(e));
    const { log, text } = capturePino();
    c.onEvent((e) => log.info({ event: e }, e.kind));
    // An ADD/UPDATE notification with keys, as for an SA somebody else installed.
    const notify = F.saNotify({ type: 3, seq: 5, pid: 6, spi: 0x77 });
    const update = F.saNotify({ type: 2, seq: 6, pid: 6, spi: 0x77 });
    k.inject(sock, notify);
    k.inject(sock, update);
    // And a malformed one that still contains key bytes.
    const broken = Buffer.from(notify);
    broken.writeUInt16LE(0, broken.indexOf(Buffer.from(F.AUTH_KEY)) - 8);
    k.inject(sock, broken);
    // Our own ADD with keys (its reply carries the keys back).
    await c.add({
      satype: 3, spi: 0x78, src: '2001:db8:1::10', dst: '2001:db8:2::20',
      auth: { alg: 5, key: new KeyMaterial(Buffer.from(F.AUTH_KEY)) },
      enc: { alg: 12, key: new KeyMaterial(Buffer.from(F.ENC_KEY)) },
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events.map((e) => e.kind), ['sa-added', 'sa-updated', 'sa-added']);
    for (const e of events) {
      assert.ok('message' in e);
      assert.equal(e.message.ext.keyAuth, undefined);
      assert.equal(e.message.ext.keyEncrypt, undefined);
      assert.deepEqual(e.message.removedKeys, { auth: 256, encrypt: 128 });
    }
    assert.equal(warnings.length, 1);
    const texts = [
      text(),
      JSON.stringify(events, bigintSafe),
      inspect(events, { depth: Infinity, showHidden: true }),
      warnings.map((w) => `${w.message}\n${w.stack}\n${inspect(w)}`).join('\n'),
      JSON.stringify(c.stats),
      events.map((e) => formatPfkeyMessage(e.message)).join('\n'),
      // the receive buffers themselves: key octets zeroed once decoded
      sock.delivered.map((b) => b.toString('hex')).join('\n'),
    ];
    assert.ok(sock.delivered.length >= 5);
    for (const t of texts) assertNoKeys(t, 'client output');
    assert.match(formatPfkeyMessage(events[0]!.message), /keys=\[auth 256 bits removed, encrypt 128 bits removed\]/);
    c.close();
  });
});
