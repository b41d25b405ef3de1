/* The packet around a SIP reject: the request's own L2 header (MACs
 * swapped, VLAN tags kept), a fresh IPv4 or IPv6 header from the request's
 * destination to the Via-derived reply address (sipreply_dest), UDP from
 * the request's destination port to the reply port, and the sipreply_build
 * payload, with IP and UDP checksums computed in software.
 *
 * A reject copies every Via, From, To, Call-ID and CSeq of the request, so
 * a request whose headers alone came in fragmented gets a reject larger
 * than the link MTU.  Such a reject leaves as IP fragments (rte_ip_frag's
 * fragmenters, then made single-segment so that any PMD can send them)
 * rather than as a frame the next hop would drop.
 */
#ifndef TEISHI_DP_REJECT_H
#define TEISHI_DP_REJECT_H

#include "dp_pipeline.h"
#include "sipreply.h"

struct rte_mempool;

/* Hop limit / TTL of rejects. */
#define DP_REJECT_TTL 64

/* The largest reject payload (SIP) built: 16 Vias of 1 KB each still fit.
 * One over the first mbuf's room is chained and sent as fragments of at
 * most one mbuf each; at DP_REJECT_MIN_MTU that takes up to
 * DP_REJECT_MAX_FRAMES frames. */
#define DP_REJECT_MAX_SIP 16384
#define DP_REJECT_MIN_MTU 576
#define DP_REJECT_MAX_FRAMES 32

/* Build the reject for a blocked UDP message m (m->data, m->fi, m->msg)
 * into out[] with mbufs from mp.  The request's mbufs are not touched.
 * mtu is the egress port's MTU (IP header and payload, at least
 * DP_REJECT_MIN_MTU); an IP packet larger than that is sent as fragments
 * of at most mtu bytes, identified by ident (IPv4: its low 16 bits; IPv6:
 * the fragment header's 32 bits), which the caller varies per reject.
 * Returns the number of frames in out (1..DP_REJECT_MAX_FRAMES), or a
 * negative errno: -ENOMEM (pool empty), -EBADMSG (no usable Via or a
 * header the reply must copy), -E2BIG (more Vias than sip_msg holds),
 * -ENOSPC (the reply is over DP_REJECT_MAX_SIP), -EINVAL (bad status, mtu
 * below the minimum, not UDP, or more than DP_REJECT_MAX_FRAMES
 * fragments). */
int dp_reject_build(struct rte_mempool *mp, const struct dp_msg *m,
		    const struct sipreply_status *st, uint16_t mtu, uint32_t ident,
		    struct rte_mbuf *out[DP_REJECT_MAX_FRAMES]);

#endif
