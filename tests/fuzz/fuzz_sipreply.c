/* libFuzzer harness: the reject path on arbitrary requests.  A blocked
 * INVITE is attacker-controlled, and its Via, From, To, Call-ID and CSeq
 * are copied into the reply.  Beyond ASan/UBSan it checks that a reply
 * never carries a line break of the request's (every '\n' ends a header
 * line with "\r\n", the empty line comes only at the end), that it names
 * the request's Call-ID, that a buffer one byte short gives -ENOSPC, and
 * that the reply address is always complete. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip.h"
#include "sipreply.h"

static char reply[1 << 17], shorter[1 << 17];

static void check_reply(const struct sip_msg *m, const char *r, int n)
{
	const char *blank = memmem(r, (size_t)n, "\r\n\r\n", 4);

	if (n < 4 || blank == NULL || blank != r + n - 4)
		abort();
	for (int i = 0; i < n; i++) {
		if (r[i] == '\n' && (i == 0 || r[i - 1] != '\r'))
			abort();
		if (r[i] == '\r' && (i + 1 == n || r[i + 1] != '\n'))
			abort();
	}
	/* A folded Call-ID is unfolded: only an unfolded one is there as is. */
	if (memchr(m->call_id.p, '\n', m->call_id.len) == NULL &&
	    memmem(r, (size_t)n, m->call_id.p, m->call_id.len) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sipreply_status st = { 608, "Rejected", "Number suspended" };
	static const uint8_t src4[16] = { 192, 0, 2, 1 }, src6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct sipreply_dest d;
	struct sipreply_via via;
	struct sip_msg m;
	int n;

	if (sip_scan((const char *)data, size, &m) != 0)
		return 0;
	if (sipreply_top_via(&m, &via) == 0 && via.host.len == 0)
		abort();
	if (sipreply_dest(&m, 4, src4, 5060, &d) == 0 && (d.port == 0 || d.ip_version != 4))
		abort();
	if (sipreply_dest(&m, 6, src6, 5060, &d) == 0 && (d.port == 0 || d.ip_version != 6))
		abort();
	n = sipreply_build(&m, &st, reply, sizeof(reply));
	if (n == -EBADMSG || n == -E2BIG)
		return 0;
	if (n <= 0)
		abort();
	check_reply(&m, reply, n);
	if (sipreply_build(&m, &st, shorter, (size_t)n - 1) != -ENOSPC)
		abort();
	if (sipreply_build(&m, &st, shorter, (size_t)n) != n || memcmp(reply, shorter, (size_t)n) != 0)
		abort();
	return 0;
}
