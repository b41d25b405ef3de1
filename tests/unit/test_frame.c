/* frame_parse() over frames built here byte by byte.  Every parse runs on a
 * heap copy of exactly len bytes, so under ASan any read past len fails. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

/* A frame under construction; fixups patch lengths once the payload is in. */
struct fb {
	uint8_t b[2048];
	size_t n;
	size_t ip4;      /* offset of the IPv4 header + 1, 0 if none */
	size_t ip6;      /* offset of the IPv6 header + 1 */
	size_t udp;      /* offset of the UDP header + 1 */
};

static const uint8_t SRC4[4] = {192, 0, 2, 1};
static const uint8_t DST4[4] = {198, 51, 100, 7};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x60};

static void put(struct fb *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct fb *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void wr16(struct fb *f, size_t at, uint16_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void eth(struct fb *f)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	memset(f, 0, sizeof(*f));
	put(f, macs, sizeof(macs));
}

static void vlan(struct fb *f, uint16_t tpid, uint16_t tci)
{
	put16(f, tpid);
	put16(f, tci);
}

/* IPv4 header with opt_words 32-bit words of NOP options.  frag: flags and
 * offset field as on the wire (MF = 0x2000, offset in 8-byte units). */
static void ipv4(struct fb *f, uint8_t proto, unsigned opt_words, uint16_t id, uint16_t frag)
{
	put16(f, 0x0800);
	f->ip4 = f->n + 1;
	put8(f, (uint8_t)(0x40 | (5 + opt_words)));
	put8(f, 0);
	put16(f, 0); /* total length: fixed up */
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, SRC4, 4);
	put(f, DST4, 4);
	for (unsigned i = 0; i < opt_words * 4; i++)
		put8(f, 1);
}

static void ipv6(struct fb *f, uint8_t next)
{
	put16(f, 0x86dd);
	f->ip6 = f->n + 1;
	put32(f, 0x60000000);
	put16(f, 0); /* payload length: fixed up */
	put8(f, next);
	put8(f, 64);
	put(f, SRC6, 16);
	put(f, DST6, 16);
}

/* A generic extension header (hop-by-hop, routing, destination options) of
 * (hdr_ext_len + 1) * 8 bytes, padded with PadN-ish zeros. */
static void ext(struct fb *f, uint8_t next, uint8_t hdr_ext_len)
{
	put8(f, next);
	put8(f, hdr_ext_len);
	for (unsigned i = 0; i < (hdr_ext_len + 1u) * 8 - 2; i++)
		put8(f, 0);
}

static void frag6(struct fb *f, uint8_t next, uint16_t offset_bytes, int more, uint32_t id)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)(offset_bytes | (more ? 1 : 0)));
	put32(f, id);
}

static void udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	f->udp = f->n + 1;
	put16(f, sport);
	put16(f, dport);
	put16(f, 0); /* length: fixed up */
	put16(f, 0);
}

static void tcp(struct fb *f, uint16_t sport, uint16_t dport, unsigned opt_words)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, (uint8_t)((5 + opt_words) << 4));
	put8(f, 0x18);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	for (unsigned i = 0; i < opt_words * 4; i++)
		put8(f, 1);
}

static void payload(struct fb *f, const char *s)
{
	put(f, s, strlen(s));
}

/* Patch IP and UDP lengths to the end of what was built. */
static void finish(struct fb *f)
{
	if (f->ip4)
		wr16(f, f->ip4 + 1, (uint16_t)(f->n - (f->ip4 - 1)));
	if (f->ip6)
		wr16(f, f->ip6 + 3, (uint16_t)(f->n - (f->ip6 - 1) - 40));
	if (f->udp)
		wr16(f, f->udp + 3, (uint16_t)(f->n - (f->udp - 1)));
}

/* Parse the first len bytes of f from an exact-size heap copy. */
static int parse_n(const struct frame_config *cfg, const struct fb *f, size_t len,
		   struct frame_info *fi)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, f->b, len);
	int rc = frame_parse(cfg, copy, len, fi);
	free(copy);
	return rc;
}

static int parse(const struct fb *f, struct frame_info *fi)
{
	return parse_n(NULL, f, f->n, fi);
}

static const char SIP[] = "INVITE sip:0312345678@example.jp SIP/2.0\r\n\r\n";

