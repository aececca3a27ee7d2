// `npm run demo`: the IRO fast path at work. A mobile node (MN) and a correspondent (CN) in two
// namespaces joined by a veth pair. The MN's IPsec SAs are bound to its home address (HoA);
// the remap programs put its care-of address (CoA) on the wire and restore the HoA on the
// other end, keyed by the ESP SPI (IRO §5, example 1 and its mirror). Then the MN "moves".
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Datapath } from '../datapath/datapath.ts';
import { parseRuleSet, printRuleSet } from '../datapath/rule-syntax.ts';
import { buildEntries, resolveRules } from '../datapath/rules.ts';
import { inNetns } from '../kernel/netns.ts';
import { DatagramSocket } from '../kernel/socket.ts';
import { AF_INET6, SOCK_RAW } from '../kernel/constants.ts';
import { sockaddrIn6 } from '../kernel/sockaddr.ts';
import { createPair } from './netns-pair.ts';

const A = {
  HoA: '2001:db8:1::100',
  CoA: '2001:db8:a::100',
  CoA2: '2001:db8:a::200',
  CN: '2001:db8:a::1',
};
const MN_RULES = 'dir: out, SPI: 42, exp. src: HoA, remap. src: CoA\ndir: in , SPI: 43, exp. dst: CoA, remap. dst: HoA';
const CN_RULES = 'dir: in , SPI: 42, exp. src: CoA, remap. src: HoA\ndir: out, SPI: 43, exp. dst: HoA, remap. dst: CoA';

function say(s = ''): void {
  process.stdout.write(`${s}\n`);
}

function esp(spi: number, seq: number): Buffer {
  const b = Buffer.alloc(40, 0xa5);
  b.writeUInt32BE(spi, 0);
  b.writeUInt32BE(seq, 4);
  return b;
}

function sendEsp(ns: string, src: string, dst: string, spi: number, seq: number): void {
  const s = inNetns(ns, () => DatagramSocket.open(AF_INET6, SOCK_RAW, 50, { label: 'demo ESP sender' }));
  try {
    s.bind(sockaddrIn6(src));
    s.send(esp(spi, seq), { addr: sockaddrIn6(dst) });
  } finally {
    s.close();
  }
}

function install(dp: Datapath, text: string, env: Record<string, string>, peer: string): void {
  for (const e of buildEntries(resolveRules(parseRuleSet(text), env, { peer })).values()) dp.putEntry(e);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo needs root (network namespaces and BPF)');
  const pair = createPair('iro-demo');
  const dps: Datapath[] = [];
  const cleanup = () => {
    for (const dp of dps) dp.destroy();
    pair.destroy();
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const { left: mn, right: cn, run } = pair;
    run(mn, 'ip', 'addr', 'add', `${A.HoA}/128`, 'dev', 'lo');
    run(mn, 'ip', 'link', 'set', 'lo', 'up');
    run(mn, 'ip', 'addr', 'add', `${A.CoA}/64`, 'dev', 'veth-mn', 'nodad');
    run(mn, 'ip', 'addr', 'add', `${A.CoA2}/64`, 'dev', 'veth-mn', 'nodad');
    run(mn, 'ip', 'link', 'set', 'veth-mn', 'up');
    run(cn, 'ip', 'addr', 'add', `${A.CN}/64`, 'dev', 'veth-cn', 'nodad');
    run(cn, 'ip', 'link', 'set', 'veth-cn', 'up');
    run(cn, 'ip', '-6', 'route', 'add', `${A.HoA}/128`, 'via', A.CoA);
    run(mn, 'ping', '-6', '-c1', '-W2', A.CN);

    say('IRO fast path demo: MN (HoA %s, CoA %s) <-> CN (%s) over a veth pair'.replace('%s', A.HoA).replace('%s', A.CoA).replace('%s', A.CN));
    const mnDp = Datapath.open({ pinDir: '/sys/fs/bpf/iro-demo-mn', stateFile: '/run/iro-ctl/demo-mn.json' });
    dps.push(mnDp);
    const cnDp = Datapath.open({ pinDir: '/sys/fs/bpf/iro-demo-cn', stateFile: '/run/iro-ctl/demo-cn.json' });
    dps.push(cnDp);
    for (const [dp, ns, dev] of [[mnDp, mn, 'veth-mn'], [cnDp, cn, 'veth-cn']] as const) {
      const att = inNetns(ns, () => [dp.attach(dev, 'egress'), dp.attach(dev, 'ingress')]);
      say(`  attached to ${ns}/${dev}: ${att.map((a) => `${a.direction} (${a.mode}, ${a.program})`).join(', ')}`);
    }
    install(mnDp, MN_RULES, A, 'CN');
    install(cnDp, CN_RULES, A, 'HoA');
    say('\nMN rules (IRO §5.2.2 example 1):');
    say(printRuleSet(parseRuleSet(MN_RULES)).replace(/^/gm, '  '));
    say('CN rules (the mirror):');
    say(printRuleSet(parseRuleSet(CN_RULES)).replace(/^/gm, '  '));

    const tcpdump = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' }).stdout.trim();
    const capture = tcpdump ? spawn('ip', ['netns', 'exec', cn, tcpdump, '-i', 'veth-cn', '-nn', '-l', 'ip6 proto 50'], { stdio: ['ignore', 'pipe', 'ignore'] }) : null;
    let wire = '';
    capture?.stdout.on('data', (d) => (wire += d));
    await sleep(800);

    say('\nThe MN sends ESP from its HoA (SPI 42), the CN answers to the HoA (SPI 43):');
    for (let seq = 1; seq <= 2; seq++) {
      sendEsp(mn, A.HoA, A.CN, 42, seq);
      sendEsp(cn, A.CN, A.HoA, 43, seq);
    }
    await sleep(300);
    say('The MN moves: its rules now name CoA2 (one atomic map update per rule)');
    install(mnDp, MN_RULES, { ...A, CoA: A.CoA2 }, 'CN');
    install(cnDp, CN_RULES, { ...A, CoA: A.CoA2 }, 'HoA');
    run(cn, 'ip', '-6', 'route', 'replace', `${A.HoA}/128`, 'via', A.CoA2);
    sendEsp(mn, A.HoA, A.CN, 42, 3);
    sendEsp(cn, A.CN, A.HoA, 43, 3);
    await sleep(500);
    capture?.kill('SIGINT');
    await sleep(200);
    say(capture ? '\nOn the wire (tcpdump on the CN side; the HoA never appears):' : '\n(tcpdump not installed: no wire view)');
    for (const line of wire.trim().split('\n').filter(Boolean)) say(`  ${line.replace(/^\S+ /, '')}`);

    const show = (name: string, dp: Datapath) => {
      const s = dp.stats();
      say(`\n${name} counters: ${Object.entries(s).filter(([, v]) => v > 0n).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      for (const e of dp.listEntries()) {
        const c = dp.ruleCounters(e.id);
        say(`  ${e.id}: src hits ${c?.srcHits ?? 0n}, dst hits ${c?.dstHits ?? 0n}, mismatches ${(c?.srcMismatch ?? 0n) + (c?.dstMismatch ?? 0n)}`);
      }
    };
    show('MN', mnDp);
    show('CN', cnDp);
  } finally {
    cleanup();
  }
  say('\nDone: namespaces, programs, pins and state removed.');
}

main().catch((e) => {
  process.stderr.write(`demo failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
