/* What a reload tells the operator (`thetactl reload`, SIGHUP's log): with
 * no configuration file, that the defaults stay; with one, which keys were
 * taken at once and which (web.root, web.listen, net.port) only a restart
 * applies, those keeping their running value; nothing changed says so. A
 * bad file is tests/thetad/srv/test_daemon.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "th_harness.h"

static char out[16384], err[8192];

static void write_conf(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void no_file_means_the_defaults_stay(void **state)
{
	(void)state;
	struct th_daemon_proc d;
	char conf[PATH_MAX + 16];
	assert_int_equal(th_daemon_prepare(&d), 0);
	/* An explicit --config must exist at start; remove it afterwards, as an
	 * operator deleting /etc/theta/thetad.conf would. */
	snprintf(conf, sizeof conf, "%s/thetad.conf", d.dir);
	write_conf(conf, "");
	assert_int_equal(th_daemon_spawn(&d, (const char *const[]){ "--config", conf, NULL }, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);
	assert_int_equal(unlink(conf), 0);
	int rc = th_ctl(&d, (const char *const[]){ "reload", NULL }, out, sizeof out, err, sizeof err);
	/* explicit --config: a missing file is an error; the running values stay */
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err, "file not found"));
	assert_non_null(strstr(err, "the running configuration stays"));
	th_daemon_cleanup(&d);

	/* The default path is optional: without the file, the defaults stay. */
	if (access("/etc/theta/thetad.conf", F_OK) == 0) {
		print_message("SKIP: /etc/theta/thetad.conf exists on this machine\n");
		return;
	}
	assert_int_equal(th_daemon_start(&d, NULL), 0);
	assert_int_equal(th_ctl(&d, (const char *const[]){ "reload", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "there is no configuration file at /etc/theta/thetad.conf: the defaults stay"));
	assert_non_null(strstr(out, "nothing changed"));
	assert_non_null(strstr(th_daemon_log(&d), "the defaults stay"));
	th_daemon_cleanup(&d);
}

static void taken_now_or_at_restart(void **state)
{
	(void)state;
	struct th_daemon_proc d;
	char conf[PATH_MAX + 16], text[2048];
	assert_int_equal(th_daemon_prepare(&d), 0);
	snprintf(conf, sizeof conf, "%s/thetad.conf", d.dir);
	snprintf(text, sizeof text, "[web]\nroot = \"%s/a\"\n[voice]\nbitrate = 24000\n", d.dir);
	write_conf(conf, text);
	assert_int_equal(th_daemon_spawn(&d, (const char *const[]){ "--config", conf, NULL }, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 10000), 0);
	snprintf(text, sizeof text, "[web]\nroot = \"%s/b\"\n[voice]\nbitrate = 32000\n", d.dir);
	write_conf(conf, text);
	assert_int_equal(th_ctl(&d, (const char *const[]){ "reload", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "configuration reloaded from"));
	assert_non_null(strstr(out, "voice.bitrate: taken now"));
	assert_non_null(strstr(out, "web.root: changed in the file, takes effect when thetad restarts"));
	assert_null(strstr(out, "nothing changed"));
	assert_non_null(strstr(th_daemon_log(&d), "reload: web.root changed to"));
	assert_non_null(strstr(th_daemon_log(&d), "reload: voice.bitrate = 32000 (was 24000)"));
	/* --json says the same as lists */
	assert_int_equal(th_ctl(&d, (const char *const[]){ "--json", "reload", NULL }, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out), *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "restart_needed", &v));
	assert_int_equal(json_object_array_length(v), 1); /* web.root still differs from the running value */
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "web.root");
	assert_true(json_object_object_get_ex(o, "changed", &v));
	assert_int_equal(json_object_array_length(v), 0); /* the bit rate was taken the first time */
	json_object_put(o);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_file_means_the_defaults_stay),
		cmocka_unit_test(taken_now_or_at_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
