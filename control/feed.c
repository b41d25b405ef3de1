#include "feed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jdate.h"

int feed_load_key(const char *path, unsigned char *key, size_t keylen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char hex[300];
	size_t n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = '\0';
	size_t got = 0;
	if (sodium_hex2bin(key, keylen, hex, n, " \r\n", &got, NULL) != 0 || got != keylen)
		return -EINVAL;
	return 0;
}

static int feed_write_hex(const char *path, const unsigned char *k, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -errno;
	char hex[2 * crypto_sign_SECRETKEYBYTES + 2];
	sodium_bin2hex(hex, sizeof(hex), k, len);
	size_t l = strlen(hex);
	hex[l++] = '\n';
	int e = write(fd, hex, l) == (ssize_t)l ? 0 : -EIO;
	close(fd);
	return e;
}

int feed_keygen(const char *prefix)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	if (sodium_init() < 0)
		return -EIO;
	crypto_sign_keypair(pk, sk);
	char path[512];
	snprintf(path, sizeof(path), "%s.key", prefix);
	int e = feed_write_hex(path, sk, sizeof(sk), 0600);
	sodium_memzero(sk, sizeof(sk));
	if (e)
		return e;
	snprintf(path, sizeof(path), "%s.pub", prefix);
	return feed_write_hex(path, pk, sizeof(pk), 0644);
}

char *feed_sign(const char *body, size_t len, const unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)body, len, sk);
	char hex[2 * crypto_sign_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	char *out = malloc(len + sizeof(hex) + 16);
	if (!out)
		return NULL;
	memcpy(out, body, len);
	sprintf(out + len, "{\"sig\":\"%s\"}\n", hex);
	return out;
}

static int feed_entry_ok(const char *e)
{
	size_t n = strlen(e), d = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i] >= '0' && e[i] <= '9')
			d++;
		else if (!(e[i] == '*' && i == n - 1))
			return 0;
	}
	return d >= 1 && d <= 15;
}

int feed_parse(const char *text, size_t len, const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
	       json_t **header, json_t **items, char *why, size_t whylen)
{
	*header = *items = NULL;
	/* The signature line is the last non-empty line. */
	size_t end = len;
	while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	if (end == 0 || start == 0) {
		snprintf(why, whylen, "feed refused: empty or without a signature line");
		return -EINVAL;
	}
	json_error_t je;
	json_t *sigl = json_loadb(text + start, end - start, 0, &je);
	const char *sighex = json_string_value(json_object_get(sigl, "sig"));
	unsigned char sig[crypto_sign_BYTES];
	size_t got = 0;
	if (!sighex || sodium_hex2bin(sig, sizeof(sig), sighex, strlen(sighex), NULL, &got, NULL) ||
	    got != sizeof(sig)) {
		json_decref(sigl);
		snprintf(why, whylen, "feed refused: the last line is not {\"sig\":\"<128 hex digits>\"}");
		return -EINVAL;
	}
	json_decref(sigl);
	if (crypto_sign_verify_detached(sig, (const unsigned char *)text, start, pk) != 0) {
		snprintf(why, whylen, "feed refused: bad signature (not signed by this peer's key, or altered)");
		return -EBADMSG;
	}
	json_t *arr = json_array();
	json_t *hdr = NULL;
	size_t pos = 0;
	int lineno = 0;
	while (pos < start) {
		size_t nl = pos;
		while (nl < start && text[nl] != '\n')
			nl++;
		lineno++;
		json_t *o = json_loadb(text + pos, nl - pos, 0, &je);
		pos = nl + 1;
		if (!json_is_object(o)) {
			snprintf(why, whylen, "feed refused: line %d is not a JSON object", lineno);
			json_decref(o);
			goto bad;
		}
		if (lineno == 1) {
			const char *f = json_string_value(json_object_get(o, "feed"));
			if (!f || strcmp(f, "teishi") || json_integer_value(json_object_get(o, "v")) != 1 ||
			    !json_string_value(json_object_get(o, "origin"))) {
				snprintf(why, whylen, "feed refused: line 1 is not a teishi v1 feed header");
				json_decref(o);
				goto bad;
			}
			hdr = o;
			continue;
		}
		const char *id = json_string_value(json_object_get(o, "id"));
		const char *op = json_string_value(json_object_get(o, "op"));
		const char *entry = json_string_value(json_object_get(o, "entry"));
		const char *order = json_string_value(json_object_get(o, "order"));
		const char *date = json_string_value(json_object_get(o, "date"));
		char derr[128];
		if (!id || !op || !entry || !order || !date || (strcmp(op, "suspend") && strcmp(op, "lift")) ||
		    !feed_entry_ok(entry) || jdate_parse(date, derr, sizeof(derr)) < 0 || strlen(id) > 200 ||
		    strlen(order) > 64) {
			snprintf(why, whylen, "feed refused: line %d is not a valid item (id, op suspend|lift, entry digits[*], order, date)",
				 lineno);
			json_decref(o);
			goto bad;
		}
		json_array_append_new(arr, o);
	}
	*header = hdr;
	*items = arr;
	return 0;
bad:
	json_decref(hdr);
	json_decref(arr);
	return -EINVAL;
}
