#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipreply.h"

const char *sipreply_phrase(uint16_t code)
{
	switch (code) {
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 480: return "Temporarily Unavailable";
	case 486: return "Busy Here";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 503: return "Service Unavailable";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	case 608: return "Rejected";
	}
	if (code >= 300 && code < 400)
		return "Redirection";
	if (code >= 400 && code < 500)
		return "Request Failure";
	if (code >= 500 && code < 600)
		return "Server Failure";
	return "Global Failure";
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool view_ieq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower(lit[i]))
			return false;
	return true;
}

/* Parameters of a From/To value start after the URI: skip a quoted display
 * name and anything in <...>.  In addr-spec form (no '<') the URI cannot
 * carry parameters (RFC 3261 §20.10), so the first ';' starts them. */
int sipreply_hdr_param(struct sip_view hdr, const char *name, struct sip_view *val)
{
	const char *p = hdr.p, *e = hdr.p + hdr.len;
	bool quoted = false, angle = false;

	while (p < e) {
		char c = *p;

		if (quoted) {
			if (c == '\\' && p + 1 < e)
				p++;
			else if (c == '"')
				quoted = false;
		} else if (angle) {
			/* The URI, the longest part: nothing in it matters
			 * before its '>'. */
			const char *gt = memchr(p, '>', (size_t)(e - p));

			if (gt == NULL)
				break;
			p = gt;
			angle = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == ';') {
			const char *n = p + 1, *ne, *v, *ve;

			while (n < e && is_ws(*n))
				n++;
			ne = n;
			while (ne < e && !is_ws(*ne) && *ne != '=' && *ne != ';' && *ne != ',')
				ne++;
			v = ne;
			while (v < e && is_ws(*v))
				v++;
			if (v < e && *v == '=') {
				v++;
				while (v < e && is_ws(*v))
					v++;
				ve = v;
				if (ve < e && *ve == '"') {
					for (ve++; ve < e && *ve != '"'; ve++)
						if (*ve == '\\' && ve + 1 < e)
							ve++;
					if (ve < e)
						ve++;
				} else {
					while (ve < e && !is_ws(*ve) && *ve != ';' && *ve != ',')
						ve++;
				}
			} else {
				v = ve = ne;
			}
			if (view_ieq(n, (size_t)(ne - n), name)) {
				*val = (struct sip_view){ v, (uint32_t)(ve - v) };
				return 1;
			}
			p = ve;
			continue;
		}
		p++;
	}
	return 0;
}

/* 64-bit FNV-1a: small, seedless and stable across builds and hosts, so
 * that every teishi instance answers a retransmission with the same tag. */
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

void sipreply_tag(const struct sip_msg *req, char out[SIPREPLY_TAG_LEN])
{
	static const char hex[] = "0123456789abcdef";
	struct sip_view ftag = { "", 0 };
	uint64_t h;

	sipreply_hdr_param(req->from, "tag", &ftag);
	h = fnv1a(FNV64_OFFSET, req->call_id.p, req->call_id.len);
	/* A separator byte that cannot occur in a Call-ID keeps ("ab","c")
	 * and ("a","bc") apart. */
	h = fnv1a(h, "\n", 1);
	h = fnv1a(h, ftag.p, ftag.len);
	for (int i = SIPREPLY_TAG_LEN - 1; i >= 0; i--) {
		out[i] = hex[h & 0xf];
		h >>= 4;
	}
}

struct out {
	char *p;
	char *e;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if ((size_t)(o->e - o->p) < n) {
		o->err = -ENOSPC;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static const char *first_cr_or_lf(const char *p, const char *e)
{
	const char *lf = memchr(p, '\n', (size_t)(e - p));
	const char *cr = memchr(p, '\r', (size_t)((lf ? lf : e) - p));

	return cr ? cr : lf ? lf : e;
}

/* Copy a header value, unfolding continuation lines; a CR or LF that does
 * not start a fold would inject a header (some parsers end a line at a
 * bare CR), so it fails the build.  Values
 * are searched with memchr: most hold no line break at all. */
static void put_value(struct out *o, struct sip_view v)
{
	const char *p = v.p, *e = v.p + v.len, *run = p;

	while (p < e) {
		p = first_cr_or_lf(p, e);
		if (p == e)
			break;
		put(o, run, (size_t)(p - run));
		/* A fold is CRLF or LF, then SP or HT; a bare CR is not. */
		if (*p == '\r')
			p++;
		if (p == e || *p != '\n' || p + 1 == e || !is_ws(p[1])) {
			if (!o->err)
				o->err = -EBADMSG;
			return;
		}
		p++;
		while (p < e && is_ws(*p))
			p++;
		put(o, " ", 1);
		run = p;
	}
	put(o, run, (size_t)(p - run));
}

static bool safe_text(const char *s, bool quoted)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (quoted && (c == '"' || c == '\\'))
			return false;
	}
	return true;
}

