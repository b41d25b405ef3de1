#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verdict.h"

/* Numbers per message we resolve in one bulk lookup; matches SIP_MAX_URIS so
 * no scanned URI is ever skipped. */
#define VERDICT_BULK_MSGS 32

static const char *const reason_names[VERDICT_R__COUNT] = {
	[VERDICT_R_NOT_SIP] = "not-sip",
	[VERDICT_R_RESPONSE] = "response",
	[VERDICT_R_NOT_INVITE] = "not-invite",
	[VERDICT_R_IN_DIALOG] = "in-dialog",
	[VERDICT_R_EMERGENCY] = "emergency",
	[VERDICT_R_NO_MATCH] = "no-match",
	[VERDICT_R_MATCH] = "match",
	[VERDICT_R_TOO_MANY_URIS] = "too-many-uris",
};

/* Short names accepted by --headers, in enum sip_hdr order. */
static const char *const hdr_tokens[SIP_HDR__COUNT] = {
	[SIP_HDR_RURI] = "ruri",
	[SIP_HDR_TO] = "to",
	[SIP_HDR_FROM] = "from",
	[SIP_HDR_PAI] = "pai",
	[SIP_HDR_PPI] = "ppi",
	[SIP_HDR_RPID] = "rpid",
	[SIP_HDR_DIVERSION] = "diversion",
	[SIP_HDR_HISTINFO] = "history-info",
};

const char *verdict_reason_name(enum verdict_reason r)
{
	return (unsigned)r < VERDICT_R__COUNT ? reason_names[r] : "?";
}

const char *verdict_side_name(enum verdict_side s)
{
	return s == VERDICT_SIDE_CALLED ? "called" : "calling";
}

void verdict_config_default(struct verdict_config *cfg)
{
	cfg->headers = VERDICT_HEADERS_ALL;
}

static int header_token(const char *s, size_t len)
{
	for (int h = 0; h < SIP_HDR__COUNT; h++)
		if (strlen(hdr_tokens[h]) == len && strncasecmp(hdr_tokens[h], s, len) == 0)
			return h;
	/* The long names sip_hdr_name() prints are accepted too. */
	for (int h = 0; h < SIP_HDR__COUNT; h++) {
		const char *n = sip_hdr_name(h);
		if (n && strlen(n) == len && strncasecmp(n, s, len) == 0)
			return h;
	}
	return -1;
}

int verdict_config_headers(struct verdict_config *cfg, const char *list, char *err, size_t errlen)
{
	uint32_t mask = 0;
	const char *p = list;

	if (strcasecmp(list, "all") == 0) {
		cfg->headers = VERDICT_HEADERS_ALL;
		return 0;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int h = header_token(p, len);

		if (h < 0) {
			if (err)
				snprintf(err, errlen,
					 "unknown header \"%.*s\" (valid: all, ruri, to, from, pai, ppi, rpid, diversion, history-info)",
					 (int)len, p);
			return -EINVAL;
		}
		mask |= 1u << h;
		p += len + (e != NULL);
	}
	if (mask == 0) {
		if (err)
			snprintf(err, errlen, "empty header list");
		return -EINVAL;
	}
	cfg->headers = mask;
	return 0;
}

enum verdict_side verdict_hdr_side(enum sip_hdr h)
{
	return h == SIP_HDR_RURI || h == SIP_HDR_TO ? VERDICT_SIDE_CALLED : VERDICT_SIDE_CALLING;
}

/* The number a URI carries and its trie key, or -1 when its user part is
 * not a number: num_parse() of sip_uri_number_text().  That text is the
 * user part up to its first ';' when no '%' comes before it, so such a
 * user part is parsed where it lies (num_parse_user) instead of being
 * copied, and the key is its packed digits and length.  A '%' makes that
 * parse fail (it is no digit or separator): only then, or when the flag
 * says there are escapes, or when the text is too long for
 * sip_uri_number_text's buffer, is the user part decoded into a copy and
 * parsed again, by the same in-place parser (the copy holds no ';' it
 * could stop at: an escaped ';' is text, which no number holds). */
