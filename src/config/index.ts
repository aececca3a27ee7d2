// The node configuration: load and check a file, show it, and turn it into what the daemon's
// parts take (the pusher's DesiredIpsec, the IRO engine's peers and static classes).
export { loadConfig, loadConfigText, type LoadOptions, type LoadResult, type LoadTextOptions } from './load.ts';
export { ConfigError, formatIssue, type ConfigIssue } from './issues.ts';
export { describeConfig, redactedConfig } from './describe.ts';
export { mergeDesired, toDesiredIpsec, tunnelProtection } from './to-desired.ts';
export { assignReqids, ownershipOf } from './reqids.ts';
export { authorisedSas, isIkeAuthorised, toEngineAddresses, toMhCodecInput, toPeers, toStaticClasses, tunnelFallbackOf } from './to-engine.ts';
export { localAddresses } from './local-addresses.ts';
export { nodeConfigSchema, DEFAULTS, type NodeConfigInput, type ParsedConfig } from './schema.ts';
export type { AeadMaterial, AuthMaterial, CnConfig, HaConfig, HaIpsecProfileSummary, TunnelSaConfig, IpsecConfig, KeyMaterial, MnConfig, MobileNodeConfig, NodeConfig, PeerEntry, PolicyConfig, SaConfig } from './types.ts';
