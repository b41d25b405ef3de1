/* The Redis fixture itself: a private server with the persistence and
 * auth the test asks for, surviving a kill -9 through its AOF, and leaving
 * nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "redis_fixture.h"

static struct redis_fixture rf;

static int group_setup(void **st)
{
	(void)st;
	struct redis_fixture_opts o = {.aof = 1, .appendfsync = "always", .password = "pw-test"};
	return redis_fixture_start(&o, &rf);
}

static int group_teardown(void **st)
{
	(void)st;
	redis_fixture_stop(&rf);
	return 0;
}

static void test_fixture_never_uses_6379_and_needs_auth(void **st)
{
	(void)st;
	assert_int_not_equal(rf.port, 6379);
	assert_true(rf.pid > 0);
	char out[256];
	const char *av[] = {"CONFIG", "GET", "appendfsync"};
	assert_int_equal(redis_fixture_cmd(&rf, out, sizeof(out), 3, av), 0);
	assert_string_equal(out, "*2\nappendfsync\nalways");
	/* Without the password the server refuses. */
	struct redis_fixture noauth = rf;
	noauth.password[0] = '\0';
	const char *get[] = {"GET", "x"};
	assert_int_equal(redis_fixture_cmd(&noauth, out, sizeof(out), 2, get), 0);
	assert_int_equal(strncmp(out, "-NOAUTH", 7), 0);
}

static void test_fixture_aof_survives_kill_9(void **st)
{
	(void)st;
	char out[256];
	const char *set[] = {"SET", "teishi:k", "v1"};
	assert_int_equal(redis_fixture_cmd(&rf, out, sizeof(out), 3, set), 0);
	assert_string_equal(out, "OK");
	assert_int_equal(redis_fixture_kill(&rf, 1), 0);
	assert_int_equal(rf.pid, 0);
	assert_int_equal(redis_fixture_restart(&rf), 0);
	const char *get[] = {"GET", "teishi:k"};
	assert_int_equal(redis_fixture_cmd(&rf, out, sizeof(out), 2, get), 0);
	assert_string_equal(out, "v1");
}

static void test_fixture_acl_user_and_cleanup(void **st)
{
	(void)st;
	struct redis_fixture u;
	struct redis_fixture_opts o = {.aof = 0, .user = "teishid", .password = "s3cret"};
	assert_int_equal(redis_fixture_start(&o, &u), 0);
	char out[256], dir[256];
	const char *who[] = {"ACL", "WHOAMI"};
	assert_int_equal(redis_fixture_cmd(&u, out, sizeof(out), 2, who), 0);
	assert_string_equal(out, "teishid");
	const char *aof[] = {"CONFIG", "GET", "appendonly"};
	assert_int_equal(redis_fixture_cmd(&u, out, sizeof(out), 3, aof), 0);
	assert_string_equal(out, "*2\nappendonly\nno");
	snprintf(dir, sizeof(dir), "%s", u.dir);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	redis_fixture_stop(&u);
	assert_int_equal(stat(dir, &sb), -1);
	redis_fixture_stop(&u); /* twice is fine */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_never_uses_6379_and_needs_auth),
		cmocka_unit_test(test_fixture_aof_survives_kill_9),
		cmocka_unit_test(test_fixture_acl_user_and_cleanup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
