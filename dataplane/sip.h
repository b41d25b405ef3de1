/* SIP request scanning for the packet path.
 *
 * sip_scan() makes one forward pass over a complete SIP message held in a
 * buffer that is NOT NUL-terminated, allocates nothing, never reads outside
 * [buf, buf + len), and fills a struct sip_msg whose views point into buf.
 * It records the method, whether an INVITE is initial (To has no tag), the
 * Call-ID, the header values needed to build a stateless reply, and every
 * number-bearing URI by the header it sits in.
 */
#ifndef TEISHI_SIP_H
#define TEISHI_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A counted view into the message buffer. */
struct sip_view {
	const char *p;
	uint32_t len;
};

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* a request with a method token we don't name */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OTHER_KNOWN, /* PRACK, UPDATE, INFO, REFER, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH */
};

/* Where a number-bearing URI sits.  The order is the bit order of the
 * verdict's header mask. */
enum sip_hdr {
	SIP_HDR_RURI = 0,
	SIP_HDR_TO,
	SIP_HDR_FROM,
	SIP_HDR_PAI,       /* P-Asserted-Identity, each entry */
	SIP_HDR_PPI,       /* P-Preferred-Identity */
	SIP_HDR_RPID,      /* Remote-Party-ID */
	SIP_HDR_DIVERSION, /* each Diversion entry */
	SIP_HDR_HISTINFO,  /* each History-Info entry */
	SIP_HDR__COUNT,
};

enum sip_scheme {
	SIP_SCHEME_OTHER = 0,
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

enum sip_uri_flag {
	SIP_URI_USER_PHONE = 1 << 0, /* ;user=phone on a sip/sips URI */
	SIP_URI_ESCAPED = 1 << 1,    /* user part holds %HH escapes */
};

/* One URI.  For sip/sips, user is the user part without the password,
 * raw: it may hold %HH escapes and user parameters ("0312345678;npdi;rn=..."
 * or "0312345678;phone-context=+81").  For tel it is the number, without
 * the tel parameters.  Other schemes, and sip URIs without '@', have an
 * empty user.  phone_context is the first ;phone-context= value found in
 * the user parameters, the URI parameters, or (bare addr-spec in a header)
 * the parameters written after it; it may point outside uri. */
struct sip_uri {
	struct sip_view uri;           /* the whole URI, scheme included, without <> */
	struct sip_view user;          /* see above */
	struct sip_view phone_context; /* value of ;phone-context=, or empty (p may be NULL) */
	uint8_t hdr;                   /* enum sip_hdr */
	uint8_t scheme;                /* enum sip_scheme */
	uint8_t flags;                 /* enum sip_uri_flag */
};

#define SIP_MAX_URIS 24
#define SIP_MAX_VIA 16

enum sip_scan_flag {
	SIP_F_REQUEST = 1 << 0,      /* a request line was found (else a response) */
	SIP_F_INITIAL = 1 << 1,      /* INVITE whose To carries no tag */
	SIP_F_URIS_TRUNCATED = 1 << 2, /* more URIs than SIP_MAX_URIS; extra ones dropped */
	SIP_F_VIA_TRUNCATED = 1 << 3,
	SIP_F_HAS_BODY = 1 << 4,     /* bytes follow the empty line */
	SIP_F_BAD_ENTRY = 1 << 5,    /* a malformed PAI/PPI/RPID/Diversion/History-Info entry was skipped */
	SIP_F_NO_EMPTY_LINE = 1 << 6, /* the headers end with the buffer, without the empty line */
};

struct sip_msg {
	uint8_t method;              /* enum sip_method */
	uint8_t n_uris;
	uint8_t n_via;
	uint16_t flags;              /* enum sip_scan_flag */
	struct sip_view method_name; /* request: method token; response: empty */
	struct sip_view call_id;     /* Call-ID / i value, trimmed */
	struct sip_view from;        /* whole From header value, trimmed */
	struct sip_view to;          /* whole To header value, trimmed */
	struct sip_view cseq;        /* whole CSeq value, trimmed */
	struct sip_view via[SIP_MAX_VIA]; /* each Via header line's value, in order */
	uint32_t header_len;         /* bytes from buf up to and including the empty line
				      * (all of buf when there is none) */
	struct sip_uri uris[SIP_MAX_URIS]; /* uris[0] is the Request-URI, then header order */
};

/* Scan one message.  Returns 0 on a request, -EPROTO on a well-formed
 * response ("SIP/2.0 1xx-6xx"), -EBADMSG when buf is not a SIP message (or
 * the start line or a header needed for the verdict is malformed).  Only on
 * 0 is out complete; on error out is still safe to read (counts are valid).
 *
 * -EBADMSG in detail: a start line that is neither "METHOD URI SIP/2.0" nor
 * a status line, or has no line end; a Request-URI without a scheme; a To
 * or From that does not parse; a missing To, From, Call-ID, CSeq or Via.
 *
 * Where receivers are more lenient than RFC 3261, the scanner reads the
 * message as they do, so that nothing they take as an INVITE passes
 * unread (pjsip, Asterisk's stack, does all four): CR and LF before the
 * start line are skipped; a CR that no LF follows ends a line (so it
 * cannot hide the header after it); headers that end with the buffer,
 * without the empty line (the last one with or without its line end), are
 * a complete header section (SIP_F_NO_EMPTY_LINE); the method is INVITE
 * when it is "INVITE" in any case, or a leading part of "INVITE" ("INV",
 * "I").
 *
 * Lines without a "name:" are ignored like unknown headers.  Views of
 * header values are trimmed but may hold folded line breaks (CRLF/LF
 * followed by SP or HT).  Of several To/From/Call-ID/CSeq headers the first
 * gives the view; the URIs of all are recorded, and an INVITE is initial
 * when any To lacks a tag: the safe side for a blocking element.  The tag counts only as a To header
 * parameter with a non-empty value, never as a URI parameter inside <>. */
int sip_scan(const char *buf, size_t len, struct sip_msg *out);

/* Decode a URI's user part into the text of a number: %HH escapes decoded
 * (%00 is kept as a byte, never a terminator), cut at the first ';' (user
 * parameters such as ;npdi ;rn= ;isub=).  Writes at most cap bytes to buf,
 * no NUL, and returns the length (0 when there is no user part), or
 * -ENOSPC / -EINVAL (bad escape). */
int sip_uri_number_text(const struct sip_uri *u, char *buf, size_t cap);

const char *sip_hdr_name(enum sip_hdr h);
const char *sip_method_name(enum sip_method m);

#endif
