// Mobility signalling core: the MN, CN and HA state machines (pure), their boundary types, the
// shared timer scheduler and the runner the daemon shell drives them with. The MH codec is in
// ./codec (imported separately by the socket loop).
export * from './types.ts';
export * from './counters.ts';
export * from './constants.ts';
export * from './sequence.ts';
export * from './backoff.ts';
export { canonicalAddress } from './address.ts';
export { TimerScheduler } from './timers/scheduler.ts';
export { Mip6Runner, type StepListener } from './timers/driver.ts';
export { MobileNode, type MnStatus } from './mn/mobile-node.ts';
export type { MnOptions, MnPeerConfig, PeerMode, MnConfig } from './mn/options.ts';
export { CorrespondentNode, type CnStatus } from './cn/correspondent-node.ts';
export type { CnOptions, CnConfig } from './cn/options.ts';
export { HomeAgent, type HaStatus } from './ha/home-agent.ts';
export type { HaOptions, HaConfig } from './ha/options.ts';
export { HaAuthorizationTable, type HoaAuthorization, type AuthorizationResult, type Credentials } from './ha/authorization.ts';
export { Mip6Node, type Mip6NodeOptions } from './node.ts';