static int uri_number(const struct sip_uri *u, struct num *n, uint64_t *key)
{
	const char *p = u->user.p;
	char text[64];
	size_t len = u->user.len, tl;
	uint64_t bcd;
	int rc, tlen;

	if (len == 0 || p == NULL)
		return -1;
	if (!(u->flags & SIP_URI_ESCAPED)) {
		rc = num_parse_user(p, len, u->phone_context.p, u->phone_context.len, n, &tl,
				    &bcd, NULL, 0);
		if (tl <= sizeof(text)) {
			if (rc == 0) {
				/* As ntrie_key(n->digits, n->len): 1 to 15
				 * digits, packed the same way. */
				*key = bcd | n->len;
				return 0;
			}
			if (memchr(p, '%', tl) == NULL)
				return -1;
		}
	}
	tlen = sip_uri_number_text(u, text, sizeof(text));
	if (tlen <= 0)
		return -1;
	if (memchr(text, ';', (size_t)tlen) != NULL)
		return -1;
	if (num_parse_user(text, (size_t)tlen, u->phone_context.p, u->phone_context.len, n, &tl,
			   &bcd, NULL, 0) < 0)
		return -1;
	*key = bcd | n->len;
	return 0;
}

/* Everything but the lookup: the verdicts that need no trie. Returns 1 when
 * v is final. */
static int decide_without_lookup(int scan_rc, const struct sip_msg *msg, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->action = VERDICT_PASS;
	if (scan_rc == -EPROTO)
		v->reason = VERDICT_R_RESPONSE;
	else if (scan_rc < 0)
		v->reason = VERDICT_R_NOT_SIP;
	else if (msg->method != SIP_METHOD_INVITE)
		v->reason = VERDICT_R_NOT_INVITE;
	else if (!(msg->flags & SIP_F_INITIAL))
		v->reason = VERDICT_R_IN_DIALOG;
	else
		return 0;
	return 1;
}

/* Collect the keys of one initial INVITE's checked numbers.  Returns the
 * count, or -1 when a called-side emergency code exempts the message. */
static int collect_keys(const struct verdict_config *cfg, const struct sip_msg *msg,
			uint64_t *keys, uint8_t *uri_idx, struct num *nums)
{
	/* The first keys collected, for the duplicate test; 0 is never a
	 * key.  seen[4] takes the writes once four are held. */
	uint64_t seen[5] = { 0 };
	int n = 0, dup;

	for (unsigned i = 0; i < msg->n_uris; i++) {
		const struct sip_uri *u = &msg->uris[i];
		int checked = (cfg->headers >> u->hdr) & 1;
		int called = verdict_hdr_side(u->hdr) == VERDICT_SIDE_CALLED;
		struct num *num = &nums[n]; /* kept only when its key is */

		if (!checked && !called)
			continue;
		if (uri_number(u, num, &keys[n]) < 0)
			continue;
		/* One test, not a branch on the side first: URIs of either
		 * side come in no fixed order. */
		if ((called & (num->cls == NUM_CLASS_SERVICE)) && num_is_emergency(num))
			return -1;
		if (!checked)
			continue;
		if (keys[n] == 0)
			continue;
		/* The caller's number usually comes in From, PAI, PPI and
		 * RPID alike, and the callee's in the Request-URI and To: a
		 * key already collected is not looked up again.  Its first
		 * URI is the one a match reports, as without this.  Against
		 * the first four keys the test is a fixed set of compares
		 * and the count moves by its outcome, with no branch:
		 * whether a number repeats differs from one URI to the next. */
		dup = (keys[n] == seen[0]) | (keys[n] == seen[1]) | (keys[n] == seen[2]) |
		      (keys[n] == seen[3]);
		for (int k = 4; k < n; k++)
			dup |= keys[k] == keys[n];
		seen[n < 4 ? n : 4] = keys[n];
		uri_idx[n] = (uint8_t)i;
		n += !dup;
	}
	return n;
}

/* num is the number parsed for the key that matched: a matched URI is
 * never decoded and parsed a second time. */
static void record_match(const struct sip_msg *msg, unsigned uri, const struct ntrie_match *m,
			 const struct num *num, struct verdict *v)
{
	const struct sip_uri *u = &msg->uris[uri];

	v->action = VERDICT_BLOCK;
	v->reason = VERDICT_R_MATCH;
	v->uri = (uint8_t)uri;
	v->hdr = u->hdr;
	v->side = verdict_hdr_side(u->hdr);
	v->match = *m;
	v->number = *num;
}

