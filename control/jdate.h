/* Calendar dates in Japan time (UTC+9, no daylight saving), written
 * YYYY-MM-DD.  Dates compare correctly as strings and as day numbers. */
#ifndef TEISHI_JDATE_H
#define TEISHI_JDATE_H

#include <stddef.h>
#include <time.h>

#define JDATE_LEN 10

/* Check that s is exactly YYYY-MM-DD and a real calendar day (1970..9999).
 * Returns the day number (days since 1970-01-01) or -EINVAL with a reason
 * naming the input in err. */
long jdate_parse(const char *s, char *err, size_t errlen);

/* Today's date in Japan at time t, written to out[JDATE_LEN + 1]. */
void jdate_today(time_t t, char out[JDATE_LEN + 1]);

/* Day number of today in Japan at time t. */
long jdate_today_days(time_t t);

/* Format day number d as YYYY-MM-DD into out[JDATE_LEN + 1]. */
void jdate_format(long d, char out[JDATE_LEN + 1]);

/* UTC timestamp "YYYY-MM-DDTHH:MM:SSZ" of t into out[21]. */
void jdate_stamp(time_t t, char out[21]);

#endif
