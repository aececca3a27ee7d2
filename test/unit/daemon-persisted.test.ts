// The daemon's restart state files (L05, OP-43): atomic, coalesced, and a bad file never stops
// the daemon (it starts without the state and says why).
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PersistedJson, isMnBindingsFile, isSequenceFile } from '../../src/daemon/persisted.ts';

function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

test('L05 OP-43 state files: coalesced writes, atomic rename, mode 0600, last value wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iro-persist-'));
  try {
    const { log } = capture();
    const f = new PersistedJson<Record<string, number>>(join(dir, 'sub', 'seq.json'), 'sequence numbers', log, 60_000);
    let produced = 0;
    f.save(() => (produced++, { a: 1 }));
    f.save(() => (produced++, { a: 2 }));
    assert.equal(produced, 0, 'nothing is built before the write');
    f.flush();
    assert.equal(produced, 1, 'only the last value is built');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'sub', 'seq.json'), 'utf8')), { a: 2 });
    assert.equal(statSync(join(dir, 'sub', 'seq.json')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['seq.json'], 'no temporary file is left');
    f.flush();
    assert.equal(produced, 1, 'a flush with nothing pending writes nothing');
    assert.deepEqual(f.load(isSequenceFile), { a: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('L05 state files: a missing file is silent; a corrupt or mis-shaped one is logged and ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iro-persist-'));
  try {
    const { log, lines } = capture();
    const path = join(dir, 'mn.json');
    const f = new PersistedJson(path, 'mobile node binding state', log);
    assert.equal(f.load(isMnBindingsFile), null);
    assert.equal(lines.length, 0);
    writeFileSync(path, '{"coa": "2001:db8::1", "bindings": [');
    assert.equal(f.load(isMnBindingsFile), null);
    assert.match(lines.at(-1)!, /not valid JSON/);
    writeFileSync(path, JSON.stringify({ coa: '2001:db8::1', bindings: [{ peer: 'x', coa: 'y', state: 'none' }] }));
    assert.equal(f.load(isMnBindingsFile), null, "state 'none' is never stored");
    assert.match(lines.at(-1)!, /unexpected shape/);
    const good = { coa: '2001:db8::1', bindings: [{ peer: '2001:db8:c::1', coa: '2001:db8::1', state: 'effective' }] };
    writeFileSync(path, JSON.stringify(good));
    assert.deepEqual(f.load(isMnBindingsFile), good);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OP-43 sequence files: only 16-bit sequence numbers', () => {
  assert.ok(isSequenceFile({ '2001:db8::1': 0, '2001:db8::2': 65535 }));
  assert.ok(!isSequenceFile({ '2001:db8::1': 65536 }));
  assert.ok(!isSequenceFile({ '2001:db8::1': 1.5 }));
  assert.ok(!isSequenceFile([1]));
  assert.ok(!isSequenceFile(null));
});
