#include "audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void audit_hash(const char *s, size_t len, char out[AUDIT_HASH_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)s, len);
	sodium_bin2hex(out, AUDIT_HASH_HEX, h, sizeof(h));
}

char *audit_record(json_t *fields, long seq, const char prev[AUDIT_HASH_HEX])
{
	json_t *rec = json_deep_copy(fields);
	if (!rec)
		return NULL;
	json_object_set_new(rec, "seq", json_integer(seq));
	json_object_set_new(rec, "prev", json_string(prev));
	char *s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(rec);
	return s;
}

long audit_verify(const char *const *records, const size_t *lens, long n, long first_seq,
		  char prev[AUDIT_HASH_HEX], const char *head, char *why, size_t whylen)
{
	for (long i = 0; i < n; i++) {
		json_error_t je;
		json_t *rec = json_loadb(records[i], lens[i], 0, &je);
		const char *p = json_string_value(json_object_get(rec, "prev"));
		json_t *seq = json_object_get(rec, "seq");
		long want = first_seq + i;
		if (!rec || !p || !json_is_integer(seq)) {
			snprintf(why, whylen, "record %ld is not a well-formed audit record", want);
		} else if (json_integer_value(seq) != want) {
			snprintf(why, whylen, "record %ld says seq %lld (records removed or reordered)", want,
				 (long long)json_integer_value(seq));
		} else if (strcmp(p, prev) != 0) {
			snprintf(why, whylen, "record %ld: prev %.16s... does not match the hash of record %ld (%.16s...): record %ld was changed",
				 want, p, want - 1, prev, want - 1);
			/* The edited record is the one before: its hash no longer fits. */
			json_decref(rec);
			return i > 0 ? i - 1 : 0;
		} else {
			json_decref(rec);
			audit_hash(records[i], lens[i], prev);
			continue;
		}
		json_decref(rec);
		return i;
	}
	if (head && strcmp(head, prev) != 0) {
		snprintf(why, whylen, "the chain head %.16s... does not match the last record %ld (%.16s...): it was changed or the chain truncated",
			 head, first_seq + n - 1, prev);
		return n > 0 ? n - 1 : 0;
	}
	return -1;
}