static void test_frame_ipv4_udp_sip_all_fields(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 0x1234, 0x4000 /* DF */);
	udp(&f, 40000, 5060);
	payload(&f, SIP);
	finish(&f);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.n_vlan, 0);
	assert_int_equal(fi.ip_version, 4);
	assert_int_equal(fi.l4_proto, 17);
	assert_int_equal(fi.l3_offset, 14);
	assert_int_equal(fi.l4_offset, 34);
	assert_int_equal(fi.payload_offset, 42);
	assert_int_equal(fi.payload_len, strlen(SIP));
	assert_memory_equal(fi.src_addr, SRC4, 4);
	assert_memory_equal(fi.dst_addr, DST4, 4);
	static const uint8_t zero[12];
	assert_memory_equal(fi.src_addr + 4, zero, 12);
	assert_int_equal(fi.src_port, 40000);
	assert_int_equal(fi.dst_port, 5060);
	assert_int_equal(fi.frag_id, 0);
	assert_int_equal(fi.frag_offset, 0);
	assert_false(fi.frag_more);
	assert_memory_equal(f.b + fi.payload_offset, SIP, fi.payload_len);
}

static void test_frame_ipv4_ihl_options_move_l4(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 3, 1, 0);
	udp(&f, 5060, 5060);
	payload(&f, SIP);
	finish(&f);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.l4_offset, 14 + 32);
	assert_int_equal(fi.payload_offset, 14 + 32 + 8);
	assert_int_equal(fi.payload_len, strlen(SIP));
}

static void test_frame_ipv4_ethernet_padding_ignored(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 1234, 53);
	payload(&f, "x");
	finish(&f);
	size_t real = f.n;
	while (f.n < 60)
		put8(&f, 0xee);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_UDP_OTHER);
	assert_int_equal(fi.payload_offset, real - 1);
	assert_int_equal(fi.payload_len, 1);
}

static void test_frame_ipv4_bad_ihl_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 1, 5060);
	payload(&f, SIP);
	finish(&f);
	f.b[14] = 0x44; /* IHL 4: 16 bytes, below the minimum */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	f.b[14] = 0x4f; /* IHL 15: 60 bytes, beyond the total length 34 + ... */
	wr16(&f, 16, 40);
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	f.b[14] = 0x65; /* version 6 under an IPv4 ethertype */
	finish(&f);
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

static void test_frame_ipv4_bad_total_length_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 1, 5060);
	payload(&f, SIP);
	finish(&f);
	size_t tot = f.n - 14;
	wr16(&f, 16, (uint16_t)(tot + 1)); /* one byte beyond the frame */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	wr16(&f, 16, 19); /* below the header */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	wr16(&f, 16, 20 + 4); /* cuts the UDP header */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

static void test_frame_udp_bad_length_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 1, 5060);
	payload(&f, SIP);
	finish(&f);
	wr16(&f, 14 + 20 + 4, 7);
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	wr16(&f, 14 + 20 + 4, (uint16_t)(8 + strlen(SIP) + 1));
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	/* Shorter than the IP payload is allowed: the UDP length rules. */
	wr16(&f, 14 + 20 + 4, 8 + 6);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.payload_len, 6);
}

static void test_frame_sip_port_matches_source_or_destination(void **state)
{
	(void)state;
	struct frame_config cfg;
	struct fb f;
	struct frame_info fi;

	memset(&cfg, 0, sizeof(cfg));
	cfg.sip_ports[0] = 5080;
	cfg.sip_ports[1] = 15060;
	cfg.n_sip_ports = 2;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 15060, 33333);
	payload(&f, SIP);
	finish(&f);
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.src_port, 15060);
	assert_int_equal(fi.dst_port, 33333);

	wr16(&f, 34, 33333);
	wr16(&f, 36, 5080);
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);

	/* 5060 is not configured here. */
	wr16(&f, 36, 5060);
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), 0);
	assert_int_equal(fi.kind, FRAME_UDP_OTHER);
	/* ... but is the default. */
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	struct frame_config def;
	frame_config_default(&def);
	assert_int_equal(def.n_sip_ports, 1);
	assert_int_equal(def.sip_ports[0], 5060);

	cfg.n_sip_ports = FRAME_MAX_SIP_PORTS + 1;
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), -EINVAL);
}

