/* scripts/thetactl.bash-completion in a real bash against a real thetad:
 * commands, a command's options and subcommands (read from thetactl's
 * table through `thetactl __complete`), session names and ids and peers
 * from the daemon, roles; global options before the command. Each case
 * sets COMP_WORDS / COMP_CWORD as bash does and prints COMPREPLY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "th_daemontest.h"
#include "th_harness.h"

#define SCRIPT "scripts/thetactl.bash-completion"
#define WAIT_MS 20000

static char out[65536], err[8192];

/* COMPREPLY for the words (the last is the one being completed), one per
 * line in out. */
static void complete(const char *rt, const char *words)
{
	char bindir[4200], prog[8192];
	snprintf(bindir, sizeof bindir, "%s", th_bin("thetactl"));
	char *slash = strrchr(bindir, '/');
	assert_non_null(slash);
	*slash = 0;
	snprintf(prog, sizeof prog,
		 "PATH='%s':$PATH; source " SCRIPT "; COMP_WORDS=(thetactl %s%s %s); "
		 "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
		 "[[ \"${COMP_WORDS[COMP_CWORD]}\" == __EMPTY__ ]] && COMP_WORDS[COMP_CWORD]=''; "
		 "_thetactl; ((${#COMPREPLY[@]})) && printf '%%s\\n' \"${COMPREPLY[@]}\"; true",
		 bindir, rt ? "--runtime-dir " : "", rt ? rt : "", words);
	const char *argv[] = { "/bin/bash", "-c", prog, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS);
	if (rc != 0)
		fail_msg("bash exited %d: %s", rc, err);
}

static bool has(const char *word)
{
	char w[128];
	snprintf(w, sizeof w, "\n%s\n", word);
	char buf[sizeof out + 2];
	snprintf(buf, sizeof buf, "\n%s", out);
	return strstr(buf, w) != NULL;
}

static void commands_options_subcommands(void **state)
{
	(void)state;
	complete(NULL, "se");
	assert_true(has("session"));
	assert_true(has("sessions"));
	assert_false(has("status"));
	assert_false(has("__complete")); /* hidden */
	complete(NULL, "log --");
	assert_true(has("--session"));
	assert_true(has("--follow"));
	assert_true(has("--json"));
	assert_true(has("--help"));
	complete(NULL, "session __EMPTY__");
	assert_true(has("host"));
	assert_true(has("join"));
	assert_true(has("leave"));
	complete(NULL, "invite --role e");
	assert_string_equal(out, "editor\n");
	complete(NULL, "role 3 a");
	assert_string_equal(out, "admin\n");
	complete(NULL, "--ti");
	assert_string_equal(out, "--timeout\n");
	complete(NULL, "--timeout 3 wh");
	assert_string_equal(out, "whoami\n");
}

static void sessions_come_from_the_daemon(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	assert_int_equal(th_ctl(d, (const char *const[]){ "session", "host", "--name", "studio", NULL }, out, sizeof out,
				err, sizeof err),
			 0);
	struct json_object *s = th_ctl_call(d, "{\"cmd\":\"sessions\",\"args\":{}}"), *arr;
	assert_true(json_object_object_get_ex(s, "sessions", &arr));
	char id[64];
	snprintf(id, sizeof id, "%s", dt_str(json_object_array_get_idx(arr, 0), "id"));
	json_object_put(s);
	complete(d->runtime_dir, "log --session st");
	assert_string_equal(out, "studio\n");
	char words[128];
	snprintf(words, sizeof words, "scene --session %.6s", id);
	complete(d->runtime_dir, words);
	assert_true(has(id));
	/* No daemon: nothing offered, nothing printed on the terminal. */
	complete("/nonexistent", "log --session st");
	assert_string_equal(out, "");
	assert_string_equal(err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(commands_options_subcommands),
		cmocka_unit_test_teardown(sessions_come_from_the_daemon, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
