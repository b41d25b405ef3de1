#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_reject.h"

/* A reply that does not fit the first mbuf is built here, then copied into
 * a chain (each worker lcore has its own). */
static _Thread_local char big_reply[DP_REJECT_MAX_SIP];

/* Append len bytes to the chain that starts at r, in new segments from mp
 * after the room left in the last one.  Returns 0 or -ENOMEM (r is then
 * unchanged in content but may hold extra empty segments: free it). */
static int append_chain(struct rte_mempool *mp, struct rte_mbuf *r, const char *p, uint32_t len)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(r);

	while (len > 0) {
		uint16_t room = rte_pktmbuf_tailroom(last), k;

		if (room == 0) {
			struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);

			if (seg == NULL || rte_pktmbuf_chain(r, seg) < 0) {
				rte_pktmbuf_free(seg);
				return -ENOMEM;
			}
			last = seg;
			continue;
		}
		k = len < room ? (uint16_t)len : room;
		memcpy(rte_pktmbuf_mtod_offset(last, char *, last->data_len), p, k);
		last->data_len = (uint16_t)(last->data_len + k);
		r->pkt_len += k;
		p += k;
		len -= k;
	}
	return 0;
}

/* The whole reject as one frame, L2 included, in one mbuf or (a reply
 * over one mbuf's room) a chain; NULL with errno set. */
static struct rte_mbuf *reject_frame(struct rte_mempool *mp, const struct dp_msg *m,
				     const struct sipreply_status *st)
{
	const struct frame_info *fi = &m->fi;
	struct sipreply_dest d;
	struct rte_mbuf *r;
	uint32_t l2 = fi->l3_offset;
	uint32_t l3 = fi->ip_version == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint32_t hdr;
	uint8_t *p;
	int n, rc;

	if (m->tcp || fi->l4_proto != IPPROTO_UDP || (fi->ip_version != 4 && fi->ip_version != 6) ||
	    l2 < RTE_ETHER_HDR_LEN || l2 > m->len) {
		errno = EINVAL;
		return NULL;
	}
	/* Labels name a path one way: a reply under the request's stack would
	 * take the wrong path, so a blocked INVITE under MPLS gets none (it
	 * is dropped, and counted with the rejects that could not be built). */
	if (fi->n_mpls) {
		errno = ENOTSUP;
		return NULL;
	}
	rc = sipreply_dest(&m->msg, fi->ip_version, fi->src_addr, fi->src_port, &d);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	r = rte_pktmbuf_alloc(mp);
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p = rte_pktmbuf_mtod(r, uint8_t *);
	hdr = l2 + l3 + sizeof(struct rte_udp_hdr);
	if (rte_pktmbuf_tailroom(r) < hdr + 64)
		goto nospace;
	n = sipreply_build(&m->msg, st, (char *)p + hdr, rte_pktmbuf_tailroom(r) - hdr);
	if (n >= 0) {
		r->data_len = (uint16_t)(hdr + (uint32_t)n);
		r->pkt_len = r->data_len;
	} else if (n == -ENOSPC) {
		n = sipreply_build(&m->msg, st, big_reply, sizeof(big_reply));
		if (n >= 0) {
			r->data_len = (uint16_t)hdr;
			r->pkt_len = hdr;
			if (append_chain(mp, r, big_reply, (uint32_t)n) < 0) {
				rte_pktmbuf_free(r);
				errno = ENOMEM;
				return NULL;
			}
		}
	}
	if (n < 0) {
		rte_pktmbuf_free(r);
		errno = -n;
		return NULL;
	}

	/* Same L2 path back: the request's header with the MACs swapped
	 * keeps the VLAN tags (802.1Q, QinQ) and the ethertype. */
	memcpy(p, m->data, l2);
	memcpy(p, m->data + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	memcpy(p + RTE_ETHER_ADDR_LEN, m->data, RTE_ETHER_ADDR_LEN);

	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + l2 + l3);
	uint16_t udp_len = (uint16_t)(sizeof(*udp) + (uint32_t)n);

	udp->src_port = rte_cpu_to_be_16(fi->dst_port);
	udp->dst_port = rte_cpu_to_be_16(d.port);
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	if (fi->ip_version == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + l2);
		const struct rte_ipv4_hdr *req = (const struct rte_ipv4_hdr *)(m->data + l2);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = req->type_of_service;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(l3 + udp_len));
		ip->time_to_live = DP_REJECT_TTL;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, fi->dst_addr, 4);
		memcpy(&ip->dst_addr, d.addr, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp->dgram_cksum = r->nb_segs == 1 ? rte_ipv4_udptcp_cksum(ip, udp)
						   : rte_ipv4_udptcp_cksum_mbuf(r, ip, l2 + l3);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + l2);
		const struct rte_ipv6_hdr *req = (const struct rte_ipv6_hdr *)(m->data + l2);
		uint32_t tc = rte_be_to_cpu_32(req->vtc_flow) & 0x0ff00000u;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | tc);
		ip->payload_len = rte_cpu_to_be_16(udp_len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = DP_REJECT_TTL;
		memcpy(ip->src_addr, fi->dst_addr, 16);
		memcpy(ip->dst_addr, d.addr, 16);
		udp->dgram_cksum = r->nb_segs == 1 ? rte_ipv6_udptcp_cksum(ip, udp)
						   : rte_ipv6_udptcp_cksum_mbuf(r, ip, l2 + l3);
	}
	return r;

