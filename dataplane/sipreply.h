/* Stateless SIP reject responses (RFC 3261 §8.2.6) and where to send them
 * (RFC 3261 §18.2.2 with RFC 3581 rport).
 *
 * sipreply_build() writes a final response to a scanned request: the status
 * line, every Via header copied in order, From, To (with a tag added when it
 * has none), Call-ID, CSeq, a Reason header (RFC 3326) and Content-Length: 0.
 * The To tag is derived from the Call-ID and the From tag only, so every
 * retransmission of a request is answered with the same tag.
 *
 * Everything reads the views of a struct sip_msg (sip.h): counted, never
 * NUL-terminated, never read outside their length.  Nothing allocates.
 */
#ifndef TEISHI_SIPREPLY_H
#define TEISHI_SIPREPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip.h"

/* The status and the Reason header of a reply.  reason_text NULL or ""
 * leaves the text= parameter out; it must not hold '"' or '\\' or control
 * characters (-EINVAL). */
struct sipreply_status {
	uint16_t code;           /* 300..699 */
	const char *phrase;      /* status line reason phrase, e.g. "Rejected" */
	const char *reason_text; /* Reason: SIP;cause=<code>;text="<reason_text>" */
};

/* The RFC phrase for common final codes (403, 404, 480, 486, 488, 500,
 * 503, 600, 603, 604, 606, 607, 608); for any other code a generic one by
 * class ("Redirection", "Request Failure", "Server Failure", "Global
 * Failure"). */
const char *sipreply_phrase(uint16_t code);

/* Length of the tag sipreply_tag() writes. */
#define SIPREPLY_TAG_LEN 16

/* The To tag for a request: SIPREPLY_TAG_LEN lowercase hex digits of a
 * 64-bit FNV-1a hash over the Call-ID and the From tag (empty when From
 * has none).  Writes exactly SIPREPLY_TAG_LEN bytes, no NUL. */
void sipreply_tag(const struct sip_msg *req, char out[SIPREPLY_TAG_LEN]);

/* Find the value of header parameter name (case-insensitive) in a
 * name-addr or addr-spec header value such as From or To: parameters
 * inside <...> belong to the URI and are skipped, as are quoted display
 * names.  Returns 1 and sets *val (may be empty for a flag parameter),
 * or 0 when absent. */
int sipreply_hdr_param(struct sip_view hdr, const char *name, struct sip_view *val);

/* Build the response into buf[0..cap).  Returns the length written (no NUL
 * is added), or:
 *  -EINVAL  st is bad (code out of 300..699, phrase NULL or with CR/LF,
 *           reason_text with '"', '\\' or control characters);
 *  -EBADMSG req lacks a header the reply must copy (Via, From, To,
 *           Call-ID or CSeq is empty), or a copied value holds a CR or LF
 *           that is not a folded continuation (CRLF or LF followed by SP
 *           or HT);
 *           folded values are unfolded, each fold written as one space;
 *  -E2BIG   req had more Via headers than sip_msg holds (SIP_MAX_VIA): a
 *           reply without all of them could not travel back;
 *  -ENOSPC  cap is too small (buf content is then undefined). */
int sipreply_build(const struct sip_msg *req, const struct sipreply_status *st, char *buf,
		   size_t cap);

/* The top Via of a request, split into the parts that route a response. */
struct sipreply_via {
	struct sip_view protocol;  /* "SIP/2.0/UDP" */
	struct sip_view transport; /* "UDP" */
	struct sip_view host;      /* sent-by host; IPv6 without brackets */
	uint16_t port;             /* sent-by port, 0 when absent */
	bool has_rport;            /* rport present */
	uint16_t rport;            /* its value, 0 when empty */
	struct sip_view received;  /* received= value, or empty */
	struct sip_view maddr;     /* maddr= value, or empty */
	struct sip_view branch;    /* branch= value, or empty */
};

/* Parse the first via-parm of req->via[0] (a Via line may hold several,
 * comma-separated).  Returns 0, or -EBADMSG when there is no Via or its
 * first value is malformed (no protocol, no host, bad port). */
int sipreply_top_via(const struct sip_msg *req, struct sipreply_via *v);

/* Where a UDP response goes. */
struct sipreply_dest {
	uint8_t ip_version; /* 4 or 6 */
	uint8_t addr[16];   /* IPv4 in the first 4 bytes */
	uint16_t port;      /* host order */
};

/* The destination of a response to a request that arrived over UDP from
 * src_addr:src_port (ip_version 4 or 6), following RFC 3261 §18.2.2 and
 * RFC 3581 §4:
 *  - address: the top Via's received= when it is an address of the same IP
 *    version as the packet, else the packet's source address (the address a
 *    server would have put in received=, and the sent-by address whenever
 *    sent-by is a literal that matches the source; maddr is not honoured:
 *    a reject is never multicast);
 *  - port: the rport value when it has one; the packet's source port when
 *    rport is present but empty; else the sent-by port, else 5060.
 * Returns 0, -EINVAL (ip_version), or -EBADMSG (no usable top Via). */
int sipreply_dest(const struct sip_msg *req, uint8_t ip_version, const uint8_t *src_addr,
		  uint16_t src_port, struct sipreply_dest *d);

#endif
