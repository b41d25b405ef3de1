/* Issuing authorities of the scheme: the National Police Agency ("npa")
 * and the 47 prefectural police forces, named by prefecture in lower-case
 * romaji ("tokyo" is the Metropolitan Police Department). */
#ifndef TEISHI_AUTHORITY_H
#define TEISHI_AUTHORITY_H

#include <stddef.h>

#define AUTHORITY_COUNT 48 /* npa + 47 */

/* Index of name (0 = npa, 1..47 prefectures in JIS X 0401 order), or
 * -ENOENT for an unknown name. */
int authority_find(const char *name);

/* The name of index i, or NULL when out of range. */
const char *authority_name(int i);

/* English name of the force, e.g. "Metropolitan Police Department". */
const char *authority_title(int i);

/* Write "unknown authority \"x\"; valid: npa, hokkaido, ..." into err. */
void authority_error(const char *name, char *err, size_t errlen);

#endif
