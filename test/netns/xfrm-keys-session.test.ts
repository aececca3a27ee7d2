// A whole client session at debug level (pino JSON logs + message debug dumps + everything
// written to stdout/stderr) while SAs with random keys are pushed, updated and their events
// decoded: not one key byte may appear (DESIGN decision 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import pino from 'pino';
import { skipUnless } from '../lib/capabilities.ts';
import { XfrmClient } from '../../src/kernel/xfrm/client.ts';
import { XfrmMonitor } from '../../src/kernel/xfrm/monitor.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import { formatXfrm } from '../../src/kernel/xfrm/format.ts';
import { HA, HOA, SA1 } from '../lib/xfrm-fixtures.ts';
import { freshNetns, until } from '../lib/xfrm-netns.ts';
import { keyLeaks } from '../lib/key-leaks.ts';

const skip = skipUnless('netns');

test('no key bytes in the logs, debug dumps, errors or console output of a client session', { skip }, async (t) => {
  const ns = freshNetns(t, 'xkeys');
  const keys = [randomBytes(32), randomBytes(16), randomBytes(20)];
  const captured: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void captured.push(s) });
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const tap = (orig: typeof process.stdout.write) => ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(String(chunk));
    return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stdout.write = tap(origOut);
  process.stderr.write = tap(origErr);
  try {
    const c = XfrmClient.open({ netns: ns, logger });
    const mon = XfrmMonitor.open({ netns: ns, logger });
    mon.on('event', (e) => console.log('event', e.kind, formatXfrm(e), inspect(e, { depth: 8 })));
    const keyed = {
      ...SA1,
      auth: { name: 'hmac(sha256)', key: SecretKey.from(keys[0]!), truncBits: 128 },
      crypt: { name: 'cbc(aes)', key: SecretKey.from(keys[1]!) },
    };
    // refused by this kernel (no ESP): the request (with keys) is logged, the error reported
    await c.addSa(keyed).catch((e: Error) => console.error('push failed:', e.message, e.stack, inspect(e)));
    // complete a larval SA with keys: refused too, same paths
    const larval = await c.allocSpi({ id: { daddr: HA, proto: 50 }, saddr: HOA, family: 10, reqid: 5, min: 0x100, max: 0x1ff });
    await c.updateSa({ ...keyed, id: larval.id, aead: undefined, crypt: undefined, auth: { name: 'hmac(sha1)', key: SecretKey.from(keys[2]!), truncBits: 96 } }).catch((e: Error) => console.error('update failed:', e.message));
    await c.deleteSa({ daddr: HA, spi: larval.id.spi, proto: 50, family: 10, saddr: HOA });
    console.log('model as the pusher holds it:', inspect(keyed, { depth: 8 }), JSON.stringify(keyed, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    assert.ok(await until(() => captured.some((l) => l.includes('event delsa'))));
    c.close();
    mon.close();
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
  const all = captured.join('\n');
  assert.ok(all.includes('XFRM_MSG_NEWSA') && all.includes('[key redacted, 256 bits]'), 'the debug log did record the keyed requests');
  assert.ok(all.includes('EPROTONOSUPPORT'));
  assert.deepEqual(keyLeaks(all, keys), []);
});
