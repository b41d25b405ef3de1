/* Frame parsing: every read is preceded by a check against the end of the
 * layer it belongs to (the frame, then the IP datagram's own length), so a
 * lying length field can only make us refuse the frame, never overread. */
#include <errno.h>
#include <string.h>

#include "frame.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_QINQ_OLD 0x9100

#define PROTO_HOPOPTS 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_DSTOPTS 60

#define IP_MAX_DATAGRAM 65535u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void frame_config_default(struct frame_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sip_ports[0] = 5060;
	cfg->n_sip_ports = 1;
}

static bool is_sip_port(const struct frame_config *cfg, uint16_t port)
{
	if (cfg->n_sip_ports == 0)
		return port == 5060;
	for (unsigned i = 0; i < cfg->n_sip_ports; i++)
		if (cfg->sip_ports[i] == port)
			return true;
	return false;
}

/* Fragment data rules shared by IPv4 and IPv6: only the last fragment may
 * hold a length that is not a multiple of 8, none may be empty unless it is
 * the last, and the reassembled datagram's 16-bit length field (which also
 * counts hdr_len: the IPv4 header, or IPv6's unfragmentable extension
 * headers) may not overflow. */
static int check_fragment(uint32_t hdr_len, uint32_t offset, uint32_t data_len, bool more)
{
	if (more && (data_len == 0 || data_len % 8 != 0))
		return -EBADMSG;
	if (hdr_len + offset + data_len > IP_MAX_DATAGRAM)
		return -EBADMSG;
	return 0;
}

/* L4 inside [off, end) of pkt, which the caller has bounded already. */
static int parse_l4(const struct frame_config *cfg, const uint8_t *pkt, uint32_t off,
		    uint32_t end, struct frame_info *out)
{
	uint32_t avail = end - off;

	if (out->l4_proto == PROTO_UDP) {
		if (avail < 8)
			return -EBADMSG;
		uint16_t ulen = rd16(pkt + off + 4);
		if (ulen < 8 || ulen > avail)
			return -EBADMSG;
		out->l4_offset = off;
		out->src_port = rd16(pkt + off);
		out->dst_port = rd16(pkt + off + 2);
		out->payload_offset = off + 8;
		out->payload_len = ulen - 8u;
		out->kind = is_sip_port(cfg, out->src_port) || is_sip_port(cfg, out->dst_port)
			? FRAME_SIP_UDP : FRAME_UDP_OTHER;
		return 0;
	}
	if (out->l4_proto == PROTO_TCP) {
		if (avail < 20)
			return -EBADMSG;
		uint32_t doff = (uint32_t)(pkt[off + 12] >> 4) * 4;
		if (doff < 20 || doff > avail)
			return -EBADMSG;
		out->l4_offset = off;
		out->src_port = rd16(pkt + off);
		out->dst_port = rd16(pkt + off + 2);
		out->payload_offset = off + doff;
		out->payload_len = avail - doff;
		out->kind = out->payload_len > 0 &&
			(is_sip_port(cfg, out->src_port) || is_sip_port(cfg, out->dst_port))
			? FRAME_SIP_TCP : FRAME_TCP_OTHER;
		return 0;
	}
	out->payload_offset = off;
	out->payload_len = avail;
	out->kind = FRAME_IP_OTHER;
	return 0;
}

/* Length of the IPv6 extension header h of type nh (AH counts 4-byte
 * units, the others 8-byte ones); its first 2 bytes must be readable. */
static uint32_t ext_len(const uint8_t *h, uint8_t nh)
{
	return nh == PROTO_AH ? ((uint32_t)h[1] + 2) * 4 : ((uint32_t)h[1] + 1) * 8;
}

/* A first fragment's data from pkt + p to end, after an IPv6 Fragment
 * header (nh its next header, n extension headers walked before it) or
 * the IPv4 header (n = 0): sets out->frag_sip_udp when the UDP header is
 * within it and names a SIP port.  Extension headers cut by the fragment
 * end leave it unset. */
static void first_fragment_l4(const struct frame_config *cfg, const uint8_t *pkt, uint32_t p,
			      uint32_t end, uint8_t nh, unsigned n, struct frame_info *out)
{
	for (; n < FRAME_MAX_EXT_HDRS; n++) {
		uint32_t hlen;

		if (nh == PROTO_UDP) {
			out->frag_sip_udp = end - p >= 8 && (is_sip_port(cfg, rd16(pkt + p)) ||
							     is_sip_port(cfg, rd16(pkt + p + 2)));
			return;
		}
		if (nh != PROTO_ROUTING && nh != PROTO_DSTOPTS && nh != PROTO_AH)
			return;
		if (end - p < 8)
			return;
		hlen = ext_len(pkt + p, nh);
		if (hlen > end - p)
			return;
		nh = pkt[p];
		p += hlen;
	}
}

