/* The audit hash chain.  Each record is one compact JSON object with sorted
 * keys, carrying "seq" (1, 2, ...) and "prev": the SHA-256 (hex) of the
 * previous record's exact bytes (64 zeros for the first).  The hash of the
 * last record is kept as the chain's head, so that an edit of the last
 * record, or a truncation, is caught too.  Pure functions: the Redis side
 * lives in teishid. */
#ifndef TEISHI_AUDIT_H
#define TEISHI_AUDIT_H

#include <stddef.h>
#include <jansson.h>

#define AUDIT_HASH_HEX 65
#define AUDIT_ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* SHA-256 of len bytes of s, as 64 lower-case hex digits + NUL. */
void audit_hash(const char *s, size_t len, char out[AUDIT_HASH_HEX]);

/* Serialise a record: adds "seq" and "prev" to fields (which it does not
 * keep) and returns a malloc'd string, or NULL. */
char *audit_record(json_t *fields, long seq, const char prev[AUDIT_HASH_HEX]);

/* Check records[0..n) (records[i] must have seq first_seq + i) against the
 * hash of the record before them (prev; AUDIT_ZERO at the start) and, when
 * head is not NULL, the head.  Returns -1 when intact, else the index of the
 * first broken record (n when only the head is wrong), with why. */
long audit_verify(const char *const *records, const size_t *lens, long n, long first_seq,
		  char prev[AUDIT_HASH_HEX], const char *head, char *why, size_t whylen);

#endif
