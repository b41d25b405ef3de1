/* The teishid protocol, version 1 (docs/protocol.md is the full text).
 *
 * One JSON object per line, UTF-8, '\n'-terminated, each way.
 *   request:  {"v":1,"id":ID,"cmd":"suspend","args":{...}}
 *   response: {"v":1,"id":ID,"code":200,"status":"ok","message":"...",
 *              "warnings":[...],"data":{...},"table":{"columns":[...],"rows":[[...]]}}
 * Responses come in request order; a client may pipeline. */
#ifndef TEISHI_PROTO_H
#define TEISHI_PROTO_H

#include <stddef.h>

#define PROTO_VERSION 1
#define PROTO_MAX_LINE (256u << 20) /* a request line, feeds included */

enum proto_code {
	PROTO_OK = 200,          /* done */
	PROTO_ALREADY = 208,     /* this order was applied before: nothing changed */
	PROTO_BAD_REQUEST = 400, /* not JSON, no such command, wrong field types */
	PROTO_DENIED = 403,      /* the caller lacks the role; the message names it */
	PROTO_NOT_FOUND = 404,   /* unknown contractor, order, number... */
	PROTO_CONFLICT = 409,    /* same order reference with other content; four eyes; wrong state */
	PROTO_INVALID = 422,     /* an argument is malformed: bad number, date, authority */
	PROTO_INTERNAL = 500,
	PROTO_UNAVAILABLE = 503, /* Redis unreachable or not durable */
	PROTO_VERSION_UNSUPPORTED = 505,
};

/* "ok", "already", "bad-request", ... for a code. */
const char *proto_status(int code);

/* Success codes: 200 and 208. */
static inline int proto_ok(int code)
{
	return code == PROTO_OK || code == PROTO_ALREADY;
}

#endif
