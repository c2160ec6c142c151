/* thetactl clients: the INPUT column as the daemon's reply gives it (a
 * stand-in control.sock answers `clients` with a list we wrote): every
 * profile theta-client binds shortened, a hand without a profile, the
 * desktop and scripts, a client that has not reported, and a daemon too old
 * to send "input" at all; --json passes the full paths through. The real
 * daemon's side is tests/integration/test_client_info.c. A browser peer's row
 * shows its kind where the pid goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_ctlfake.h"
#include "th_harness.h"

static char out[65536], err[8192];

/* The control.sock's answer to every request: the canned reply (ud). */
static int canned(void *ud, const char *req, char *body, size_t cap)
{
	return snprintf(body, cap, "%s", (const char *)ud);
}

/* One client row: id, name and its "input" member (JSON text, or NULL to
 * leave the key out as a daemon before INPUT_INFO did). */
static void row(char *buf, size_t cap, int id, const char *name, const char *input)
{
	size_t l = strlen(buf);
	snprintf(buf + l, cap - l,
		 "%s{\"id\": %d, \"pid\": %d, \"user\": \"me\", \"name\": \"%s\", \"connected_s\": 1.5, \"frames\": 10%s%s}",
		 l > 40 ? ", " : "", id, 100 + id, name, input ? ", \"input\": " : "", input ? input : "");
}

static const char *const profiles[5][2] = {
	{ "/interaction_profiles/khr/simple_controller", "simple" },
	{ "/interaction_profiles/oculus/touch_controller", "touch" },
	{ "/interaction_profiles/valve/index_controller", "index" },
	{ "/interaction_profiles/htc/vive_controller", "vive" },
	{ "/interaction_profiles/microsoft/motion_controller", "motion" },
};

/* The INPUT cell of the table row whose NAME is `name` (the text between
 * the INPUT and CONNECTED headers' columns, trimmed). */
static const char *input_of(const char *name, char *cell, size_t cap)
{
	const char *hdr = out, *h_in = strstr(hdr, "INPUT"), *h_next = strstr(hdr, "CONNECTED");
	assert_non_null(h_in);
	assert_non_null(h_next);
	size_t from = (size_t)(h_in - hdr), to = (size_t)(h_next - hdr);
	char key[64];
	snprintf(key, sizeof key, " %s ", name);
	const char *p = strstr(out, key);
	assert_non_null(p);
	while (p > out && p[-1] != '\n')
		p--;
	assert_true(strcspn(p, "\n") > to);
	size_t n = to - from;
	while (n && p[from + n - 1] == ' ')
		n--;
	snprintf(cell, cap, "%.*s", (int)n, p + from);
	return cell;
}

static void input_column_shortens_profiles(void **state)
{
	(void)state;
	static char reply[16384];
	snprintf(reply, sizeof reply, "{\"ok\": true, \"result\": {\"clients\": [");
	char in[512], name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(in, sizeof in, "{\"source\": \"openxr\", \"left\": \"%s\", \"right\": \"%s\"}", profiles[i][0],
			 profiles[(i + 1) % 5][0]);
		snprintf(name, sizeof name, "xr%d", i);
		row(reply, sizeof reply, i + 1, name, in);
	}
	row(reply, sizeof reply, 6, "lefty", "{\"source\": \"openxr\", \"left\": \"/interaction_profiles/oculus/touch_controller\", \"right\": \"\"}");
	row(reply, sizeof reply, 7, "noprofile", "{\"source\": \"openxr\", \"left\": \"\", \"right\": \"\"}");
	row(reply, sizeof reply, 8, "desk", "{\"source\": \"desktop\", \"left\": \"\", \"right\": \"\"}");
	row(reply, sizeof reply, 9, "scripted", "{\"source\": \"script\", \"left\": \"\", \"right\": \"\"}");
	row(reply, sizeof reply, 10, "silent", "null");
	row(reply, sizeof reply, 11, "olddaemon", NULL);
	row(reply, sizeof reply, 12, "other", "{\"source\": \"openxr\", \"left\": \"/user/custom_profile\", \"right\": \"/x\"}");
	snprintf(reply + strlen(reply), sizeof reply - strlen(reply), "]}}");
	struct json_object *fixture = json_tokener_parse(reply); /* the fixture is valid JSON */
	assert_non_null(fixture);
	json_object_put(fixture);

	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, reply);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", c.dir, "clients", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	assert_non_null(strstr(out, "INPUT"));
	char cell[128], want[64];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "xr%d", i);
		snprintf(want, sizeof want, "openxr %s/%s", profiles[i][1], profiles[(i + 1) % 5][1]);
		assert_string_equal(input_of(name, cell, sizeof cell), want);
	}
	assert_string_equal(input_of("lefty", cell, sizeof cell), "openxr touch/-");
	assert_string_equal(input_of("noprofile", cell, sizeof cell), "openxr -/-");
	assert_string_equal(input_of("desk", cell, sizeof cell), "desktop");
	assert_string_equal(input_of("scripted", cell, sizeof cell), "script");
	/* Not reported yet, or not reported by an old daemon: "-". */
	assert_string_equal(input_of("silent", cell, sizeof cell), "-");
	assert_string_equal(input_of("olddaemon", cell, sizeof cell), "-");
	assert_string_equal(input_of("other", cell, sizeof cell), "openxr custom_profile/x");
	/* The legend says what the column is. */
	assert_non_null(strstr(out, "INPUT: "));

	/* --json: the daemon's strings, whole. */
	const char *argj[] = { th_bin("thetactl"), "--runtime-dir", c.dir, "clients", "--json", NULL };
	assert_int_equal(th_run(argj, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	struct json_object *o = json_tokener_parse(out), *list, *x;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "clients", &list));
	x = json_object_array_get_idx(list, 1);
	assert_string_equal(th_json_path(x, "input.left"), profiles[1][0]);
	assert_string_equal(th_json_path(x, "input.right"), profiles[2][0]);
	assert_string_equal(th_json_path(x, "input.source"), "openxr");
	json_object_put(o);
	th_ctlfake_stop(&c);
}

/* A browser peer's row (docs/web.md): no pid, its kind where the pid goes. */
static void a_browser_shows_its_kind_for_a_pid(void **state)
{
	(void)state;
	static const char reply[] =
		"{\"ok\": true, \"result\": {\"clients\": ["
		"{\"id\": 1, \"kind\": \"local\", \"pid\": 4242, \"user\": \"me\", \"name\": \"native\", \"connected_s\": 1.5, \"frames\": 10},"
		"{\"id\": 2, \"kind\": \"browser\", \"mode\": \"browser\", \"user\": \"Ada\", \"name\": \"webpage\", "
		"\"connected_s\": 2.5, \"frames\": 0}]}}";
	struct th_ctlfake c;
	th_ctlfake_start(&c, canned, (void *)reply);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", c.dir, "clients", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 10000), 0);
	const char *n = strstr(out, " native "), *w = strstr(out, " webpage ");
	assert_non_null(n);
	assert_non_null(w);
	const char *nl = n, *wl = w;
	while (nl > out && nl[-1] != '\n')
		nl--;
	while (wl > out && wl[-1] != '\n')
		wl--;
	assert_true(strstr(nl, "4242") && strstr(nl, "4242") < n);
	assert_true(strstr(wl, "browser") && strstr(wl, "browser") < w);
	th_ctlfake_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(input_column_shortens_profiles),
		cmocka_unit_test(a_browser_shows_its_kind_for_a_pid),
	};
	return cmocka_run_group_tests_name("thetactl_clients", tests, NULL, NULL);
}
