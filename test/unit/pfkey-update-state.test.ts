// Linux notifies an in-place SADB_UPDATE of a live SA with the temporary state object it copied
// from and discarded (net/xfrm/xfrm_state.c xfrm_state_update: x->km.state = DEAD), so the
// message says DEAD although the SA lives on (measured on the 6.1 guest: `ip xfrm state update`
// of a mature SA). The event must not report the SA dead: the engine would drop its rules (E04).
import assert from 'node:assert/strict';
import test from 'node:test';
import * as C from '../../src/kernel/pfkey/constants.ts';
import { decodePfkeyMessage } from '../../src/kernel/pfkey/decode.ts';
import { classifyMessage } from '../../src/kernel/pfkey/events.ts';
import * as F from '../lib/pfkey-fixtures.ts';

test('E04 an SADB_UPDATE notification whose SA state is DEAD (in-place update) reports the SA mature', () => {
  const c = classifyMessage(decodePfkeyMessage(F.saNotify({ type: C.SADB_UPDATE, seq: 0, pid: 0, spi: 0x3004, state: C.SADB_SASTATE_DEAD })));
  assert.ok('event' in c && c.event.kind === 'sa-updated');
  assert.equal(c.event.kind === 'sa-updated' && c.event.sa.state, 'mature');
});

test('a DEAD state in SADB_DELETE, and a LARVAL or DYING state in SADB_UPDATE, are reported as sent', () => {
  const del = classifyMessage(decodePfkeyMessage(F.saNotify({ type: C.SADB_DELETE, seq: 0, pid: 0, spi: 0x3004, state: C.SADB_SASTATE_DEAD })));
  assert.ok('event' in del && del.event.kind === 'sa-deleted' && del.event.sa.state === 'dead');
  for (const [state, name] of [[C.SADB_SASTATE_LARVAL, 'larval'], [C.SADB_SASTATE_DYING, 'dying']] as const) {
    const up = classifyMessage(decodePfkeyMessage(F.saNotify({ type: C.SADB_UPDATE, seq: 0, pid: 0, spi: 0x3004, state })));
    assert.ok('event' in up && up.event.kind === 'sa-updated' && up.event.sa.state === name);
  }
});
