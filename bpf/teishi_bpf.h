/* Types shared by the XDP program (teishi.bpf.c) and its loader
 * (teishi_xdp.c), and nothing else. */
#ifndef TEISHI_BPF_H
#define TEISHI_BPF_H

#include <linux/types.h>

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

/* The suspension list as the kernel holds it: a BPF_MAP_TYPE_LPM_TRIE
 * (teishi_list in teishi.bpf.c), filled and kept by the loader through
 * the sync module (list_map.h).  A key is a number's digits as BCD, the
 * first digit in the high nibble of data[0]:
 *  - a prefix entry of n digits is its digits, prefixlen 4n;
 *  - an exact entry of n digits is its digits and a 0xF nibble after
 *    them, prefixlen 4(n + 1);
 *  - a number is looked up as its digits, the 0xF nibble, and
 *    prefixlen 64 (all of data).
 * The longest match is then ntrie's best match (ntrie.h): an exact entry
 * first (no digit is 0xF, so it matches only the number equal to it, and
 * it is longer than any prefix of that number), else the longest prefix
 * entry the number starts with, one equal to the number included. */
#define TEISHI_LIST_MAX_DIGITS 15

struct teishi_list_key {
	__u32 prefixlen; /* bits of data that must match */
	__u8 data[8];
};

/* What a match reports: ntrie_match's fields. */
struct teishi_list_val {
	__u32 value; /* the entry's value (NTRIE_VALUE) */
	__u8 kind;   /* 1 exact, 2 prefix (enum ntrie_kind) */
	__u8 len;    /* the entry's digits */
	__u16 pad;
};

#endif
