#include "jdate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define JST_OFFSET (9 * 3600)

long jdate_parse(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);
	int ok = n == JDATE_LEN && s[4] == '-' && s[7] == '-';
	for (size_t i = 0; ok && i < n; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			ok = 0;
	if (!ok) {
		snprintf(err, errlen, "\"%.40s\": date must be YYYY-MM-DD", s);
		return -EINVAL;
	}
	struct tm tm = {0};
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	int mon = tm.tm_mon, mday = tm.tm_mday;
	if (tm.tm_year < 70) {
		snprintf(err, errlen, "\"%s\": date before 1970", s);
		return -EINVAL;
	}
	time_t t = timegm(&tm);
	/* timegm normalises 2024-02-30 to March: a changed field means no such day. */
	if (t == (time_t)-1 || tm.tm_mon != mon || tm.tm_mday != mday) {
		snprintf(err, errlen, "\"%s\": no such calendar day", s);
		return -EINVAL;
	}
	return (long)(t / 86400);
}

void jdate_format(long d, char out[JDATE_LEN + 1])
{
	time_t t = (time_t)d * 86400;
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[40];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, buf, JDATE_LEN);
	out[JDATE_LEN] = '\0';
}

long jdate_today_days(time_t t)
{
	return (long)((t + JST_OFFSET) / 86400);
}

void jdate_today(time_t t, char out[JDATE_LEN + 1])
{
	jdate_format(jdate_today_days(t), out);
}

void jdate_stamp(time_t t, char out[21])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
