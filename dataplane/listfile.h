/* The static suspension-list file: one number, "*" prefix or "a..b" range
 * per line (any form number.h reads), '#' comments and blank lines.
 *
 * Loading is all or nothing: the first bad line stops it with
 * "file:line: reason" and no entry is returned.
 */
#ifndef TEISHI_LISTFILE_H
#define TEISHI_LISTFILE_H

#include <stddef.h>

#include "ntrie.h"

struct listfile {
	struct ntrie_entry *entries; /* exact numbers and prefixes (ranges expanded) */
	size_t n;
	size_t lines;                /* source lines read */
};

/* Load path into lf (overwritten, not freed: free a loaded lf first).
 * Every entry's value is NTRIE_VALUE(action, line), so a match leads back
 * to its source line; action must be <= 15.  Returns 0, or a negative errno
 * (-EINVAL for a bad line or action, -ENOMEM, -EFBIG past 2^28 lines, or
 * the error of open/read) with err set to "path:line: reason" (or
 * "path: strerror"); lf is then all zero. */
int listfile_load(const char *path, unsigned action, struct listfile *lf, char *err, size_t errlen);
/* The same over a memory buffer; name is used in messages. */
int listfile_parse(const char *name, const char *buf, size_t len, unsigned action,
		   struct listfile *lf, char *err, size_t errlen);
/* NULL-safe. */
void listfile_free(struct listfile *lf);

#endif