static void test_frame_vlan_8021q(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	vlan(&f, 0x8100, 0x2064); /* PCP 1, VID 100 */
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 5060, 5060);
	payload(&f, SIP);
	finish(&f);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.n_vlan, 1);
	assert_int_equal(fi.vlan_tci[0], 0x2064);
	assert_int_equal(fi.l3_offset, 18);
	assert_int_equal(fi.payload_offset, 18 + 28);
}

static void test_frame_qinq_88a8_and_8100_outer(void **state)
{
	(void)state;
	static const uint16_t outers[] = {0x88a8, 0x8100, 0x9100};
	struct fb f;
	struct frame_info fi;

	for (unsigned i = 0; i < sizeof(outers) / sizeof(outers[0]); i++) {
		eth(&f);
		vlan(&f, outers[i], 200);
		vlan(&f, 0x8100, 0x0fff);
		ipv6(&f, 17);
		udp(&f, 5060, 5060);
		payload(&f, SIP);
		finish(&f);

		assert_int_equal(parse(&f, &fi), 0);
		assert_int_equal(fi.kind, FRAME_SIP_UDP);
		assert_int_equal(fi.n_vlan, 2);
		assert_int_equal(fi.vlan_tci[0], 200);
		assert_int_equal(fi.vlan_tci[1], 0x0fff);
		assert_int_equal(fi.ip_version, 6);
		assert_int_equal(fi.l3_offset, 22);
		assert_int_equal(fi.l4_offset, 62);
		assert_int_equal(fi.payload_len, strlen(SIP));
	}
}

/* Stacked tags beyond QinQ (some carrier networks add a third or a
 * fourth): an INVITE under them is classified; one tag more than
 * FRAME_MAX_VLANS is a bad frame. */
static void test_frame_vlan_stack_up_to_the_limit(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	for (unsigned n = 3; n <= FRAME_MAX_VLANS + 1; n++) {
		eth(&f);
		for (unsigned i = 0; i < n; i++)
			vlan(&f, i == 0 ? 0x88a8 : 0x8100, (uint16_t)(10 + i));
		ipv4(&f, 17, 0, 1, 0);
		udp(&f, 5060, 5060);
		payload(&f, SIP);
		finish(&f);
		if (n > FRAME_MAX_VLANS) {
			assert_int_equal(parse(&f, &fi), -EBADMSG);
			continue;
		}
		assert_int_equal(parse(&f, &fi), 0);
		assert_int_equal(fi.kind, FRAME_SIP_UDP);
		assert_int_equal(fi.n_vlan, n);
		assert_int_equal(fi.vlan_tci[n - 1], 10 + n - 1);
		assert_int_equal(fi.l3_offset, 14 + 4 * n);
	}
}

/* f's frame with an MPLS stack of n labels (the last one bottom of stack
 * when bottom) in place of its EtherType: MACs, 0x8847, labels, then what
 * followed f's EtherType. */
static void mpls_wrap(const struct fb *f, unsigned n, bool bottom, struct fb *out)
{
	memset(out, 0, sizeof(*out));
	put(out, f->b, 12);
	put16(out, 0x8847);
	for (unsigned i = 0; i < n; i++)
		put32(out, (uint32_t)(100 + i) << 12 | (i + 1 == n && bottom ? 0x100u : 0) | 64);
	put(out, f->b + 14, f->n - 14);
}

/* An MPLS core carries IP under a label stack: an INVITE there is SIP like
 * any other, at the offsets the labels push back. */