int sipreply_build(const struct sip_msg *req, const struct sipreply_status *st, char *buf,
		   size_t cap)
{
	struct out o = { buf, buf + cap, 0 };
	struct sip_view ttag;
	char num[3];
	int n;

	if (st == NULL || st->code < 300 || st->code > 699 || st->phrase == NULL ||
	    !safe_text(st->phrase, false) ||
	    (st->reason_text != NULL && !safe_text(st->reason_text, true)))
		return -EINVAL;
	if (req->n_via == 0 || req->via[0].len == 0 || req->from.len == 0 || req->to.len == 0 ||
	    req->call_id.len == 0 || req->cseq.len == 0)
		return -EBADMSG;
	if (req->flags & SIP_F_VIA_TRUNCATED)
		return -E2BIG;

	num[0] = (char)('0' + st->code / 100);
	num[1] = (char)('0' + st->code / 10 % 10);
	num[2] = (char)('0' + st->code % 10);
	n = 3;
	puts_(&o, "SIP/2.0 ");
	put(&o, num, (size_t)n);
	puts_(&o, " ");
	puts_(&o, st->phrase);
	puts_(&o, "\r\n");
	for (unsigned i = 0; i < req->n_via && i < SIP_MAX_VIA; i++) {
		if (req->via[i].len == 0)
			continue;
		puts_(&o, "Via: ");
		put_value(&o, req->via[i]);
		puts_(&o, "\r\n");
	}
	puts_(&o, "From: ");
	put_value(&o, req->from);
	puts_(&o, "\r\nTo: ");
	put_value(&o, req->to);
	if (!sipreply_hdr_param(req->to, "tag", &ttag)) {
		char tag[SIPREPLY_TAG_LEN];

		sipreply_tag(req, tag);
		puts_(&o, ";tag=");
		put(&o, tag, sizeof(tag));
	}
	puts_(&o, "\r\nCall-ID: ");
	put_value(&o, req->call_id);
	puts_(&o, "\r\nCSeq: ");
	put_value(&o, req->cseq);
	puts_(&o, "\r\nReason: SIP;cause=");
	put(&o, num, (size_t)n);
	if (st->reason_text != NULL && st->reason_text[0] != '\0') {
		puts_(&o, ";text=\"");
		puts_(&o, st->reason_text);
		puts_(&o, "\"");
	}
	puts_(&o, "\r\nContent-Length: 0\r\n\r\n");
	if (o.err)
		return o.err;
	return (int)(o.p - buf);
}

static int parse_port(const char *p, const char *e, uint16_t *port)
{
	uint32_t v = 0;

	if (p == e || e - p > 5)
		return -EBADMSG;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -EBADMSG;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -EBADMSG;
	*port = (uint16_t)v;
	return 0;
}

