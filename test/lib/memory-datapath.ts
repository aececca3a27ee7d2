// An in-memory stand-in for the data path's rule map, for pure engine tests only (it proves
// nothing about the kernel). It compares entries by their encoded C values, like the real one.
import { writeEntryKey, writeEntryValue, type RuleEntry } from '../../src/datapath/rules.ts';
import type { RulePort } from '../../src/iro/engine.ts';

export class MemoryDatapath implements RulePort {
  readonly map = new Map<string, { entry: RuleEntry; value: string }>();
  readonly members: Record<'hoas' | 'peers', string[]> = { hoas: [], peers: [] };
  ops = 0;

  private encode(e: RuleEntry): { key: string; value: string } {
    const k = Buffer.alloc(24);
    writeEntryKey(e, k, 0);
    const v = Buffer.alloc(80);
    writeEntryValue(e, 0, v, 0);
    return { key: k.toString('hex'), value: v.toString('hex') };
  }

  reconcileEntries(desired: Map<string, RuleEntry>): { put: number; deleted: number; unchanged: number } {
    let put = 0;
    let unchanged = 0;
    const keep = new Set<string>();
    for (const e of desired.values()) {
      const { key, value } = this.encode(e);
      keep.add(key);
      const cur = this.map.get(key);
      if (cur && cur.value === value) unchanged++;
      else {
        this.map.set(key, { entry: e, value });
        put++;
      }
    }
    let deleted = 0;
    for (const k of [...this.map.keys()]) {
      if (!keep.has(k)) {
        this.map.delete(k);
        deleted++;
      }
    }
    this.ops += put + deleted;
    return { put, deleted, unchanged };
  }

  /** The engine's known-difference path: exactly these writes and deletes, counted like the real map's. */
  applyEntries(put: readonly RuleEntry[], remove: readonly RuleEntry[]): { put: number; deleted: number } {
    for (const e of put) {
      const { key, value } = this.encode(e);
      this.map.set(key, { entry: e, value });
    }
    let deleted = 0;
    for (const e of remove) if (this.map.delete(this.encode(e).key)) deleted++;
    this.ops += put.length + remove.length;
    return { put: put.length, deleted };
  }

  setMembers(which: 'hoas' | 'peers', addrs: Iterable<string>): void {
    this.members[which] = [...addrs].sort();
  }

  /** The installed state in a comparable form. */
  snapshot(): string[] {
    return [...this.map.values()].map((v) => v.value + '@' + v.entry.id).sort();
  }
}