static void test_frame_mpls_label_stack_to_ip(void **state)
{
	(void)state;
	struct fb f, m;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 40000, 5060);
	payload(&f, SIP);
	finish(&f);
	mpls_wrap(&f, 2, true, &m);
	assert_int_equal(parse(&m, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.n_mpls, 2);
	assert_int_equal(fi.n_vlan, 0);
	assert_int_equal(fi.ip_version, 4);
	assert_int_equal(fi.l3_offset, 14 + 8);
	assert_int_equal(fi.payload_offset, 14 + 8 + 28);
	assert_int_equal(fi.payload_len, strlen(SIP));
	assert_memory_equal(fi.src_addr, SRC4, 4);

	/* IPv6 under the most labels allowed, 0x8848 (multicast) */
	eth(&f);
	ipv6(&f, 17);
	udp(&f, 5060, 5060);
	payload(&f, SIP);
	finish(&f);
	mpls_wrap(&f, FRAME_MAX_MPLS, true, &m);
	m.b[13] = 0x48;
	assert_int_equal(parse(&m, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.ip_version, 6);
	assert_int_equal(fi.n_mpls, FRAME_MAX_MPLS);
	assert_int_equal(fi.l3_offset, 14 + 4 * FRAME_MAX_MPLS);

	/* one label more, or no bottom label: malformed */
	mpls_wrap(&f, FRAME_MAX_MPLS + 1, true, &m);
	assert_int_equal(parse(&m, &fi), -EBADMSG);
	mpls_wrap(&f, 3, false, &m);
	assert_int_equal(parse_n(NULL, &m, 14 + 12, &fi), -EBADMSG);
	assert_int_equal(parse(&m, &fi), 0); /* no bottom: the "labels" run into IP */
	assert_int_not_equal(fi.kind, FRAME_SIP_UDP);
	/* a stack that ends with the frame, or cut inside a label */
	mpls_wrap(&f, 2, true, &m);
	assert_int_equal(parse_n(NULL, &m, 14 + 8, &fi), -EBADMSG);
	assert_int_equal(parse_n(NULL, &m, 14 + 6, &fi), -EBADMSG);

	/* a pseudowire control word (first nibble 0) under the stack */
	mpls_wrap(&f, 1, true, &m);
	m.b[18] = 0x00;
	assert_int_equal(parse(&m, &fi), 0);
	assert_int_equal(fi.kind, FRAME_NOT_IP);

	/* behind a VLAN tag */
	eth(&f);
	vlan(&f, 0x8100, 42);
	ipv4(&f, 17, 0, 1, 0);
	udp(&f, 40000, 5060);
	payload(&f, SIP);
	finish(&f);
	memset(&m, 0, sizeof(m));
	put(&m, f.b, 16);
	put16(&m, 0x8847);
	put32(&m, 16u << 12 | 0x100 | 64);
	put(&m, f.b + 18, f.n - 18);
	assert_int_equal(parse(&m, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.n_vlan, 1);
	assert_int_equal(fi.n_mpls, 1);
	assert_int_equal(fi.l3_offset, 22);
}

static void test_frame_non_ip_is_not_ip(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	put16(&f, 0x0806); /* ARP */
	for (int i = 0; i < 28; i++)
		put8(&f, 0);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_NOT_IP);
	assert_int_equal(fi.ip_version, 0);

	eth(&f);
	vlan(&f, 0x8100, 5);
	put16(&f, 0x88cc); /* LLDP, tagged */
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_NOT_IP);
	assert_int_equal(fi.n_vlan, 1);
	assert_int_equal(fi.vlan_tci[0], 5);
}

static void test_frame_ipv4_icmp_is_ip_other(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 1, 0, 1, 0);
	put32(&f, 0x08000000);
	put32(&f, 0);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_IP_OTHER);
	assert_int_equal(fi.l4_proto, 1);
	assert_int_equal(fi.l4_offset, 0);
	assert_int_equal(fi.payload_offset, 34);
	assert_int_equal(fi.payload_len, 8);
}

static void test_frame_ipv6_udp_all_fields(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv6(&f, 17);
	udp(&f, 5062, 5060);
	payload(&f, SIP);
	finish(&f);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.ip_version, 6);
	assert_int_equal(fi.l4_proto, 17);
	assert_int_equal(fi.l3_offset, 14);
	assert_int_equal(fi.l4_offset, 54);
	assert_int_equal(fi.payload_offset, 62);
	assert_int_equal(fi.payload_len, strlen(SIP));
	assert_memory_equal(fi.src_addr, SRC6, 16);
	assert_memory_equal(fi.dst_addr, DST6, 16);
	assert_int_equal(fi.src_port, 5062);
	assert_int_equal(fi.dst_port, 5060);
}

static void test_frame_ipv6_extension_chain_reaches_udp(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	/* hop-by-hop (8) -> routing (24) -> destination options (16) ->
	 * atomic fragment (8, RFC 6946: a whole datagram) -> UDP */
	eth(&f);
	ipv6(&f, 0);
	ext(&f, 43, 0);
	ext(&f, 60, 2);
	ext(&f, 44, 1);
	frag6(&f, 17, 0, 0, 0xdeadbeef);
	udp(&f, 5060, 40000);
	payload(&f, SIP);
	finish(&f);

	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_UDP);
	assert_int_equal(fi.l4_proto, 17);
	assert_int_equal(fi.l4_offset, 54 + 8 + 24 + 16 + 8);
	assert_int_equal(fi.payload_offset, 54 + 56 + 8);
	assert_int_equal(fi.payload_len, strlen(SIP));
	assert_int_equal(fi.frag_id, 0);
	assert_false(fi.frag_more);
}