/* One message up to its lookup: fills v and returns the keys it needs
 * looked up (0 or more, written from keys/uri_idx/nums), or -1 when v is
 * already final (not an initial INVITE, or an emergency exemption). */
static int prepare(const struct verdict_config *cfg, int scan_rc, const struct sip_msg *msg,
		   struct verdict *v, uint64_t *keys, uint8_t *uri_idx, struct num *nums)
{
	int k;

	if (decide_without_lookup(scan_rc, msg, v))
		return -1;
	k = collect_keys(cfg, msg, keys, uri_idx, nums);
	if (k < 0) {
		v->reason = VERDICT_R_EMERGENCY;
		return -1;
	}
	/* Unless a match blocks it, a message whose URIs did not all fit
	 * was not checked whole: the caller decides (teishi-dp: as it
	 * decides for unparsable SIP). */
	v->reason = msg->flags & SIP_F_URIS_TRUNCATED ? VERDICT_R_TOO_MANY_URIS : VERDICT_R_NO_MATCH;
	return k;
}

/* The first of one message's k lookups that matched blocks it.  Returns 1
 * when one did. */
static int block_on_first_match(const struct sip_msg *msg, const struct ntrie_match *m,
				const uint8_t *uri_idx, const struct num *nums, unsigned k,
				struct verdict *v)
{
	for (unsigned i = 0; i < k; i++) {
		if (m[i].kind != 0) {
			record_match(msg, uri_idx[i], &m[i], &nums[i], v);
			return 1;
		}
	}
	return 0;
}

/* One message: verdict_decide_bulk() for n = 1, without the batch
 * bookkeeping (teishi-inspect and the tools decide message by message). */
int verdict_decide(const struct verdict_config *cfg, const struct ntrie *t, int scan_rc,
		   const struct sip_msg *msg, struct verdict *v)
{
	uint64_t keys[SIP_MAX_URIS];
	uint8_t uri_idx[SIP_MAX_URIS];
	struct ntrie_match m[SIP_MAX_URIS];
	struct num nums[SIP_MAX_URIS];
	int k = prepare(cfg, scan_rc, msg, v, keys, uri_idx, nums);

	if (k > 0 && t != NULL && ntrie_lookup_bulk(t, keys, (unsigned)k, m) > 0)
		block_on_first_match(msg, m, uri_idx, nums, (unsigned)k, v);
	return v->action;
}

unsigned verdict_decide_bulk(const struct verdict_config *cfg, const struct ntrie *t,
			     const int *scan_rc, const struct sip_msg *const *msgs, unsigned n,
			     struct verdict *v)
{
	uint64_t keys[VERDICT_BULK_MSGS * SIP_MAX_URIS];
	uint8_t uri_idx[VERDICT_BULK_MSGS * SIP_MAX_URIS];
	uint16_t first[VERDICT_BULK_MSGS + 1];
	struct ntrie_match m[VERDICT_BULK_MSGS * SIP_MAX_URIS];
	struct num nums[VERDICT_BULK_MSGS * SIP_MAX_URIS];
	unsigned blocked = 0;

	for (unsigned base = 0; base < n; base += VERDICT_BULK_MSGS) {
		unsigned batch = n - base < VERDICT_BULK_MSGS ? n - base : VERDICT_BULK_MSGS;
		unsigned nkeys = 0;

		for (unsigned i = 0; i < batch; i++) {
			int k = prepare(cfg, scan_rc[base + i], msgs[base + i], &v[base + i],
					keys + nkeys, uri_idx + nkeys, nums + nkeys);

			first[i] = (uint16_t)nkeys;
			if (k > 0)
				nkeys += (unsigned)k;
		}
		first[batch] = (uint16_t)nkeys;
		if (nkeys == 0 || t == NULL)
			continue;
		if (ntrie_lookup_bulk(t, keys, nkeys, m) == 0)
			continue;
		for (unsigned i = 0; i < batch; i++)
			blocked += (unsigned)block_on_first_match(
				msgs[base + i], m + first[i], uri_idx + first[i], nums + first[i],
				(unsigned)(first[i + 1] - first[i]), &v[base + i]);
	}
	return blocked;
}
