/* libFuzzer harness: sip_scan() on arbitrary bytes, then
 * sip_uri_number_text() on every URI it reports.  Beyond ASan/UBSan it
 * checks the contract: every view lies inside the input, counts stay within
 * their arrays, and header_len within the message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip.h"

static const char *lo, *hi;

static void check_view(struct sip_view v)
{
	if (v.len == 0)
		return;
	if (v.p < lo || v.p > hi || v.len > (size_t)(hi - v.p))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg m;
	char text[64], big[4096];
	int rc;

	lo = (const char *)data;
	hi = lo + size;
	rc = sip_scan(lo, size, &m);
	if (rc != 0 && rc != -EPROTO && rc != -EBADMSG)
		abort();
	if (m.n_uris > SIP_MAX_URIS || m.n_via > SIP_MAX_VIA)
		abort();
	if (rc != 0)
		return 0;
	if (m.header_len == 0 || m.header_len > size || !(m.flags & SIP_F_REQUEST))
		abort();
	check_view(m.method_name);
	check_view(m.call_id);
	check_view(m.from);
	check_view(m.to);
	check_view(m.cseq);
	if (!m.call_id.len || !m.from.len || !m.to.len || !m.cseq.len || !m.n_via)
		abort();
	for (unsigned i = 0; i < m.n_via; i++)
		check_view(m.via[i]);
	if (m.n_uris == 0 || m.uris[0].hdr != SIP_HDR_RURI)
		abort();
	for (unsigned i = 0; i < m.n_uris; i++) {
		const struct sip_uri *u = &m.uris[i];
		int n1 = sip_uri_number_text(u, text, sizeof(text));
		int n2 = sip_uri_number_text(u, big, sizeof(big));

		check_view(u->uri);
		check_view(u->user);
		check_view(u->phone_context);
		if (u->hdr >= SIP_HDR__COUNT || u->uri.len == 0)
			abort();
		/* A larger buffer never changes a result that fit. */
		if (n1 >= 0 && (n2 != n1 || memcmp(text, big, (size_t)n1) != 0))
			abort();
		if (n2 > (int)u->user.len)
			abort();
	}
	return 0;
}
