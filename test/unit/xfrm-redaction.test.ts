// Key material never leaves through decoded models, debug formatting, JSON, util.inspect or
// error messages (DESIGN decision 3). Keys are random per run so a leak cannot hide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeMessage, type NetlinkMessage } from '../../src/kernel/netlink/message.ts';
import { attr } from '../../src/kernel/netlink/attributes.ts';
import * as C from '../../src/kernel/xfrm/constants.ts';
import { decodeXfrmMessage, encodeSaIdPayload, encodeSaPayload, encodeUsersaInfo } from '../../src/kernel/xfrm/codec.ts';
import { formatXfrmMessage } from '../../src/kernel/xfrm/format.ts';
import { formatControlMessage } from '../../src/kernel/netlink/format.ts';
import { SecretKey } from '../../src/kernel/xfrm/secret-key.ts';
import { SA1 } from '../lib/xfrm-fixtures.ts';
import { keyLeaks } from '../lib/key-leaks.ts';

const authKey = randomBytes(32);
const encKey = randomBytes(16);
const sa = { ...SA1, auth: { name: 'hmac(sha256)', key: SecretKey.from(authKey), truncBits: 128 }, crypt: { name: 'cbc(aes)', key: SecretKey.from(encKey) } };

function msg(type: number, payload: Buffer[]): NetlinkMessage {
  const b = encodeMessage({ type, flags: 0, seq: 1, pid: 0 }, ...payload);
  return { type, flags: 0, seq: 1, pid: 0, payload: b.subarray(16, b.readUInt32LE(0)) };
}

/** A kernel-style DELSA event: usersa_id + XFRMA_SA + the SA's algorithms at top level. */
function delsaEvent(): NetlinkMessage {
  const [id] = encodeSaIdPayload({ daddr: sa.id.daddr, spi: sa.id.spi, proto: 50, family: 10 });
  const [, ...algs] = encodeSaPayload(sa);
  return msg(C.XFRM_MSG_DELSA, [id!, attr(C.XFRMA_SA, encodeUsersaInfo(sa)), ...algs]);
}

test('decoded NEWSA/UPDSA/DELSA events hold no key bytes by default, only keyPresent/keyBits', () => {
  for (const m of [msg(C.XFRM_MSG_NEWSA, encodeSaPayload(sa)), msg(C.XFRM_MSG_UPDSA, encodeSaPayload(sa)), delsaEvent()]) {
    const d = decodeXfrmMessage(m);
    const s = d.kind === 'delsa' ? d.sa! : d.kind === 'newsa' || d.kind === 'updsa' ? d.sa : assert.fail(d.kind);
    assert.equal(s.auth!.key, undefined);
    assert.equal(s.auth!.keyPresent, true);
    assert.equal(s.auth!.keyBits, 256);
    assert.equal(s.crypt!.keyBits, 128);
    assert.deepEqual(keyLeaks(inspect(d, { depth: 10 }), [authKey, encKey]), []);
    assert.deepEqual(keyLeaks(JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)), [authKey, encKey]), []);
  }
});

test('the debug formatter redacts keys in every message that carries them', () => {
  const texts = [msg(C.XFRM_MSG_NEWSA, encodeSaPayload(sa)), delsaEvent()].map((m) => formatControlMessage(m, formatXfrmMessage));
  for (const t of texts) {
    assert.match(t, /\[key redacted, 256 bits\]/);
    assert.deepEqual(keyLeaks(t, [authKey, encKey]), []);
  }
  // a truncated key attribute: the formatter reports malformation, still without bytes
  const full = encodeSaPayload(sa);
  const cut = msg(C.XFRM_MSG_NEWSA, [full[0]!, full[1]!.subarray(0, full[1]!.length - 8)]);
  const t = formatXfrmMessage(cut);
  assert.match(t, /malformed/);
  assert.deepEqual(keyLeaks(t, [authKey, encKey]), []);
});

test('SecretKey shows no bytes through JSON, inspect, String or template literals, even when withKeys decoded', () => {
  const d = decodeXfrmMessage(msg(C.XFRM_MSG_NEWSA, encodeSaPayload(sa)), { withKeys: true });
  assert.equal(d.kind, 'newsa');
  if (d.kind !== 'newsa') return;
  assert.ok(d.sa.auth!.key!.expose().equals(authKey), 'the pusher can still get the bytes explicitly');
  const outputs = [JSON.stringify(d.sa.auth), inspect(d, { depth: 10 }), String(d.sa.auth!.key), `${d.sa.crypt!.key}`];
  for (const o of outputs) assert.deepEqual(keyLeaks(o, [authKey, encKey]), []);
  assert.match(JSON.stringify(d.sa.auth), /"redacted":true/);
});

test('encoder errors name the SA but never the key', () => {
  try {
    encodeSaPayload({ ...sa, crypt: { name: 'cbc(aes)', key: SecretKey.from(encKey), keyBits: 192 } });
    assert.fail('should throw');
  } catch (e) {
    assert.deepEqual(keyLeaks((e as Error).message + (e as Error).stack, [authKey, encKey]), []);
  }
  assert.throws(() => SecretKey.fromHex('zz' + encKey.toString('hex')), (e: Error) => !e.message.includes(encKey.toString('hex')));
});
