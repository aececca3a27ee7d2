// Test topology kit: network namespaces joined by veth pairs (or bridges), built from a
// declarative description with iproute2, observed with tcpdump. Used by the netns tier on the
// host kernel and by the vm tier inside the guest.
export { create, TopologyCreateError } from './create.ts';
export { Topology, type LinkInfo, type LinkEndRef } from './topology.ts';
export { Host, type InterfaceInfo } from './host.ts';
export type { TopologySpec, HostSpec, LinkSpec, LinkEnd, NetemSpec, RouteSpec, RuleSpec } from './spec.ts';
export { validateSpec } from './spec.ts';
export { iroTopology, iroTopologySpec, iroAddresses, IRO_IFNAMES, IRO_PREFIXES } from './iro.ts';
export type { IroTopology, IroTopologyOptions, IroAddresses, IroHost, IroLink, ForeignLink } from './iro.ts';
export { Capture, type CaptureOptions, type CaptureResult, type CaptureStats } from './capture.ts';
export {
  parseTcpdump,
  packetsWithAddressInHeaders,
  packetsWithAddressAnywhere,
  headersContain,
  isEsp,
  isLinkHousekeeping,
  between,
  describePacket,
  describePackets,
  TcpdumpParseError,
  type CapturedPacket,
  type IpsecHeaderInfo,
} from './tcpdump-text.ts';
export { walkHeaders, protocolName, NH } from './header-chain.ts';
export { netemUnavailable, NetemUnavailableError } from './netem.ts';
export { kitNamespaces, removeStaleNamespaces, pidsInNamespaces } from './cleanup.ts';
export { BackgroundProcess, CommandError, type ExecOptions, type ExecResult } from './exec.ts';
export type { PingOptions, PingResult } from './ping.ts';
export { redactArgv, describeArgv } from './redact.ts';