static void test_frame_ipv6_hop_by_hop_not_first_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv6(&f, 60);
	ext(&f, 0, 0);
	ext(&f, 17, 0);
	udp(&f, 5060, 5060);
	payload(&f, SIP);
	finish(&f);
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

static void test_frame_ipv6_extension_chain_is_bounded(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	/* FRAME_MAX_EXT_HDRS destination options pass, one more does not. */
	for (unsigned n = FRAME_MAX_EXT_HDRS; n <= FRAME_MAX_EXT_HDRS + 1; n++) {
		eth(&f);
		ipv6(&f, 60);
		for (unsigned i = 0; i < n; i++)
			ext(&f, i + 1 < n ? 60 : 17, 0);
		udp(&f, 5060, 5060);
		payload(&f, SIP);
		finish(&f);
		int rc = parse(&f, &fi);
		if (n == FRAME_MAX_EXT_HDRS) {
			assert_int_equal(rc, 0);
			assert_int_equal(fi.kind, FRAME_SIP_UDP);
			assert_int_equal(fi.l4_offset, 54 + 8 * n);
		} else {
			assert_int_equal(rc, -EBADMSG);
		}
	}
}

static void test_frame_ipv6_extension_beyond_payload_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv6(&f, 43);
	ext(&f, 17, 0);
	udp(&f, 5060, 5060);
	finish(&f);
	f.b[54 + 1] = 3; /* routing header claims 32 bytes; 16 remain */
	assert_int_equal(parse(&f, &fi), -EBADMSG);

	wr16(&f, 18, 0); /* jumbogram payload length */
	f.b[55] = 0;
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	wr16(&f, 18, (uint16_t)(f.n - 54 + 1)); /* beyond the frame */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

static void test_frame_ipv6_no_next_header_is_ip_other(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv6(&f, 60);
	ext(&f, 59, 0);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_IP_OTHER);
	assert_int_equal(fi.l4_proto, 59);
	assert_int_equal(fi.payload_len, 0);
}

static void test_frame_tcp_payload_on_sip_port(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 6, 0, 1, 0x4000);
	tcp(&f, 50000, 5060, 3);
	payload(&f, SIP);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_TCP);
	assert_int_equal(fi.l4_proto, 6);
	assert_int_equal(fi.l4_offset, 34);
	assert_int_equal(fi.payload_offset, 34 + 32);
	assert_int_equal(fi.payload_len, strlen(SIP));
	assert_int_equal(fi.src_port, 50000);
	assert_int_equal(fi.dst_port, 5060);

	/* Same over IPv6, source port 5060. */
	eth(&f);
	ipv6(&f, 6);
	tcp(&f, 5060, 50000, 0);
	payload(&f, SIP);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_SIP_TCP);
	assert_int_equal(fi.payload_offset, 54 + 20);
	assert_int_equal(fi.payload_len, strlen(SIP));
}

static void test_frame_tcp_without_payload_or_off_port_is_tcp_other(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 6, 0, 1, 0);
	tcp(&f, 50000, 5060, 0);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_TCP_OTHER);
	assert_int_equal(fi.payload_len, 0);

	eth(&f);
	ipv4(&f, 6, 0, 1, 0);
	tcp(&f, 50000, 443, 0);
	payload(&f, "GET / HTTP/1.1\r\n");
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_TCP_OTHER);
	assert_int_equal(fi.payload_len, 16);
}

static void test_frame_tcp_bad_data_offset_is_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	eth(&f);
	ipv4(&f, 6, 0, 1, 0);
	tcp(&f, 50000, 5060, 0);
	payload(&f, "abcd");
	finish(&f);
	f.b[34 + 12] = 4 << 4;
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	f.b[34 + 12] = 7 << 4; /* 28 bytes of header, 24 present */
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

