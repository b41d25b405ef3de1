/* libFuzzer harness: the verdict on arbitrary messages, against a small
 * list with exact, prefix and emergency-adjacent entries.  Beyond
 * ASan/UBSan it checks that verdict_decide() and verdict_decide_bulk()
 * agree field for field, that a block names a URI of the message with the
 * header, side and number it came from, and that the entry it matched is
 * what ntrie_lookup() gives for that number. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntrie.h"
#include "sip.h"
#include "verdict.h"

static struct ntrie *list;

static void list_add(const char *digits, enum ntrie_kind kind, uint32_t id)
{
	if (ntrie_insert(list, ntrie_key(digits, strlen(digits)), kind, NTRIE_VALUE(1, id)) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	list = ntrie_create(NULL);
	if (list == NULL)
		abort();
	list_add("81312345678", NTRIE_EXACT, 1);
	list_add("815012345678", NTRIE_EXACT, 2);
	list_add("8131234", NTRIE_PREFIX, 3);
	list_add("8190", NTRIE_PREFIX, 4);
	list_add("1", NTRIE_PREFIX, 5);
	list_add("81110", NTRIE_EXACT, 6);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict_config cfg;
	struct verdict one, bulk;
	struct ntrie_match m;
	struct sip_msg msg;
	const struct sip_msg *msgs[1] = { &msg };
	int rc;

	verdict_config_default(&cfg);
	rc = sip_scan((const char *)data, size, &msg);
	verdict_decide(&cfg, list, rc, &msg, &one);
	if (verdict_decide_bulk(&cfg, list, &rc, msgs, 1, &bulk) != (one.action == VERDICT_BLOCK))
		abort();
	if (one.action != bulk.action || one.reason != bulk.reason || one.uri != bulk.uri ||
	    one.hdr != bulk.hdr || one.side != bulk.side ||
	    one.match.value != bulk.match.value || one.match.kind != bulk.match.kind ||
	    one.match.len != bulk.match.len || strcmp(one.number.digits, bulk.number.digits) != 0)
		abort();
	if (one.action != VERDICT_BLOCK)
		return 0;
	if (rc != 0 || one.uri >= msg.n_uris || msg.uris[one.uri].hdr != one.hdr ||
	    one.side != verdict_hdr_side(one.hdr) || one.number.len == 0 ||
	    one.number.len != strlen(one.number.digits))
		abort();
	if (!ntrie_lookup(list, ntrie_key(one.number.digits, one.number.len), &m) ||
	    m.value != one.match.value || m.kind != one.match.kind || m.len != one.match.len)
		abort();
	return 0;
}
