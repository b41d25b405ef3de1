/* Signed feeds for the JUSA link: JSON Lines, Ed25519 (libsodium).
 *
 *   {"feed":"teishi","v":1,"origin":"ORIGIN","since":"DATE","created":"TS"}
 *   {"id":"ORIGIN/REF/suspend/81312345678","op":"suspend","entry":"81312345678",
 *    "order":"REF","authority":"tokyo","date":"2024-03-01"}
 *   ...
 *   {"sig":"<128 hex: Ed25519 over every byte before this line>"}
 *
 * An entry is canonical E.164 digits, or digits + '*' for a block. */
#ifndef TEISHI_FEED_H
#define TEISHI_FEED_H

#include <stddef.h>
#include <jansson.h>
#include <sodium.h>

/* Read a hex key file (64 bytes secret or 32 bytes public).  0 or -errno. */
int feed_load_key(const char *path, unsigned char *key, size_t keylen);

/* Write PREFIX.key (secret, mode 0600) and PREFIX.pub.  0 or -errno. */
int feed_keygen(const char *prefix);

/* Sign body (the header and item lines) and return body + signature line,
 * malloc'd; NULL on allocation failure. */
char *feed_sign(const char *body, size_t len, const unsigned char sk[crypto_sign_SECRETKEYBYTES]);

/* Verify and parse a whole feed.  On success returns 0 and sets *items
 * (array of item objects, caller decrefs) and *header.  On any problem
 * (-EBADMSG: signature; -EINVAL: malformed) nothing is returned and why
 * names the line and the problem. */
int feed_parse(const char *text, size_t len, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
	       json_t **header, json_t **items, char *why, size_t whylen);

#endif
