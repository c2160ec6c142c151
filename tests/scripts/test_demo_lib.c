/* scripts/demo-lib.sh, what `make demo` prints with: step titles are bold
 * only on a terminal and never with NO_COLOR set (a pipe or a log gets
 * plain text); a command is echoed as it would be pasted — an invite
 * link's '&' and '?' in single quotes — and the echo, read back by a
 * shell, gives the same words. Runs real bash, on a pty through script(1)
 * where a terminal is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "th_harness.h"

#define WAIT_MS 20000

static char out[16384], err[8192];

static int sh(const char *prog)
{
	const char *argv[] = { "/bin/bash", "-c", prog, NULL };
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS);
}

/* prog on a pseudo-terminal (script -q -e -c), env set before it. */
static int on_tty(const char *env, const char *prog)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s bash -c \"%s\"", env, prog);
	const char *argv[] = { "/usr/bin/script", "-q", "-e", "-c", cmd, "/dev/null", NULL };
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS);
}

static void colour_only_on_a_terminal(void **state)
{
	(void)state;
	assert_int_equal(sh("TERM=xterm; source scripts/demo-lib.sh; step hello"), 0);
	assert_string_equal(out, "\n== hello\n");
	if (access("/usr/bin/script", X_OK) != 0) {
		print_message("SKIP: no /usr/bin/script (util-linux) to give the demo a terminal\n");
		return;
	}
	assert_int_equal(on_tty("env -u NO_COLOR TERM=xterm", "source scripts/demo-lib.sh; step hello"), 0);
	assert_non_null(strstr(out, "\033[1m== hello\033[0m"));
	assert_int_equal(on_tty("env NO_COLOR=1 TERM=xterm", "source scripts/demo-lib.sh; step hello"), 0);
	assert_null(strstr(out, "\033["));
	assert_non_null(strstr(out, "== hello"));
	assert_int_equal(on_tty("env -u NO_COLOR TERM=dumb", "source scripts/demo-lib.sh; step hello"), 0);
	assert_null(strstr(out, "\033["));
}

static void commands_are_echoed_as_pasted(void **state)
{
	(void)state;
	assert_int_equal(sh("source scripts/demo-lib.sh; "
			    "shell_words thetactl session join 'theta://10.0.0.1:7450/ab?fp=c&token=d' --name \"it's\""),
			 0);
	assert_string_equal(out, "thetactl session join 'theta://10.0.0.1:7450/ab?fp=c&token=d' --name 'it'\\''s'");
	/* Read back by a shell, the echo is the same words. */
	assert_int_equal(sh("source scripts/demo-lib.sh; "
			    "line=$(shell_words a 'b&c' 'd e' \"f'g\" '$h' '*'); eval \"set -- $line\"; printf '%s|' \"$@\""),
			 0);
	assert_string_equal(out, "a|b&c|d e|f'g|$h|*|");
	/* Brackets are a glob: where a file 'a' exists, '[ab]' unquoted would read back as 'a'. */
	assert_int_equal(sh("source scripts/demo-lib.sh; d=$(mktemp -d) && touch \"$d/a\" && line=$(shell_words '[ab]' x]) "
			    "&& cd \"$d\" && eval \"set -- $line\"; r=$?; printf '%s|' \"$@\"; rm -r \"$d\"; exit $r"),
			 0);
	assert_string_equal(out, "[ab]|x]|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(colour_only_on_a_terminal),
		cmocka_unit_test(commands_are_echoed_as_pasted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
