/* The packet around a SIP reject: the request's own L2 header (MACs
 * swapped, VLAN tags kept), a fresh IPv4 or IPv6 header from the request's
 * destination to the Via-derived reply address (sipreply_dest), UDP from
 * the request's destination port to the reply port, and the sipreply_build
 * payload, with IP and UDP checksums computed in software.
 */
#ifndef TEISHI_DP_REJECT_H
#define TEISHI_DP_REJECT_H

#include "dp_pipeline.h"
#include "sipreply.h"

struct rte_mempool;

/* Hop limit / TTL of rejects. */
#define DP_REJECT_TTL 64

/* Build the reject for a blocked UDP message m (m->data, m->fi, m->msg)
 * into a new mbuf from mp.  The request's mbufs are not touched.
 * Returns the mbuf, or NULL with errno set: ENOMEM (pool empty), EBADMSG
 * (no usable Via or a header the reply must copy), ENOSPC (the reply does
 * not fit in one mbuf), EINVAL (bad status or not UDP). */
struct rte_mbuf *dp_reject_build(struct rte_mempool *mp, const struct dp_msg *m,
				 const struct sipreply_status *st);

#endif
