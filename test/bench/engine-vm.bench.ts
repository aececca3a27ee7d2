// Issue 5, VM benchmark: SA event -> rule active in the map with real SAs (the host figure with
// synthetic events is in engine.bench.ts). One guest boot runs test/bench/vm-engine/guest.ts:
// data SAs added and deleted through XFRM netlink while the engine runs. No target in the VM
// (TCG); the NEWSA round trip alone is given so the engine's share can be read off.
import { tierUnavailable } from '../lib/capabilities.ts';
import { runGuestJob } from './guest-job.ts';
import { percentile } from './iro-state.ts';
import type { BenchFigure, BenchModule } from './types.ts';
import type { VmEngineResult } from './vm-engine/guest.ts';

const suite = 'engine: SA event -> rule (vm)';

export function vmEngineFigures(r: VmEngineResult, accel: string): BenchFigure[] {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const add = sorted(r.addMs);
  const del = sorted(r.deleteMs);
  const ack = sorted(r.ackMs);
  return [
    { name: `NEWSA -> rule readable in the map, p50 (${r.sas} SAs)`, value: percentile(add, 50), unit: 'ms', note: accel },
    { name: 'NEWSA -> rule readable in the map, p99', value: percentile(add, 99), unit: 'ms' },
    { name: 'DELSA -> rule gone from the map, p50', value: percentile(del, 50), unit: 'ms' },
    { name: 'DELSA -> rule gone from the map, p99', value: percentile(del, 99), unit: 'ms' },
    { name: '  NEWSA -> kernel ACK alone, p50 (contained in the above)', value: percentile(ack, 50), unit: 'ms' },
  ];
}

const bench: BenchModule = async () => {
  const why = tierUnavailable('vm');
  if (why) return { suite, figures: [], skipped: why };
  const { result, accel } = await runGuestJob<VmEngineResult>({ script: 'test/bench/vm-engine/guest.ts', name: 'vm-engine', timeoutS: 900 });
  return { suite, figures: vmEngineFigures(result, accel) };
};

export default bench;
