/* Phone numbers as people and switches write them, normalised to E.164.
 *
 * Canonical form is the E.164 digit string without '+', NUL-terminated
 * (at most NUM_MAX_DIGITS digits).  Japanese national numbers are read as
 * +81 with the trunk 0 dropped: "03-1234-5678" -> "81312345678".
 * Service codes (1XY, e.g. 110) become "81" + code: "81110".
 *
 * Every function returns 0 or a negative errno and, on error, writes a
 * specific, human-readable reason into err (when err is not NULL), e.g.
 *   "03-1234-567": fixed-line number needs 10 digits, got 9
 * Nothing here allocates.  Inputs are counted strings, never NUL-terminated
 * by contract.
 */
#ifndef TEISHI_NUMBER_H
#define TEISHI_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#define NUM_MAX_DIGITS 15
#define NUM_ERR_MAX 160 /* room for any error text, input included (truncated) */
/* Worst case of the minimal prefix cover of one range: 9 per digit on each side. */
#define NUM_RANGE_MAX_PREFIXES (2 * 9 * NUM_MAX_DIGITS)

enum num_class {
	NUM_CLASS_INVALID = 0,
	NUM_CLASS_FIXED,      /* 0AB-J, 10 digits nationally */
	NUM_CLASS_IP050,      /* 050 + 8 digits */
	NUM_CLASS_MOBILE,     /* 060/070/080/090 + 8 digits */
	NUM_CLASS_M2M,        /* 020 + 8 digits */
	NUM_CLASS_FREEPHONE,  /* 0120 (10), 0800 (11), 0570 navi-dial (10) */
	NUM_CLASS_SERVICE,    /* 1XY service codes; see num_is_emergency() */
	NUM_CLASS_FOREIGN,    /* E.164 outside +81 */
	NUM_CLASS__COUNT,
};

/* What stood in front of the number and was stripped. */
enum num_flag {
	NUM_F_NATIONAL = 1 << 0,   /* written in national form (leading 0) */
	NUM_F_184 = 1 << 1,        /* 184 prefix: withhold caller id */
	NUM_F_186 = 1 << 2,        /* 186 prefix: present caller id */
	NUM_F_CARRIER_SEL = 1 << 3, /* 00XY carrier-selection code; see carrier[] */
};

struct num {
	char digits[NUM_MAX_DIGITS + 1]; /* canonical E.164 digits, NUL-terminated */
	uint8_t len;                     /* strlen(digits) */
	uint8_t cls;                     /* enum num_class */
	uint8_t flags;                   /* enum num_flag */
	char carrier[5];                 /* the 00XY code when NUM_F_CARRIER_SEL */
};

/* Parse one complete number (national, +E.164, with separators - . ( ) and
 * spaces, with 184/186/00XY prefixes before a national number).
 * phone_context, when non-NULL and ctx_len > 0, is an RFC 3966
 * phone-context (e.g. "+81") applied to a local number.
 * 010 (Japan's international prefix) is read like '+', and a trunk 0
 * kept after +81 ("+81(0)3-...") is dropped.  Foreign numbers need 7 to 15
 * digits.
 * Returns 0, -EINVAL (bad syntax or a JP number of the wrong length for its
 * type; out->cls is then NUM_CLASS_INVALID and out->digits empty) or
 * -ERANGE (too many digits). */
int num_parse(const char *s, size_t len, const char *phone_context, size_t ctx_len,
	      struct num *out, char *err, size_t errlen);

/* num_parse() of the number in a SIP or tel URI user part without %HH
 * escapes: the text s[0..n), where n is the offset of the first ';' in
 * s[0..len) (len when there is none; user parameters follow it).  n is
 * stored in *text_len, also when the number does not parse.  The ';' is
 * found in the same pass that reads the digits.  When bcd is not NULL it
 * receives the digits of the number packed 4 bits each, the first in bits
 * 63-60, the bits after the last one 0 (0 on error): ntrie_key()'s
 * packing without the length.  Returns, and fills out and err, exactly as
 * num_parse(s, n, ...); -EINVAL also when out or text_len is NULL. */
int num_parse_user(const char *s, size_t len, const char *phone_context, size_t ctx_len,
		   struct num *out, size_t *text_len, uint64_t *bcd, char *err, size_t errlen);

/* Emergency service codes (110, 118, 119) in canonical form. */
int num_is_emergency(const struct num *n);

const char *num_class_name(enum num_class cls);

/* A list pattern: one number, one prefix, or one range. */
enum num_pattern_kind {
	NUM_PAT_EXACT = 1,
	NUM_PAT_PREFIX,
	NUM_PAT_RANGE,
};

struct num_pattern {
	uint8_t kind;                        /* enum num_pattern_kind */
	uint8_t len;                         /* digits in lo (and hi) */
	char lo[NUM_MAX_DIGITS + 1];         /* exact number, prefix digits, or range start */
	char hi[NUM_MAX_DIGITS + 1];         /* range end (NUM_PAT_RANGE only) */
};

/* Parse "03-1234-5678", "03-1234-*", "+8131234*" or
 * "0312340000..0312345999" into canonical digits.  A prefix is canonical
 * digits without length checks; a range's ends must be complete numbers of
 * equal canonical length with lo <= hi.  Returns 0 or -EINVAL with err. */
int num_pattern_parse(const char *s, size_t len, struct num_pattern *out,
		      char *err, size_t errlen);

/* Cover the inclusive digit range [lo, hi] (equal length len) with the
 * minimal set of digit prefixes, written to out[] in ascending order as
 * NUL-terminated strings (a prefix of len digits is one number; the empty
 * prefix means every len-digit string).  Returns the count
 * (<= NUM_RANGE_MAX_PREFIXES), -EINVAL (bad digits or length, lo > hi) or
 * -ENOSPC (more than cap prefixes needed). */
int num_range_to_prefixes(const char *lo, const char *hi, size_t len,
			  char out[][NUM_MAX_DIGITS + 1], size_t cap);

#endif
