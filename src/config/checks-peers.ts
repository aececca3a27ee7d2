// The peer table: one explicit mode per peer (IRO App. I; L03 for a missing mode is the
// schema's), no peer twice and never both IRO and classic (G15), classic RO refused (OP-29),
// addresses that make sense for the node's role.
import { checkHoaScope, checkUnicast } from './checks-roles.ts';
import type { Problems } from './issues.ts';
import { localAddresses } from './local-addresses.ts';
import type { ParsedConfig } from './schema.ts';
import type { NodeConfig } from './types.ts';

export function checkPeers(parsed: ParsedConfig, c: NodeConfig, p: Problems): void {
  const own = new Set(localAddresses(c));
  if (c.ha) own.add(c.ha.address);
  const seen = new Map<string, number[]>();
  parsed.peers.forEach((peer, i) => {
    const list = seen.get(peer.address) ?? [];
    list.push(i);
    seen.set(peer.address, list);
  });
  const reported = new Set<number>();
  for (const [address, idx] of seen) {
    if (idx.length < 2) continue;
    const modes = idx.map((i) => parsed.peers[i]!.mode);
    const iro = idx.find((i) => parsed.peers[i]!.mode === 'iro');
    const classic = idx.find((i) => parsed.peers[i]!.mode === 'classic-ro');
    for (const i of idx.slice(1)) {
      reported.add(i);
      if (iro !== undefined && classic !== undefined) {
        p.error(['peers', i, 'mode'], `peer ${address} is configured both as iro (peers[${iro}]) and as classic-ro (peers[${classic}]): IRO and classic route optimisation must not be used with the same peer (IRO App. I, G15)`);
      } else {
        p.error(['peers', i, 'address'], `peer ${address} is listed more than once (peers[${idx.join('], peers[')}], modes ${modes.join(', ')}): one entry per peer (G15)`);
      }
    }
    if (classic !== undefined) reported.add(classic);
  }
  parsed.peers.forEach((peer, i) => {
    if (peer.mode === 'classic-ro' && !reported.has(i)) {
      p.error(['peers', i, 'mode'], 'classic-ro (RFC 6275 return routability) is not supported (DIGEST OP-29): use iro, or tunnel-only to keep this peer\'s traffic in the home agent tunnel');
    }
    const at = ['peers', i, 'address'];
    if (peer.kind === 'mn') checkHoaScope(peer.address, 'peer home address', at, c.iro.allowUla, p);
    else checkUnicast(peer.address, 'peer address', at, p);
    if (own.has(peer.address)) p.error(at, `${peer.address} is this node's own address, not a peer`);
    if (c.role === 'mn') {
      if (peer.kind === 'ha' || peer.address === c.mn?.homeAgent) {
        p.error(at, `the home agent is configured by mn.homeAgent and mn.haMode, not as a peer${peer.address === c.mn?.homeAgent ? '' : ' (kind ha)'}`);
      }
    } else if (c.role === 'cn') {
      if (peer.kind !== 'mn') p.error(['peers', i, 'kind'], `expected kind mn: a correspondent's peers are mobile nodes, listed by home address (found ${peer.kind})`);
    } else {
      p.error(['peers', i], 'on a home agent the mobile nodes are listed in ha.mobileNodes (with their mode and authorisation), not in peers');
    }
    if (peer.name !== undefined) {
      const first = parsed.peers.findIndex((q) => q.name === peer.name);
      if (first !== i) p.error(['peers', i, 'name'], `the name ${peer.name} is already used by peers[${first}]`);
    }
    if (peer.tunnelFallback !== undefined && c.role !== 'mn') p.warn(['peers', i, 'tunnelFallback'], 'only a mobile node uses tunnelFallback (DIGEST OP-20): ignored here');
  });
}
