// Guest side of the issue-5 VM benchmark: SA event -> rule in the map with real SAs.
//
//   node --import tsx test/bench/vm-engine/guest.ts RESULT.json
//
// The MN of the standard topology runs the engine on a real data path (IpsecWatcher ->
// IroEngine -> Datapath, as test/lib/scenario/engine-node.ts). Transport data SAs HoA <-> CN
// are added through XFRM netlink from this process, one at a time, alternating out and in;
// timed from the NEWSA request to the first map lookup that finds the rule, then from the
// DELSA request to the first lookup that no longer does. The same process also measures the
// NEWSA round trip alone (request -> kernel ACK), which every figure contains.
// IRO_BENCH_VM_ENGINE_SAS (default 300) sets how many SAs.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { EngineNode, engineTopology, nodeSpecs } from '../../lib/scenario/engine-node.ts';
import { policy } from '../../lib/scenario/static-sa.ts';
import { writeEntryKey } from '../../../src/datapath/rules.ts';
import { RULE_KEY_SIZE } from '../../../src/datapath/abi.ts';
import { XfrmClient } from '../../../src/kernel/xfrm/client.ts';
import { SecretKey } from '../../../src/kernel/xfrm/secret-key.ts';
import { XFRM_MODE_TRANSPORT } from '../../../src/kernel/xfrm/constants.ts';
import { AF_INET6, IPPROTO_ESP } from '../../../src/kernel/constants.ts';

export interface VmEngineResult {
  sas: number;
  /** ms per SA: NEWSA sent -> rule readable */
  addMs: number[];
  /** ms per SA: DELSA sent -> rule gone */
  deleteMs: number[];
  /** ms per SA: NEWSA sent -> kernel ACK (no engine involved) */
  ackMs: number[];
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

async function main(): Promise<void> {
  const resultPath = process.argv[2];
  if (!resultPath) throw new Error('usage: guest.ts RESULT.json');
  const n = Number(process.env.IRO_BENCH_VM_ENGINE_SAS ?? 300);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`IRO_BENCH_VM_ENGINE_SAS must be a positive integer, got "${process.env.IRO_BENCH_VM_ENGINE_SAS}"`);
  const t = await engineTopology('benge');
  let mn: EngineNode | undefined;
  const x = XfrmClient.open({ netns: t.mn.ns });
  try {
    mn = await EngineNode.start(nodeSpecs(t, 'benge', { pfkey: 'off' }).mn);
    const { hoa } = t.addr.mn;
    const cn = t.addr.cn;
    policy(t.mn, 'add', hoa, cn, 'out', 1);
    policy(t.mn, 'add', cn, hoa, 'in', 1);
    const rules = mn.dp.maps.iro_rules;
    const key = Buffer.alloc(RULE_KEY_SIZE);
    const readable = (k: { dir: 'in' | 'out'; spi: number; peer?: string }) => {
      writeEntryKey({ proto: 'esp', ...k }, key, 0);
      return rules.lookup(key) !== null;
    };
    const auth = SecretKey.from(randomBytes(32));
    const enc = SecretKey.from(randomBytes(16));
    const r: VmEngineResult = { sas: n, addMs: [], deleteMs: [], ackMs: [] };
    for (let i = 0; i < n; i++) {
      const out = i % 2 === 0;
      const spi = 0x5000 + i;
      const [src, dst] = out ? [hoa, cn] : [cn, hoa];
      const id = out ? { dir: 'out' as const, spi, peer: cn } : { dir: 'in' as const, spi };
      const t0 = nowMs();
      await x.addSa({
        id: { daddr: dst, spi, proto: IPPROTO_ESP },
        saddr: src,
        family: AF_INET6,
        mode: XFRM_MODE_TRANSPORT,
        reqid: 1,
        replayWindow: 32,
        selector: { family: AF_INET6, saddr: src, daddr: dst, prefixlenS: 128, prefixlenD: 128, proto: 0 },
        auth: { name: 'hmac(sha256)', key: auth, truncBits: 128 },
        crypt: { name: 'cbc(aes)', key: enc },
      });
      r.ackMs.push(nowMs() - t0);
      while (!readable(id)) {
        if (nowMs() - t0 > 10_000) throw new Error(`SA ${spi.toString(16)}: no rule after 10 s`);
        await yieldToIo();
      }
      r.addMs.push(nowMs() - t0);
      const t1 = nowMs();
      await x.deleteSa({ daddr: dst, spi, proto: IPPROTO_ESP, family: AF_INET6 });
      while (readable(id)) {
        if (nowMs() - t1 > 10_000) throw new Error(`SA ${spi.toString(16)}: rule still there 10 s after the delete`);
        await yieldToIo();
      }
      r.deleteMs.push(nowMs() - t1);
    }
    writeFileSync(resultPath, JSON.stringify(r));
  } finally {
    x.close();
    mn?.destroy();
    await t.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`vm engine benchmark failed: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
