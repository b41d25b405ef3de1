#include "fragcheck.h"

#include <string.h>

static bool same_frag(const struct fragcheck_frag *a, const struct fragcheck_frag *b)
{
	return a->off == b->off && a->len == b->len && a->more == b->more &&
	       memcmp(a->data, b->data, a->len) == 0;
}

enum fragcheck_result fragcheck_add(const struct fragcheck_frag *held, unsigned n,
				    const struct fragcheck_frag *nf, uint32_t max_end)
{
	uint64_t nend = (uint64_t)nf->off + nf->len;
	enum fragcheck_result worst = FRAGCHECK_OK;

	if (nend > max_end)
		return FRAGCHECK_OVERSIZE;
	for (unsigned i = 0; i < n; i++) {
		const struct fragcheck_frag *h = &held[i];
		uint64_t hend = (uint64_t)h->off + h->len;

		if (same_frag(h, nf))
			return FRAGCHECK_DUP;
		/* A last fragment fixes the datagram's end: nothing may lie
		 * beyond it and no other last fragment may disagree. */
		if (!h->more && (nend > hend || !nf->more))
			return FRAGCHECK_BAD;
		if (!nf->more && hend > nend)
			return FRAGCHECK_BAD;
		if (nf->off >= hend || h->off >= nend)
			continue;
		uint32_t lo = nf->off > h->off ? nf->off : h->off;
		uint32_t hi = (uint32_t)(nend < hend ? nend : hend);
		if (memcmp(nf->data + (lo - nf->off), h->data + (lo - h->off), hi - lo) != 0)
			worst = FRAGCHECK_CONFLICT;
		else if (worst == FRAGCHECK_OK)
			worst = FRAGCHECK_OVERLAP;
	}
	return worst;
}

uint32_t fragcheck_complete(const struct fragcheck_frag *held, unsigned n)
{
	uint64_t end = 0;
	bool have_last = false;

	for (unsigned i = 0; i < n; i++) {
		if (!held[i].more) {
			end = (uint64_t)held[i].off + held[i].len;
			have_last = true;
		}
	}
	if (!have_last)
		return 0;
	/* Advance over the covered prefix; n is small (a few fragments). */
	uint64_t pos = 0;
	for (bool moved = true; pos < end && moved;) {
		moved = false;
		for (unsigned i = 0; i < n; i++) {
			uint64_t e = (uint64_t)held[i].off + held[i].len;
			if (held[i].off <= pos && e > pos) {
				pos = e;
				moved = true;
			}
		}
	}
	return pos >= end ? (uint32_t)end : 0;
}

const char *fragcheck_result_name(enum fragcheck_result r)
{
	switch (r) {
	case FRAGCHECK_OK: return "ok";
	case FRAGCHECK_DUP: return "duplicate";
	case FRAGCHECK_OVERLAP: return "overlap";
	case FRAGCHECK_CONFLICT: return "conflict";
	case FRAGCHECK_OVERSIZE: return "oversize";
	case FRAGCHECK_BAD: return "bad";
	}
	return "?";
}
