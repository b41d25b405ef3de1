/* The one rule that decides whether a SIP message is blocked.
 *
 * An initial INVITE is blocked when any checked number matches the trie,
 * exactly or by prefix.  Called-side numbers (Request-URI, To) that are
 * emergency codes (110/118/119) exempt the whole message.  Non-INVITEs,
 * in-dialog INVITEs and unparsable SIP pass with a reason.  teishi-dp,
 * teishi-inspect and teishid all decide through here; the XDP program is
 * the only other implementation and is held to this one by tests.
 */
#ifndef TEISHI_VERDICT_H
#define TEISHI_VERDICT_H

#include <stdint.h>

#include "ntrie.h"
#include "number.h"
#include "sip.h"

enum verdict_action {
	VERDICT_PASS = 0,
	VERDICT_BLOCK,
};

/* Why the verdict is what it is; each reason is a counter in the dataplanes. */
enum verdict_reason {
	VERDICT_R_NOT_SIP = 0,     /* sip_scan said -EBADMSG */
	VERDICT_R_RESPONSE,        /* a SIP response */
	VERDICT_R_NOT_INVITE,      /* a request other than INVITE */
	VERDICT_R_IN_DIALOG,       /* INVITE with a To tag */
	VERDICT_R_EMERGENCY,       /* called side is 110/118/119 */
	VERDICT_R_NO_MATCH,        /* initial INVITE, nothing matched */
	VERDICT_R_MATCH,           /* blocked */
	VERDICT_R_TOO_MANY_URIS,   /* initial INVITE with more number-bearing URIs than
				    * sip_msg holds (SIP_MAX_URIS): those it holds
				    * matched nothing, the rest went unchecked */
	VERDICT_R__COUNT,
};

enum verdict_side {
	VERDICT_SIDE_CALLED = 0,   /* Request-URI, To */
	VERDICT_SIDE_CALLING,      /* From, PAI, PPI, RPID, Diversion, History-Info */
};

struct verdict_config {
	uint32_t headers; /* bit (1 << enum sip_hdr) set: numbers there are checked */
};

#define VERDICT_HEADERS_ALL ((1u << SIP_HDR__COUNT) - 1)

struct verdict {
	uint8_t action; /* enum verdict_action */
	uint8_t reason; /* enum verdict_reason */
	uint8_t side;   /* enum verdict_side, on a match */
	uint8_t hdr;    /* enum sip_hdr of the match */
	uint8_t uri;    /* index into sip_msg.uris of the match */
	struct num number;        /* the canonical number that matched */
	struct ntrie_match match; /* the entry it matched */
};

void verdict_config_default(struct verdict_config *cfg);
/* Parse "all" or a comma list of header names (ruri,to,from,pai,ppi,rpid,
 * diversion,history-info) into cfg->headers.  -EINVAL names the bad token. */
int verdict_config_headers(struct verdict_config *cfg, const char *list, char *err, size_t errlen);

enum verdict_side verdict_hdr_side(enum sip_hdr h);

/* Decide for one scanned message; scan_rc is what sip_scan() returned.
 * Fills v and returns v->action. */
int verdict_decide(const struct verdict_config *cfg, const struct ntrie *t, int scan_rc,
		   const struct sip_msg *msg, struct verdict *v);

/* Decide for n messages at once, resolving all their numbers with one bulk
 * lookup.  Returns the number blocked. */
unsigned verdict_decide_bulk(const struct verdict_config *cfg, const struct ntrie *t,
			     const int *scan_rc, const struct sip_msg *const *msgs, unsigned n,
			     struct verdict *v);

const char *verdict_reason_name(enum verdict_reason r);
const char *verdict_side_name(enum verdict_side s);

#endif
