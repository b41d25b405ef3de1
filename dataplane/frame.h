/* Ethernet frames down to the SIP payload: 802.1Q/QinQ, IPv4, IPv6 with
 * extension headers, UDP on the SIP ports, and TCP segments.
 *
 * frame_parse() reads only [pkt, pkt + len) and copies nothing: offsets in
 * struct frame_info index the caller's buffer.  Fragments are recognised and
 * described (offset, more-fragments, id) so that the caller can reassemble
 * them (rte_ip_frag in DPDK) and parse the whole datagram again.
 */
#ifndef TEISHI_FRAME_H
#define TEISHI_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_SIP_PORTS 8
#define FRAME_MAX_VLANS 2

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
	uint8_t ip_version;    /* 4 or 6; 0 when not IP */
	uint8_t l4_proto;      /* IPPROTO_UDP, IPPROTO_TCP, ... (after ext headers) */
	uint16_t vlan_tci[FRAME_MAX_VLANS]; /* outer first, host order */
	uint16_t l3_offset;    /* IP header */
	uint16_t l4_offset;    /* UDP/TCP header (0 for fragments and non-first fragments) */
	uint16_t payload_offset;
	uint16_t payload_len;
	uint8_t src_addr[16];  /* IPv4 in the first 4 bytes */
	uint8_t dst_addr[16];
	uint16_t src_port;     /* host order */
	uint16_t dst_port;
	/* Fragments (kind == FRAME_FRAGMENT). */
	uint32_t frag_id;      /* IPv4 id or IPv6 fragment identification */
	uint16_t frag_offset;  /* in bytes */
	bool frag_more;        /* MF */
};

void frame_config_default(struct frame_config *cfg);

/* Returns 0 and fills out (out->kind says what it is), or -EBADMSG when a
 * header is truncated or inconsistent (lengths beyond the frame, bad IHL,
 * endless extension headers). */
int frame_parse(const struct frame_config *cfg, const uint8_t *pkt, size_t len,
		struct frame_info *out);

const char *frame_kind_name(enum frame_kind k);

#endif
