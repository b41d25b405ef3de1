#include "authority.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const authority_names[AUTHORITY_COUNT] = {
	"npa",
	"hokkaido", "aomori", "iwate", "miyagi", "akita", "yamagata", "fukushima",
	"ibaraki", "tochigi", "gunma", "saitama", "chiba", "tokyo", "kanagawa",
	"niigata", "toyama", "ishikawa", "fukui", "yamanashi", "nagano",
	"gifu", "shizuoka", "aichi", "mie",
	"shiga", "kyoto", "osaka", "hyogo", "nara", "wakayama",
	"tottori", "shimane", "okayama", "hiroshima", "yamaguchi",
	"tokushima", "kagawa", "ehime", "kochi",
	"fukuoka", "saga", "nagasaki", "kumamoto", "oita", "miyazaki", "kagoshima",
	"okinawa",
};

int authority_find(const char *name)
{
	for (int i = 0; i < AUTHORITY_COUNT; i++)
		if (strcmp(name, authority_names[i]) == 0)
			return i;
	return -ENOENT;
}

const char *authority_name(int i)
{
	return i >= 0 && i < AUTHORITY_COUNT ? authority_names[i] : NULL;
}

const char *authority_title(int i)
{
	static char buf[64];
	if (i == 0)
		return "National Police Agency";
	if (i == 13)
		return "Metropolitan Police Department";
	if (i == 1)
		return "Hokkaido Prefectural Police";
	if (i < 0 || i >= AUTHORITY_COUNT)
		return NULL;
	/* Not reentrant; the daemon is single-threaded. */
	snprintf(buf, sizeof(buf), "%c%s Prefectural Police", authority_names[i][0] - 32,
		 authority_names[i] + 1);
	return buf;
}

void authority_error(const char *name, char *err, size_t errlen)
{
	size_t n = (size_t)snprintf(err, errlen, "unknown authority \"%.40s\"; valid: ", name);
	for (int i = 0; i < AUTHORITY_COUNT && n < errlen; i++)
		n += (size_t)snprintf(err + n, errlen - n, "%s%s", i ? ", " : "", authority_names[i]);
}