nospace:
	rte_pktmbuf_free(r);
	errno = ENOSPC;
	return NULL;
}

static void free_frames(struct rte_mbuf **f, int n)
{
	for (int i = 0; i < n; i++)
		rte_pktmbuf_free(f[i]);
}

/* Split the frame r (L2 header of l2 bytes, then IP) into IP fragments of
 * at most mtu bytes with rte_ip_frag, and give each the L2 header back.
 * The fragmenters chain indirect mbufs onto a header mbuf; each fragment
 * is made one segment again, since not every PMD sends chains.  Consumes
 * r.  Returns the count or a negative errno. */
static int fragment(struct rte_mempool *mp, struct rte_mbuf *r, uint32_t l2, uint8_t ip_version,
		    uint16_t mtu, uint32_t ident, struct rte_mbuf *out[DP_REJECT_MAX_FRAMES])
{
	uint8_t l2hdr[RTE_PKTMBUF_HEADROOM];
	uint16_t ip_mtu;
	int n;

	if (l2 > sizeof(l2hdr)) {
		rte_pktmbuf_free(r);
		return -EINVAL;
	}
	memcpy(l2hdr, rte_pktmbuf_mtod(r, void *), l2);
	rte_pktmbuf_adj(r, (uint16_t)l2);
	/* The fragmenters want fragment payloads that are multiples of 8. */
	if (ip_version == 4) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(r, struct rte_ipv4_hdr *);
		uint16_t hl = sizeof(*ip);

		ip->packet_id = rte_cpu_to_be_16((uint16_t)ident);
		ip_mtu = (uint16_t)(hl + ((mtu - hl) & ~7u));
		n = rte_ipv4_fragment_packet(r, out, DP_REJECT_MAX_FRAMES, ip_mtu, mp, mp);
	} else {
		uint16_t hl = sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_ipv6_fragment_ext);

		ip_mtu = (uint16_t)(hl + ((mtu - hl) & ~7u));
		n = rte_ipv6_fragment_packet(r, out, DP_REJECT_MAX_FRAMES, ip_mtu, mp, mp);
	}
	rte_pktmbuf_free(r); /* the fragments hold their own references */
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *f = out[i];
		uint8_t *p;

		if (rte_pktmbuf_linearize(f) < 0 || (p = (uint8_t *)rte_pktmbuf_prepend(f, (uint16_t)l2)) == NULL) {
			free_frames(out, n);
			return -ENOSPC;
		}
		memcpy(p, l2hdr, l2);
		if (ip_version == 4) {
			struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + l2);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else {
			/* rte_ipv6_fragment_packet leaves the identification 0;
			 * RFC 8200 4.5 wants one per datagram. */
			struct rte_ipv6_fragment_ext *fh =
				(struct rte_ipv6_fragment_ext *)(p + l2 + sizeof(struct rte_ipv6_hdr));

			fh->id = rte_cpu_to_be_32(ident);
		}
	}
	return n;
}

int dp_reject_build(struct rte_mempool *mp, const struct dp_msg *m,
		    const struct sipreply_status *st, uint16_t mtu, uint32_t ident,
		    struct rte_mbuf *out[DP_REJECT_MAX_FRAMES])
{
	struct rte_mbuf *r;
	uint32_t l2 = m->fi.l3_offset;
	uint16_t room;

	if (mtu < DP_REJECT_MIN_MTU)
		return -EINVAL;
	r = reject_frame(mp, m, st);
	if (r == NULL)
		return -errno;
	if (r->nb_segs == 1 && r->pkt_len - l2 <= mtu) {
		out[0] = r;
		return 1;
	}
	/* A chain is sent as fragments that each fit one mbuf, below the
	 * MTU when the mbufs are smaller: not every PMD sends chains. */
	room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	if (r->nb_segs > 1 && room < mtu)
		mtu = room;
	return fragment(mp, r, l2, m->fi.ip_version, mtu, ident, out);
}
