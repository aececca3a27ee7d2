// Collects the actions of one handle() step. Roles write through it so every action has the
// same shape and logs never carry anything but plain scalar fields.
import type { MhMessage } from './codec/index.ts';
import type { CounterName } from './counters.ts';
import type { Address, LogAction, LogLevel, Mip6Action } from './types.ts';

export interface SendOptions {
  onWireSrc?: Address | undefined;
  onWireDst?: Address | undefined;
}

export class Output {
  readonly actions: Mip6Action[] = [];

  send(msg: MhMessage, src: Address, dst: Address, opts: SendOptions = {}): void {
    const action: Mip6Action = { type: 'send', msg, src, dst };
    if (opts.onWireSrc !== undefined) action.onWireSrc = opts.onWireSrc;
    if (opts.onWireDst !== undefined) action.onWireDst = opts.onWireDst;
    this.actions.push(action);
  }

  count(name: CounterName): void {
    this.actions.push({ type: 'counter', name });
  }

  log(level: LogLevel, msg: string, fields: LogAction['fields'] = {}): void {
    this.actions.push({ type: 'log', level, msg, fields });
  }

  push(action: Mip6Action): void {
    this.actions.push(action);
  }
}
