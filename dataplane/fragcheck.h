/* The checks DPDK 22.11's rte_ip_frag does not make, done before a
 * fragment is handed to it: overlap, conflicting contents, oversize
 * datagrams and inconsistent last fragments (RFC 5722, RFC 791).
 *
 * Pure C, no DPDK.  A fragment is described by its offset and length in
 * the datagram's fragmentable part and a pointer to its bytes; the caller
 * keeps the bytes alive while they are held.
 */
#ifndef TEISHI_FRAGCHECK_H
#define TEISHI_FRAGCHECK_H

#include <stdbool.h>
#include <stdint.h>

struct fragcheck_frag {
	const uint8_t *data; /* len bytes of fragment data */
	uint32_t off;        /* byte offset in the fragmentable part */
	uint32_t len;
	bool more;           /* MF set: not the last fragment */
};

enum fragcheck_result {
	FRAGCHECK_OK = 0,   /* disjoint from every held fragment: hold it */
	FRAGCHECK_DUP,      /* identical to a held fragment (offset, length, MF, bytes) */
	FRAGCHECK_OVERLAP,  /* overlaps a held fragment, same bytes where they meet */
	FRAGCHECK_CONFLICT, /* overlaps a held fragment with different bytes */
	FRAGCHECK_OVERSIZE, /* would end beyond max_end */
	FRAGCHECK_BAD,      /* two different last fragments, or data beyond the last one */
};

/* Check nf against held[0..n).  max_end is the largest end offset the
 * datagram may have (IPv4: 65535 - IHL; IPv6: 65535 - the unfragmentable
 * extension headers - 8).  Returns the most serious finding: CONFLICT over
 * OVERLAP; OVERSIZE and BAD before both. */
enum fragcheck_result fragcheck_add(const struct fragcheck_frag *held, unsigned n,
				    const struct fragcheck_frag *nf, uint32_t max_end);

/* The datagram's total fragmentable length when held[0..n) (duplicates
 * allowed) cover [0, end of the last fragment) with no gap, else 0. */
uint32_t fragcheck_complete(const struct fragcheck_frag *held, unsigned n);

const char *fragcheck_result_name(enum fragcheck_result r);

#endif
