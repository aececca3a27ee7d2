// The timer scheduler and the runner the shell and the tests drive the roles with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffSchedule } from '../../src/mip6/backoff.ts';
import { seqGreater, seqNext } from '../../src/mip6/sequence.ts';
import { RateWindow } from '../../src/mip6/rate-window.ts';
import { Mip6Runner } from '../../src/mip6/timers/driver.ts';
import { TimerScheduler } from '../../src/mip6/timers/scheduler.ts';
import type { Mip6Action, Mip6Event, Mip6Role } from '../../src/mip6/types.ts';

describe('TimerScheduler', () => {
  test('keys fire in deadline order, ties in the order they were set', () => {
    const s = new TimerScheduler();
    s.set('c', 30);
    s.set('a', 10);
    s.set('b', 10);
    s.set('d', 20);
    assert.equal(s.next(), 10);
    const out: string[] = [];
    for (let d = s.popDue(25); d; d = s.popDue(25)) out.push(`${d.key}@${d.at}`);
    assert.deepEqual(out, ['a@10', 'b@10', 'd@20']);
    assert.equal(s.next(), 30);
    assert.equal(s.size, 1);
  });

  test('setting a key again reschedules it; cancel forgets it', () => {
    const s = new TimerScheduler();
    s.set('x', 10);
    s.set('x', 50);
    s.set('y', 20);
    assert.equal(s.deadline('x'), 50);
    assert.equal(s.popDue(30)?.key, 'y');
    assert.equal(s.popDue(30), undefined);
    assert.equal(s.cancel('x'), true);
    assert.equal(s.cancel('x'), false);
    assert.equal(s.next(), undefined);
    assert.equal(s.has('x'), false);
  });

  test('many reschedules stay consistent (lazy deletion + compaction)', () => {
    const s = new TimerScheduler();
    for (let i = 0; i < 10_000; i++) s.set(`k${i % 50}`, 1000 + ((i * 7919) % 5000));
    assert.equal(s.size, 50);
    let last = -Infinity;
    let n = 0;
    for (let d = s.popDue(Infinity); d; d = s.popDue(Infinity)) {
      assert.ok(d.at >= last);
      last = d.at;
      n++;
    }
    assert.equal(n, 50);
  });

  test('keys(prefix) lists the scheduled keys of one role', () => {
    const s = new TimerScheduler();
    s.set('mn:bu:a', 1);
    s.set('cn:bce:b', 2);
    assert.deepEqual(s.keys('mn:'), ['mn:bu:a']);
  });

  test('bad keys and deadlines are refused', () => {
    const s = new TimerScheduler();
    assert.throws(() => s.set('', 1), /non-empty/);
    assert.throws(() => s.set('k', Number.NaN), /finite/);
  });
});

describe('Mip6Runner', () => {
  /** A role that records what it saw and re-arms "tick" every 100 ms, three times. */
  class Ticker implements Mip6Role {
    readonly scheduler = new TimerScheduler();
    seen: Array<[string, number]> = [];
    ticks = 0;
    handle(ev: Mip6Event, now: number): Mip6Action[] {
      this.seen.push([ev.type === 'timer' ? ev.key : ev.type, now]);
      if (ev.type === 'timer' && ev.key === 'tick' && ++this.ticks < 3) this.scheduler.set('tick', now + 100);
      return [];
    }
  }

  test('timers fire at their own deadlines, before an event at a later time, and time never goes back', () => {
    const role = new Ticker();
    const r = new Mip6Runner(role, role.scheduler);
    role.scheduler.set('tick', 100);
    r.dispatch({ type: 'shutdown' }, 350);
    assert.deepEqual(role.seen, [
      ['tick', 100],
      ['tick', 200],
      ['tick', 300],
      ['shutdown', 350],
    ]);
    r.dispatch({ type: 'shutdown' }, 10);
    assert.deepEqual(role.seen.at(-1), ['shutdown', 350]);
  });
});

describe('helpers', () => {
  test('G06 back-off schedule: 1, 2, 4, 8, 16, 32, 32 s', () => {
    assert.deepEqual(backoffSchedule(1000, 7), [1000, 2000, 4000, 8000, 16000, 32000, 32000]);
    assert.deepEqual(backoffSchedule(1500, 7), [1500, 3000, 6000, 12000, 24000, 32000, 32000]);
  });

  test('sequence numbers compare modulo 2^16 (RFC 6275 §9.5.1)', () => {
    assert.equal(seqGreater(16, 15), true);
    assert.equal(seqGreater(15, 16), false);
    assert.equal(seqGreater(15, 15), false);
    assert.equal(seqGreater(0, 0xffff), true);
    assert.equal(seqGreater(0x7fff, 0), true);
    assert.equal(seqGreater(0x8000, 0), false, 'half-way is not newer');
    assert.equal(seqGreater(0, 0x8000), false);
    assert.equal(seqNext(0xffff), 0);
  });

  test('MAX_UPDATE_RATE window: a fourth send within a second waits', () => {
    const w = new RateWindow(3);
    for (const t of [0, 100, 200]) {
      assert.equal(w.delay(t), 0);
      w.record(t);
    }
    assert.equal(w.delay(300), 700);
    assert.equal(w.delay(1000), 0);
  });
});