static void test_frame_ipv4_first_and_later_fragments(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;
	char data[65];

	memset(data, 'a', 64);
	data[64] = '\0';

	/* First: MF, offset 0; its data starts with the UDP header. */
	eth(&f);
	vlan(&f, 0x8100, 42);
	ipv4(&f, 17, 1, 0xbeef, 0x2000);
	udp(&f, 5060, 5060);
	put(&f, data, 56);
	finish(&f);
	wr16(&f, 18 + 24 + 4, 1400); /* the whole datagram's UDP length */
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.ip_version, 4);
	assert_int_equal(fi.l4_proto, 17);
	assert_int_equal(fi.frag_id, 0xbeef);
	assert_int_equal(fi.frag_offset, 0);
	assert_true(fi.frag_more);
	assert_int_equal(fi.l3_offset, 18);
	assert_int_equal(fi.l4_offset, 0);
	assert_int_equal(fi.src_port, 0);
	assert_int_equal(fi.payload_offset, 18 + 24);
	assert_int_equal(fi.payload_len, 64);
	assert_memory_equal(fi.src_addr, SRC4, 4);

	/* Later, last: offset 64 bytes (8 units), MF clear, any length. */
	eth(&f);
	ipv4(&f, 17, 0, 0xbeef, 8);
	put(&f, data, 13);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.frag_id, 0xbeef);
	assert_int_equal(fi.frag_offset, 64);
	assert_false(fi.frag_more);
	assert_int_equal(fi.payload_offset, 34);
	assert_int_equal(fi.payload_len, 13);

	/* Middle: MF with offset. */
	wr16(&f, 14 + 6, 0x2000 | 8);
	f.n = 34 + 8;
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.frag_offset, 64);
	assert_true(fi.frag_more);
	assert_int_equal(fi.payload_len, 8);
}

/* frag_sip_udp: a first fragment whose UDP header (in it) names a SIP
 * port; the pipeline drops a SIP datagram it cannot reassemble. */
static void test_frame_first_fragment_names_sip_port(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;
	struct frame_config cfg = { .sip_ports = { 5080 }, .n_sip_ports = 1 };

	/* IPv4, destination 5060 */
	eth(&f);
	ipv4(&f, 17, 0, 0x51, 0x2000);
	udp(&f, 40000, 5060);
	for (int i = 0; i < 40; i++)
		put8(&f, 'x');
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_true(fi.frag_sip_udp);
	assert_int_equal(fi.src_port, 0);
	assert_int_equal(fi.dst_port, 0);
	/* the same ports, another SIP port configured */
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), 0);
	assert_false(fi.frag_sip_udp);

	/* a later fragment whose data happens to look like a UDP header */
	wr16(&f, 14 + 6, 0x2000 | 8);
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.frag_offset, 64);
	assert_false(fi.frag_sip_udp);

	/* TCP to 5060 is not UDP */
	eth(&f);
	ipv4(&f, 6, 0, 0x52, 0x2000);
	udp(&f, 5060, 5060);
	for (int i = 0; i < 40; i++)
		put8(&f, 'x');
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_false(fi.frag_sip_udp);

	/* IPv6: fragment header, then destination options, then UDP from
	 * 5080 (the SIP port configured) */
	eth(&f);
	ipv6(&f, 44);
	frag6(&f, 60, 0, 1, 0x0a0b0c0d);
	ext(&f, 17, 0);
	udp(&f, 5080, 40000);
	for (int i = 0; i < 32; i++)
		put8(&f, 'y');
	finish(&f);
	assert_int_equal(parse_n(&cfg, &f, f.n, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_true(fi.frag_sip_udp);
	assert_int_equal(parse(&f, &fi), 0);
	assert_false(fi.frag_sip_udp);

	/* IPv6 first fragment that ends inside its destination options:
	 * nothing to read the ports from */
	eth(&f);
	ipv6(&f, 44);
	frag6(&f, 60, 0, 1, 0x0a0b0c0e);
	ext(&f, 17, 1); /* 16 bytes, only 8 of them sent */
	f.n -= 8;
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_false(fi.frag_sip_udp);
}

static void test_frame_ipv4_bad_fragments_are_ebadmsg(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	/* Non-last fragment of 13 bytes: not a multiple of 8. */
	eth(&f);
	ipv4(&f, 17, 0, 7, 0x2000);
	for (int i = 0; i < 13; i++)
		put8(&f, 0);
	finish(&f);
	assert_int_equal(parse(&f, &fi), -EBADMSG);

	/* Empty non-last fragment. */
	f.n = 34;
	finish(&f);
	assert_int_equal(parse(&f, &fi), -EBADMSG);

	/* Last fragment ending beyond 65535.  Still described, so that the
	 * pipeline can drop the whole datagram. */
	eth(&f);
	ipv4(&f, 17, 0, 7, 0x1fff);
	for (int i = 0; i < 16; i++)
		put8(&f, 0);
	finish(&f);
	assert_int_equal(parse(&f, &fi), -EBADMSG);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.frag_id, 7);
	assert_int_equal(fi.frag_offset, 65528);
	assert_false(fi.frag_more);
	assert_int_equal(fi.payload_len, 16);
	assert_memory_equal(fi.src_addr, SRC4, 4);
}