static int parse_ipv4(const struct frame_config *cfg, const uint8_t *pkt, uint32_t off,
		      size_t len, struct frame_info *out)
{
	const uint8_t *ip = pkt + off;
	size_t avail = len - off;

	if (avail < 20 || ip[0] >> 4 != 4)
		return -EBADMSG;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t tot = rd16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > avail)
		return -EBADMSG;

	out->ip_version = 4;
	out->l3_offset = off;
	out->l4_proto = ip[9];
	memcpy(out->src_addr, ip + 12, 4);
	memcpy(out->dst_addr, ip + 16, 4);

	uint16_t frag = rd16(ip + 6);
	bool more = frag & 0x2000;
	uint32_t foff = (uint32_t)(frag & 0x1fff) * 8;
	uint32_t end = off + tot;
	if (more || foff != 0) {
		uint32_t data_len = tot - ihl;
		/* Described even when malformed: see frame_parse(). */
		out->kind = FRAME_FRAGMENT;
		out->frag_id = rd16(ip + 4);
		out->frag_offset = (uint16_t)foff;
		out->frag_more = more;
		out->payload_offset = off + ihl;
		out->payload_len = data_len;
		if (foff == 0)
			first_fragment_l4(cfg, pkt, off + ihl, end, ip[9], 0, out);
		return check_fragment(ihl, foff, data_len, more);
	}
	return parse_l4(cfg, pkt, off + ihl, end, out);
}

static int parse_ipv6(const struct frame_config *cfg, const uint8_t *pkt, uint32_t off,
		      size_t len, struct frame_info *out)
{
	const uint8_t *ip = pkt + off;
	size_t avail = len - off;

	if (avail < 40 || ip[0] >> 4 != 6)
		return -EBADMSG;
	uint32_t plen = rd16(ip + 4);
	/* Payload length 0 announces a jumbogram, which Ethernet cannot carry. */
	if (plen == 0 || 40 + plen > avail)
		return -EBADMSG;

	out->ip_version = 6;
	out->l3_offset = off;
	memcpy(out->src_addr, ip + 8, 16);
	memcpy(out->dst_addr, ip + 24, 16);

	uint32_t end = off + 40 + plen;
	uint32_t p = off + 40;
	uint8_t nh = ip[6];
	for (unsigned n = 0;; n++) {
		uint32_t hlen;

		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
		case PROTO_FRAGMENT:
			break;
		default:
			out->l4_proto = nh;
			return parse_l4(cfg, pkt, p, end, out);
		}
		if (n >= FRAME_MAX_EXT_HDRS)
			return -EBADMSG;
		/* RFC 8200 4.3: hop-by-hop options only right after the header. */
		if (nh == PROTO_HOPOPTS && n != 0)
			return -EBADMSG;
		if (end - p < 8)
			return -EBADMSG;
		if (nh == PROTO_FRAGMENT) {
			uint16_t fo = rd16(pkt + p + 2);
			bool more = fo & 1;
			uint32_t foff = (uint32_t)(fo & 0xfff8);
			uint8_t next = pkt[p];
			if (more || foff != 0) {
				uint32_t data_len = end - (p + 8);
				out->kind = FRAME_FRAGMENT;
				out->l4_proto = next;
				out->frag_id = rd32(pkt + p + 4);
				out->frag_offset = (uint16_t)foff;
				out->frag_more = more;
				out->payload_offset = p + 8;
				out->payload_len = data_len;
				if (foff == 0)
					first_fragment_l4(cfg, pkt, p + 8, end, next, n + 1, out);
				if (check_fragment(p - (off + 40), foff, data_len, more) < 0)
					return -EBADMSG;
				return 0;
			}
			hlen = 8;
		} else {
			hlen = ext_len(pkt + p, nh);
		}
		if (hlen > end - p)
			return -EBADMSG;
		nh = pkt[p];
		p += hlen;
	}
}

int frame_parse(const struct frame_config *cfg, const uint8_t *pkt, size_t len,
		struct frame_info *out)
{
	struct frame_config def;

	memset(out, 0, sizeof(*out));
	if (cfg == NULL) {
		frame_config_default(&def);
		cfg = &def;
	} else if (cfg->n_sip_ports > FRAME_MAX_SIP_PORTS) {
		return -EINVAL;
	}
	if (pkt == NULL || len < ETH_HLEN)
		return -EBADMSG;
	/* Offsets are 32-bit; nothing on a wire comes close. */
	if (len > UINT32_MAX)
		return -EBADMSG;

	uint32_t off = 12;
	uint16_t type = rd16(pkt + off);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		if (out->n_vlan == FRAME_MAX_VLANS || len - off < 6)
			return -EBADMSG;
		out->vlan_tci[out->n_vlan++] = rd16(pkt + off + 2);
		off += 4;
		type = rd16(pkt + off);
	}
	off += 2;

	if (type == ETHERTYPE_MPLS || type == ETHERTYPE_MPLS_MC) {
		for (bool bottom = false; !bottom; off += 4) {
			if (out->n_mpls == FRAME_MAX_MPLS || len - off < 4)
				return -EBADMSG;
			out->n_mpls++;
			bottom = pkt[off + 2] & 1;
		}
		if (len == off)
			return -EBADMSG;
		type = pkt[off] >> 4 == 4 ? ETHERTYPE_IPV4 : pkt[off] >> 4 == 6 ? ETHERTYPE_IPV6 : 0;
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return parse_ipv4(cfg, pkt, off, len, out);
	case ETHERTYPE_IPV6:
		return parse_ipv6(cfg, pkt, off, len, out);
	default:
		out->kind = FRAME_NOT_IP;
		return 0;
	}
}

const char *frame_kind_name(enum frame_kind k)
{
	switch (k) {
	case FRAME_NOT_IP: return "not-ip";
	case FRAME_IP_OTHER: return "ip-other";
	case FRAME_FRAGMENT: return "fragment";
	case FRAME_UDP_OTHER: return "udp-other";
	case FRAME_TCP_OTHER: return "tcp-other";
	case FRAME_SIP_UDP: return "sip-udp";
	case FRAME_SIP_TCP: return "sip-tcp";
	}
	return "unknown";
}
