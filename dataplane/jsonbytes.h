/* JSON strings from untrusted bytes (Call-IDs, URI user parts), for the
 * programs that print JSON with jansson.  jansson refuses invalid UTF-8,
 * and a refused string would drop the whole record from the output. */
#ifndef TEISHI_JSONBYTES_H
#define TEISHI_JSONBYTES_H

#include <stddef.h>

#include <jansson.h>

/* A JSON string holding p[0..len): the bytes themselves when they are
 * valid UTF-8, else each byte that is not part of a valid sequence
 * replaced by U+FFFD.  Embedded NULs are kept (\u0000).  NULL only when
 * out of memory. */
json_t *json_bytes(const char *p, size_t len);

#endif