static const char *skip_lws(const char *p, const char *e)
{
	while (p < e && (is_ws(*p) || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

int sipreply_top_via(const struct sip_msg *req, struct sipreply_via *v)
{
	const char *p, *e, *q;
	const char *proto0;
	int slashes = 0;

	memset(v, 0, sizeof(*v));
	if (req->n_via == 0 || req->via[0].len == 0)
		return -EBADMSG;
	p = req->via[0].p;
	e = p + req->via[0].len;

	/* sent-protocol: name SLASH version SLASH transport, LWS allowed
	 * around the slashes. */
	p = skip_lws(p, e);
	proto0 = p;
	for (;;) {
		q = p;
		while (q < e && !is_ws(*q) && *q != '/' && *q != '\r' && *q != '\n')
			q++;
		if (q == p)
			return -EBADMSG;
		if (slashes == 2) {
			v->transport = (struct sip_view){ p, (uint32_t)(q - p) };
			v->protocol = (struct sip_view){ proto0, (uint32_t)(q - proto0) };
			p = q;
			break;
		}
		p = skip_lws(q, e);
		if (p == e || *p != '/')
			return -EBADMSG;
		p = skip_lws(p + 1, e);
		slashes++;
	}

	/* sent-by: host [":" port]; IPv6 references in brackets. */
	p = skip_lws(p, e);
	if (p < e && *p == '[') {
		q = memchr(p, ']', (size_t)(e - p));
		if (q == NULL || q == p + 1)
			return -EBADMSG;
		v->host = (struct sip_view){ p + 1, (uint32_t)(q - p - 1) };
		p = q + 1;
	} else {
		q = p;
		while (q < e && !is_ws(*q) && *q != ':' && *q != ';' && *q != ',')
			q++;
		if (q == p)
			return -EBADMSG;
		v->host = (struct sip_view){ p, (uint32_t)(q - p) };
		p = q;
	}
	p = skip_lws(p, e);
	if (p < e && *p == ':') {
		p = skip_lws(p + 1, e);
		q = p;
		while (q < e && *q >= '0' && *q <= '9')
			q++;
		if (parse_port(p, q, &v->port) < 0)
			return -EBADMSG;
		p = q;
	}

	/* via-params, up to the end or the ',' of the next via-parm. */
	for (;;) {
		const char *n, *ne, *val, *ve;

		p = skip_lws(p, e);
		if (p == e || *p == ',')
			break;
		if (*p != ';')
			return -EBADMSG;
		n = skip_lws(p + 1, e);
		ne = n;
		while (ne < e && !is_ws(*ne) && *ne != '=' && *ne != ';' && *ne != ',')
			ne++;
		val = ve = ne;
		p = skip_lws(ne, e);
		if (p < e && *p == '=') {
			val = skip_lws(p + 1, e);
			ve = val;
			if (ve < e && *ve == '"') {
				for (ve++; ve < e && *ve != '"'; ve++)
					if (*ve == '\\' && ve + 1 < e)
						ve++;
				if (ve == e)
					return -EBADMSG;
				ve++;
			} else if (ve < e && *ve == '[') {
				/* received= may be an IPv6 reference */
				while (ve < e && *ve != ']')
					ve++;
				if (ve == e)
					return -EBADMSG;
				ve++;
			} else {
				while (ve < e && !is_ws(*ve) && *ve != ';' && *ve != ',')
					ve++;
			}
			p = ve;
		}
		if (view_ieq(n, (size_t)(ne - n), "rport")) {
			v->has_rport = true;
			if (ve > val && parse_port(val, ve, &v->rport) < 0)
				return -EBADMSG;
		} else if (view_ieq(n, (size_t)(ne - n), "received")) {
			v->received = (struct sip_view){ val, (uint32_t)(ve - val) };
		} else if (view_ieq(n, (size_t)(ne - n), "maddr")) {
			v->maddr = (struct sip_view){ val, (uint32_t)(ve - val) };
		} else if (view_ieq(n, (size_t)(ne - n), "branch")) {
			v->branch = (struct sip_view){ val, (uint32_t)(ve - val) };
		}
	}
	return 0;
}

/* A received= value as an address of the given version; brackets around
 * IPv6 are accepted.  Returns 0 when it is one. */
static int parse_addr(struct sip_view s, uint8_t ip_version, uint8_t *addr)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (s.len >= 2 && s.p[0] == '[' && s.p[s.len - 1] == ']') {
		s.p++;
		s.len -= 2;
	}
	if (s.len == 0 || s.len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	if (inet_pton(ip_version == 4 ? AF_INET : AF_INET6, tmp, addr) != 1)
		return -EINVAL;
	return 0;
}

int sipreply_dest(const struct sip_msg *req, uint8_t ip_version, const uint8_t *src_addr,
		  uint16_t src_port, struct sipreply_dest *d)
{
	struct sipreply_via v;
	int rc;

	if (ip_version != 4 && ip_version != 6)
		return -EINVAL;
	rc = sipreply_top_via(req, &v);
	if (rc < 0)
		return rc;
	memset(d, 0, sizeof(*d));
	d->ip_version = ip_version;
	if (v.received.len == 0 || parse_addr(v.received, ip_version, d->addr) < 0) {
		memset(d->addr, 0, sizeof(d->addr));
		memcpy(d->addr, src_addr, ip_version == 4 ? 4 : 16);
	}
	if (v.has_rport)
		d->port = v.rport ? v.rport : src_port;
	else
		d->port = v.port ? v.port : 5060;
	return 0;
}
