/* Types shared by the XDP program (teishi.bpf.c) and its loader
 * (teishi_xdp.c), and nothing else. */
#ifndef TEISHI_BPF_H
#define TEISHI_BPF_H

/* What the program saw, one per-CPU counter each.  The enforcement rule
 * (verdict.h) arrives with the XDP issue; the parse path is counted now so
 * the loader, the build and the BPF_PROG_TEST_RUN harness have something
 * real to carry. */
enum teishi_xdp_counter {
	TEISHI_XDP_FRAMES = 0,
	TEISHI_XDP_NOT_IP,      /* ARP, LLDP, anything that is not IPv4/IPv6 */
	TEISHI_XDP_TRUNCATED,   /* a header runs past the frame */
	TEISHI_XDP_VLAN,        /* carried one or two 802.1Q/802.1ad tags */
	TEISHI_XDP_IPV4,
	TEISHI_XDP_IPV6,
	TEISHI_XDP_FRAGMENT,    /* IPv4 fragment (IPv6 ext headers: later) */
	TEISHI_XDP_UDP_SIP,     /* UDP to or from the SIP port */
	TEISHI_XDP_OTHER_L4,
	TEISHI_XDP__COUNT,
};

#endif