static void test_frame_ipv6_first_and_later_fragments(void **state)
{
	(void)state;
	struct fb f;
	struct frame_info fi;

	/* First: hop-by-hop, fragment header (M, offset 0), then UDP. */
	eth(&f);
	ipv6(&f, 0);
	ext(&f, 44, 0);
	frag6(&f, 17, 0, 1, 0x01020304);
	udp(&f, 5060, 5060);
	for (int i = 0; i < 40; i++)
		put8(&f, 'z');
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.ip_version, 6);
	assert_int_equal(fi.l4_proto, 17);
	assert_int_equal(fi.frag_id, 0x01020304);
	assert_int_equal(fi.frag_offset, 0);
	assert_true(fi.frag_more);
	assert_int_equal(fi.l4_offset, 0);
	assert_int_equal(fi.payload_offset, 54 + 8 + 8);
	assert_int_equal(fi.payload_len, 48);

	/* Later and last: offset 48. */
	eth(&f);
	ipv6(&f, 44);
	frag6(&f, 17, 48, 0, 0x01020304);
	payload(&f, "tail of the SDP body");
	finish(&f);
	assert_int_equal(parse(&f, &fi), 0);
	assert_int_equal(fi.kind, FRAME_FRAGMENT);
	assert_int_equal(fi.frag_offset, 48);
	assert_false(fi.frag_more);
	assert_int_equal(fi.payload_offset, 62);
	assert_int_equal(fi.payload_len, 20);
	assert_memory_equal(fi.dst_addr, DST6, 16);

	/* A non-last fragment of 20 bytes is inconsistent. */
	f.b[54 + 3] |= 1;
	assert_int_equal(parse(&f, &fi), -EBADMSG);
}

/* Every proper prefix of an IP frame cuts a header or falls short of a
 * length field, so every one must be refused; none may read past its end. */
static void assert_all_truncations_ebadmsg(const struct fb *f)
{
	struct frame_info fi;

	for (size_t len = 0; len < f->n; len++) {
		int rc = parse_n(NULL, f, len, &fi);
		if (rc != -EBADMSG)
			fail_msg("truncated to %zu of %zu bytes: rc %d, kind %s", len, f->n, rc,
				 frame_kind_name((enum frame_kind)fi.kind));
	}
}

static void test_frame_truncated_frames_are_ebadmsg(void **state)
{
	(void)state;
	struct fb f;

	eth(&f);
	vlan(&f, 0x88a8, 1);
	vlan(&f, 0x8100, 2);
	ipv4(&f, 17, 2, 1, 0);
	udp(&f, 5060, 5060);
	payload(&f, SIP);
	finish(&f);
	assert_all_truncations_ebadmsg(&f);

	/* hop-by-hop -> routing -> AH (12 bytes) -> destination options -> TCP */
	eth(&f);
	ipv6(&f, 0);
	ext(&f, 43, 0);
	ext(&f, 51, 0);
	put8(&f, 60);
	put8(&f, 1); /* AH length: (1 + 2) * 4 = 12 bytes */
	for (int i = 0; i < 10; i++)
		put8(&f, 0);
	ext(&f, 6, 0);
	tcp(&f, 5060, 1, 1);
	payload(&f, SIP);
	finish(&f);
	{
		struct frame_info fi;
		assert_int_equal(parse(&f, &fi), 0);
		assert_int_equal(fi.kind, FRAME_SIP_TCP);
		assert_int_equal(fi.l4_proto, 6);
		assert_int_equal(fi.l4_offset, 54 + 8 + 8 + 12 + 8);
		assert_int_equal(fi.payload_offset, 54 + 36 + 24);
	}
	assert_all_truncations_ebadmsg(&f);

	eth(&f);
	ipv6(&f, 44);
	frag6(&f, 17, 8, 1, 9);
	payload(&f, "12345678");
	finish(&f);
	assert_all_truncations_ebadmsg(&f);
}

