// Feeding a role its events and due timers in time order: the one loop both the daemon shell
// (real clock; it arms one setTimeout for `nextDeadline()`) and the tests (fake time) use, so
// timer behaviour is identical in both.
import type { Mip6Action, Mip6Event, Mip6Role } from '../types.ts';
import type { TimerScheduler } from './scheduler.ts';

export type StepListener = (actions: Mip6Action[], at: number, event: Mip6Event) => void;

export class Mip6Runner {
  private last = -Infinity;

  constructor(
    readonly role: Mip6Role,
    readonly scheduler: TimerScheduler,
    private readonly onStep: StepListener = () => {},
  ) {}

  /** The time of the last step handled (time never goes backwards for the role). */
  get now(): number {
    return this.last;
  }

  nextDeadline(): number | undefined {
    return this.scheduler.next();
  }

  /**
   * Fire every timer due at or before `now`, each at its own deadline (so a late wake-up does not
   * stretch a retransmission schedule), including timers handlers schedule for an instant that is
   * already due. Returns all their actions.
   */
  advanceTo(now: number): Mip6Action[] {
    const out: Mip6Action[] = [];
    for (let due = this.scheduler.popDue(now); due !== undefined; due = this.scheduler.popDue(now)) {
      out.push(...this.step({ type: 'timer', key: due.key }, due.at));
    }
    if (now > this.last) this.last = now;
    return out;
  }

  /** Fire what is due up to `now`, then handle `event` at `now`. */
  dispatch(event: Mip6Event, now: number): Mip6Action[] {
    const out = this.advanceTo(now);
    out.push(...this.step(event, now));
    return out;
  }

  private step(event: Mip6Event, at: number): Mip6Action[] {
    const t = Math.max(at, this.last);
    this.last = t;
    const actions = this.role.handle(event, t);
    this.onStep(actions, t, event);
    return actions;
  }
}
