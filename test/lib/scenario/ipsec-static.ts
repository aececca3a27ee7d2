// Static IPsec for scenarios, pushed with iproute2 (`ip xfrm`), independently of iro-ctl's own
// XFRM client: transport SAs between a HoA and a peer, one pair for MH (proto 135) and one
// for everything else, as in IRO §5.2.2 examples 1 and 2.
import type { Host } from '../topology/index.ts';

export type IpsecProto = 'esp' | 'ah';

export interface SaPairSpec {
  /** the mobile node's end (its HoA) and the peer's address */
  local: string;
  remote: string;
  proto: IpsecProto;
  /** SPI of local->remote and remote->local */
  spiOut: number;
  spiIn: number;
  reqid: number;
  /** upper-layer protocol the policies select ("135" for MH); undefined = any */
  upper?: string;
  priority: number;
}

// Test keys: fixed, made for these namespaces only.
const AUTH_KEY = '0x' + '11'.repeat(32);
const ENC_KEY = '0x' + '22'.repeat(16);

function saArgs(src: string, dst: string, spi: number, s: SaPairSpec): string[] {
  const algs = s.proto === 'esp' ? ['auth-trunc', 'hmac(sha256)', AUTH_KEY, '128', 'enc', 'cbc(aes)', ENC_KEY] : ['auth-trunc', 'hmac(sha256)', AUTH_KEY, '128'];
  return ['xfrm', 'state', 'add', 'src', src, 'dst', dst, 'proto', s.proto, 'spi', `0x${spi.toString(16)}`, 'reqid', String(s.reqid), 'mode', 'transport', ...algs, 'sel', 'src', `${src}/128`, 'dst', `${dst}/128`];
}

function policyArgs(src: string, dst: string, dir: 'out' | 'in', s: SaPairSpec): string[] {
  const sel = ['src', `${src}/128`, 'dst', `${dst}/128`, ...(s.upper ? ['proto', s.upper] : [])];
  return ['xfrm', 'policy', 'add', ...sel, 'dir', dir, 'priority', String(s.priority), 'tmpl', 'src', src, 'dst', dst, 'proto', s.proto, 'reqid', String(s.reqid), 'mode', 'transport'];
}

/** Install both SAs and both policy directions on `host`, seen from `side`. */
export function installSaPair(host: Host, side: 'local' | 'remote', s: SaPairSpec): void {
  const me = side === 'local' ? s.local : s.remote;
  const peer = side === 'local' ? s.remote : s.local;
  host.ip(...saArgs(s.local, s.remote, s.spiOut, s));
  host.ip(...saArgs(s.remote, s.local, s.spiIn, s));
  host.ip(...policyArgs(me, peer, 'out', s));
  host.ip(...policyArgs(peer, me, 'in', s));
}

export function flushIpsec(host: Host): void {
  host.ip('xfrm', 'policy', 'flush');
  host.ip('xfrm', 'state', 'flush');
}
