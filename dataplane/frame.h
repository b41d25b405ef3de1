/* Ethernet frames down to the SIP payload: VLAN tags (802.1Q, QinQ and
 * deeper stacks), an MPLS label stack, IPv4, IPv6 with extension headers,
 * UDP on the SIP ports, and TCP segments.
 *
 * frame_parse() reads only [pkt, pkt + len) and copies nothing: offsets in
 * struct frame_info index the caller's buffer.  Fragments are recognised and
 * described (offset, more-fragments, id) so that the caller can reassemble
 * them (rte_ip_frag in DPDK) and parse the whole datagram again.
 *
 * Lengths come from the headers, not from len: Ethernet padding after the
 * IP datagram is ignored, and a UDP payload is what the UDP length says.
 * Checksums are not verified (NIC offload, or forwarded untouched anyway).
 */
#ifndef TEISHI_FRAME_H
#define TEISHI_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_SIP_PORTS 8
/* VLAN tags followed (802.1Q, QinQ and the stacks some carriers add). */
#define FRAME_MAX_VLANS 4
/* MPLS labels followed to the IP header before giving up with -EBADMSG. */
#define FRAME_MAX_MPLS 8

struct frame_config {
	uint16_t sip_ports[FRAME_MAX_SIP_PORTS]; /* host order */
	uint8_t n_sip_ports;                     /* 0: default 5060 */
};

/* What frame_parse() found, most specific last. */
enum frame_kind {
	FRAME_NOT_IP = 0,   /* not IPv4/IPv6 (ARP, LLDP, ...) */
	FRAME_IP_OTHER,     /* IP, not UDP/TCP */
	FRAME_FRAGMENT,     /* an IP fragment; see frag_* */
	FRAME_UDP_OTHER,    /* UDP not on a SIP port */
	FRAME_TCP_OTHER,    /* TCP not on a SIP port, or no payload */
	FRAME_SIP_UDP,      /* UDP payload on a SIP port */
	FRAME_SIP_TCP,      /* TCP payload on a SIP port */
};

struct frame_info {
	uint8_t kind;          /* enum frame_kind */
	uint8_t n_vlan;
	uint8_t n_mpls;        /* MPLS labels between the Ethernet header and IP */
	uint8_t ip_version;    /* 4 or 6; 0 when not IP */
	uint8_t l4_proto;      /* IPPROTO_UDP, IPPROTO_TCP, ... (after ext headers) */
	uint16_t vlan_tci[FRAME_MAX_VLANS]; /* outer first, host order */
	/* 32-bit because a reassembled datagram plus its headers can exceed
	 * 64 KiB. */
	uint32_t l3_offset;    /* IP header */
	uint32_t l4_offset;    /* UDP/TCP header; 0 for fragments and non-UDP/TCP */
	/* UDP/TCP payload; for FRAME_FRAGMENT the fragment's data (the bytes
	 * after the IPv4 header or the IPv6 fragment header; in a first fragment
	 * they begin with the rest of the extension chain and the L4 header). */
	uint32_t payload_offset;
	uint32_t payload_len;
	uint8_t src_addr[16];  /* IPv4 in the first 4 bytes */
	uint8_t dst_addr[16];
	uint16_t src_port;     /* host order; 0 for fragments */
	uint16_t dst_port;
	/* Fragments (kind == FRAME_FRAGMENT; zero otherwise).  A first
	 * fragment has frag_offset 0 and frag_more set; an IPv6 "atomic"
	 * fragment (offset 0, M clear, RFC 6946) is parsed as a whole datagram
	 * and is not FRAME_FRAGMENT. */
	uint32_t frag_id;      /* IPv4 id or IPv6 fragment identification */
	uint16_t frag_offset;  /* in bytes */
	bool frag_more;        /* MF */
	/* A first fragment (offset 0) of a UDP datagram whose UDP header
	 * lies within it (after any IPv6 extension headers that follow the
	 * Fragment header) and names a SIP port, either side: the datagram
	 * is SIP whatever its other fragments hold.  src_port and dst_port
	 * stay 0. */
	bool frag_sip_udp;
};

/* IPv6 extension headers followed before giving up with -EBADMSG. */
#define FRAME_MAX_EXT_HDRS 8

/* One SIP port, 5060. */
void frame_config_default(struct frame_config *cfg);

/* Parse one frame.  cfg NULL means the default.  A UDP datagram or TCP
 * segment with a payload is SIP when its source or destination port is one
 * of cfg's.  Returns 0 and fills out (out->kind says what it is; out is
 * zeroed first), -EINVAL when cfg->n_sip_ports > FRAME_MAX_SIP_PORTS, or
 * -EBADMSG when a header is truncated or inconsistent:
 *  - more than FRAME_MAX_VLANS VLAN tags;
 *  - an MPLS label stack (EtherType 0x8847 or 0x8848) without its bottom
 *    label within FRAME_MAX_MPLS labels or the frame, or with nothing
 *    after it; under the stack, IP is told by its version nibble (an
 *    INVITE an MPLS core carries is classified like any other) and
 *    anything else (a pseudowire's control word or Ethernet) is
 *    FRAME_NOT_IP;
 *  - IPv4: version, IHL < 5, total length below the header or beyond the
 *    frame, a non-last fragment whose data is empty or not a multiple of 8,
 *    a fragment that would end beyond 65535 bytes;
 *  - IPv6: version, payload length beyond the frame or 0 (jumbograms),
 *    an extension header beyond the payload, hop-by-hop not first, more than
 *    FRAME_MAX_EXT_HDRS extension headers, the same fragment rules as IPv4;
 *  - UDP length below 8 or beyond the IP payload; TCP data offset below 5 or
 *    beyond the IP payload.
 * ARP, LLDP and 802.3 length frames are FRAME_NOT_IP whatever their length.
 * A fragment that breaks the fragment rules (bad length, ends beyond 65535)
 * still fills out as a FRAME_FRAGMENT before -EBADMSG, so that the caller
 * can drop its whole datagram; on any other -EBADMSG out->kind is not
 * FRAME_FRAGMENT. */
int frame_parse(const struct frame_config *cfg, const uint8_t *pkt, size_t len,
		struct frame_info *out);

const char *frame_kind_name(enum frame_kind k);

#endif
