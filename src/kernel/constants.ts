// Linux socket-level constants used across the kernel layer (values from the uapi headers
// of the kernels we target; they are ABI and do not change).
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_KEY = 15;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_MARK = 36;
export const SO_RCVMARK = 75;

export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_MH = 135;
export const IPPROTO_UDP = 17;
export const IPPROTO_TCP = 6;

export const IPV6_CHECKSUM = 7;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const IPV6_HDRINCL = 36;

export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_DROP_MEMBERSHIP = 2;
export const NETLINK_NO_ENOBUFS = 5;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

export const NETLINK_ROUTE = 0;
export const NETLINK_XFRM = 6;

export const PF_KEY_V2 = 2;

export const MSG_TRUNC = 0x20;

export const CLONE_NEWNET = 0x40000000;

export const ETH_P_ALL = 0x0003;
export const ETH_P_IPV6 = 0x86dd;
