#include "proto.h"

const char *proto_status(int code)
{
	switch (code) {
	case PROTO_OK: return "ok";
	case PROTO_ALREADY: return "already";
	case PROTO_BAD_REQUEST: return "bad-request";
	case PROTO_DENIED: return "denied";
	case PROTO_NOT_FOUND: return "not-found";
	case PROTO_CONFLICT: return "conflict";
	case PROTO_INVALID: return "invalid";
	case PROTO_UNAVAILABLE: return "unavailable";
	case PROTO_VERSION_UNSUPPORTED: return "version";
	default: return "error";
	}
}
