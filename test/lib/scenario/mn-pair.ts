// Two mobile nodes route-optimised with each other (MN-MN, IRO §5.2.2 ex. 3/4, DIGEST K07):
// what deploy/examples/mn2.yaml's header tells a user to add to mn.yaml and ha.yaml, done to
// the parsed example documents (Deployment.configure edits). Everything is read from mn2.yaml,
// so the three files cannot drift apart: MN1's SAs and policies are MN2's, seen from MN1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../../../src/kernel/native.ts';

type Doc = Record<string, unknown>;
type Entry = Record<string, unknown>;

/** The parsed deploy/examples/mn2.yaml. */
export function mn2Example(): Doc {
  return parse(readFileSync(join(projectRoot(), 'deploy', 'examples', 'mn2.yaml'), 'utf8')) as Doc;
}

function ipsecOf(doc: Doc): { sas: Entry[]; policies: Entry[] } {
  const ipsec = (doc.ipsec ??= {}) as { sas?: Entry[]; policies?: Entry[] };
  ipsec.sas ??= [];
  ipsec.policies ??= [];
  return ipsec as { sas: Entry[]; policies: Entry[] };
}

/**
 * mn.yaml edit: MN2 as a peer of kind mn (named `name`), and MN2's MN-MN SAs and policies as
 * MN1 sees them: the same names, SPIs and key files; HoA <-> the peer names swapped; policy
 * directions mirrored.
 */
export function addMn2Peer(mn1: Doc, name = 'mn2'): void {
  const mn2 = mn2Example();
  const mn2Hoa = (mn2.mn as { homeAddress: string }).homeAddress;
  const mn2Peers = mn2.peers as Array<{ name: string; kind: string }>;
  const mn1Name = mn2Peers.find((p) => p.kind === 'mn')!.name;
  const swap = (v: unknown): unknown => (v === 'HoA' ? name : v === mn1Name ? 'HoA' : v);
  (mn1.peers as Entry[]).push({ name, address: mn2Hoa, kind: 'mn', mode: 'iro' });
  const own = ipsecOf(mn1);
  const theirs = ipsecOf(mn2);
  for (const sa of theirs.sas) own.sas.push({ ...sa, src: swap(sa.src), dst: swap(sa.dst) });
  for (const p of theirs.policies) own.policies.push({ ...p, dir: p.dir === 'in' ? 'out' : 'in', src: swap(p.src), dst: swap(p.dst) });
}

/** ha.yaml edit: MN2 as a second mobile node of the HA, with mn2.yaml's profile block. */
export function addMn2ToHa(ha: Doc): void {
  const mn2 = mn2Example();
  const hoa = (mn2.mn as { homeAddress: string }).homeAddress;
  ((ha.ha as { mobileNodes: Entry[] }).mobileNodes).push({ homeAddress: hoa, mode: 'iro' });
  const profiles = ha.haIpsecProfile;
  ha.haIpsecProfile = [...(Array.isArray(profiles) ? profiles : [profiles]), mn2.haIpsecProfile];
}