/* Random bytes, with a valid-looking Ethernet type now and then: any result
 * is allowed except reading past len or pointing outside it. */
static void test_frame_garbage_stays_in_bounds(void **state)
{
	(void)state;
	static const uint16_t types[] = {0x0800, 0x86dd, 0x8100, 0x88a8, 0x1234};
	uint32_t seed = 12345;
	struct fb f;
	struct frame_info fi;
	unsigned parsed = 0;

	for (int iter = 0; iter < 20000; iter++) {
		memset(&f, 0, sizeof(f));
		f.n = 14 + (size_t)(iter % 120);
		for (size_t i = 0; i < f.n; i++) {
			seed = seed * 1103515245u + 12345u;
			f.b[i] = (uint8_t)(seed >> 16);
		}
		wr16(&f, 12, types[iter % 5]);
		if (iter % 3 == 0 && types[iter % 5] == 0x0800)
			f.b[14] = 0x45;
		if (iter % 3 == 0 && types[iter % 5] == 0x86dd)
			f.b[14] = 0x60;
		int rc = parse(&f, &fi);
		assert_true(rc == 0 || rc == -EBADMSG);
		if (rc == 0) {
			parsed++;
			assert_true(fi.payload_offset + (size_t)fi.payload_len <= f.n);
			assert_true(fi.l3_offset <= f.n);
			assert_true(fi.l4_offset <= f.n);
			assert_true(fi.kind <= FRAME_SIP_TCP);
		}
	}
	assert_true(parsed > 0);
}

static void test_frame_kind_names(void **state)
{
	(void)state;
	assert_string_equal(frame_kind_name(FRAME_SIP_UDP), "sip-udp");
	assert_string_equal(frame_kind_name(FRAME_FRAGMENT), "fragment");
	assert_string_equal(frame_kind_name(FRAME_NOT_IP), "not-ip");
	assert_string_equal(frame_kind_name((enum frame_kind)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_ipv4_udp_sip_all_fields),
		cmocka_unit_test(test_frame_ipv4_ihl_options_move_l4),
		cmocka_unit_test(test_frame_ipv4_ethernet_padding_ignored),
		cmocka_unit_test(test_frame_ipv4_bad_ihl_is_ebadmsg),
		cmocka_unit_test(test_frame_ipv4_bad_total_length_is_ebadmsg),
		cmocka_unit_test(test_frame_udp_bad_length_is_ebadmsg),
		cmocka_unit_test(test_frame_sip_port_matches_source_or_destination),
		cmocka_unit_test(test_frame_vlan_8021q),
		cmocka_unit_test(test_frame_qinq_88a8_and_8100_outer),
		cmocka_unit_test(test_frame_vlan_stack_up_to_the_limit),
		cmocka_unit_test(test_frame_mpls_label_stack_to_ip),
		cmocka_unit_test(test_frame_non_ip_is_not_ip),
		cmocka_unit_test(test_frame_ipv4_icmp_is_ip_other),
		cmocka_unit_test(test_frame_ipv6_udp_all_fields),
		cmocka_unit_test(test_frame_ipv6_extension_chain_reaches_udp),
		cmocka_unit_test(test_frame_ipv6_hop_by_hop_not_first_is_ebadmsg),
		cmocka_unit_test(test_frame_ipv6_extension_chain_is_bounded),
		cmocka_unit_test(test_frame_ipv6_extension_beyond_payload_is_ebadmsg),
		cmocka_unit_test(test_frame_ipv6_no_next_header_is_ip_other),
		cmocka_unit_test(test_frame_tcp_payload_on_sip_port),
		cmocka_unit_test(test_frame_tcp_without_payload_or_off_port_is_tcp_other),
		cmocka_unit_test(test_frame_tcp_bad_data_offset_is_ebadmsg),
		cmocka_unit_test(test_frame_ipv4_first_and_later_fragments),
		cmocka_unit_test(test_frame_ipv4_bad_fragments_are_ebadmsg),
		cmocka_unit_test(test_frame_ipv6_first_and_later_fragments),
		cmocka_unit_test(test_frame_first_fragment_names_sip_port),
		cmocka_unit_test(test_frame_truncated_frames_are_ebadmsg),
		cmocka_unit_test(test_frame_garbage_stays_in_bounds),
		cmocka_unit_test(test_frame_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
