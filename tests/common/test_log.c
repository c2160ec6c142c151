/* th_log: journal priority prefix vs "ident: level: msg", level filtering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_log.h"

/* stderr is redirected to an unlinked temp file while a test logs; it is
 * put back before the test asserts on the text, so cmocka's failure
 * messages (on stderr) stay visible. */
struct capture {
	int saved_fd;
	int file_fd;
};

static void start(struct capture *c)
{
	fflush(stderr);
	assert_int_equal(dup2(c->file_fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr and returns everything captured so far (static buffer). */
static const char *stop(struct capture *c)
{
	static char buf[8192];
	fflush(stderr);
	dup2(c->saved_fd, STDERR_FILENO);
	ssize_t n = pread(c->file_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static int capture_setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));
	char path[] = "/tmp/theta-test-log-XXXXXX";
	if (!c)
		return -1;
	c->file_fd = mkostemp(path, O_CLOEXEC);
	if (c->file_fd < 0)
		return -1;
	unlink(path);
	c->saved_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (c->saved_fd < 0)
		return -1;
	unsetenv("JOURNAL_STREAM");
	th_log_set_level(LOG_INFO);
	*state = c;
	start(c);
	return 0;
}

static int capture_teardown(void **state)
{
	struct capture *c = *state;
	stop(c);
	close(c->saved_fd);
	close(c->file_fd);
	free(c);
	unsetenv("JOURNAL_STREAM");
	th_log_init("theta");
	th_log_set_level(LOG_INFO);
	return 0;
}

static void set_journal_stream_to_stderr(void)
{
	struct stat st;
	char v[64];
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void plain_lines_read_ident_level_message(void **state)
{
	struct capture *c = *state;
	th_log_init("thetad");
	assert_int_equal(th_log_is_journal(), 0);
	th_err("cannot bind %s: %s", "[::]:7000", "Address in use");
	th_warn("w");
	th_notice("n %d", 3);
	th_info("i");
	assert_string_equal(stop(c), "thetad: error: cannot bind [::]:7000: Address in use\n"
					 "thetad: warning: w\n"
					 "thetad: notice: n 3\n"
					 "thetad: info: i\n");
}

static void journal_stream_matching_stderr_adds_priority_prefix(void **state)
{
	struct capture *c = *state;
	set_journal_stream_to_stderr();
	th_log_init("thetad");
	assert_int_equal(th_log_is_journal(), 1);
	th_err("boom");
	th_info("up %d", 1);
	th_log_set_level(LOG_DEBUG);
	th_debug("dbg");
	assert_string_equal(stop(c), "<3>boom\n<6>up 1\n<7>dbg\n");
}

static void journal_stream_for_another_file_is_ignored(void **state)
{
	struct capture *c = *state;
	struct stat st;
	char v[64];
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	th_log_init("x");
	assert_int_equal(th_log_is_journal(), 0);
	setenv("JOURNAL_STREAM", "garbage", 1);
	th_log_init("x");
	assert_int_equal(th_log_is_journal(), 0);
	setenv("JOURNAL_STREAM", "", 1);
	th_log_init("x");
	assert_int_equal(th_log_is_journal(), 0);
	th_info("plain");
	assert_string_equal(stop(c), "x: info: plain\n");

	/* Re-init after the journal went away drops the prefix again. */
	set_journal_stream_to_stderr();
	th_log_init("x");
	assert_int_equal(th_log_is_journal(), 1);
	unsetenv("JOURNAL_STREAM");
	th_log_init("x");
	assert_int_equal(th_log_is_journal(), 0);
}

static void messages_above_level_are_dropped(void **state)
{
	struct capture *c = *state;
	th_log_init("t");
	assert_int_equal(th_log_get_level(), LOG_INFO);
	th_debug("hidden");
	th_info("shown");
	th_log_set_level(LOG_WARNING);
	assert_int_equal(th_log_get_level(), LOG_WARNING);
	th_notice("hidden");
	th_warn("w");
	th_err("e");
	th_log_set_level(LOG_DEBUG);
	th_debug("d");
	/* Out-of-range levels are ignored. */
	th_log_set_level(-1);
	th_log_set_level(8);
	assert_int_equal(th_log_get_level(), LOG_DEBUG);
	assert_string_equal(stop(c), "t: info: shown\nt: warning: w\nt: error: e\nt: debug: d\n");
}

static void ident_is_truncated_not_overflowed_and_errno_is_kept(void **state)
{
	struct capture *c = *state;
	char longid[100];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	th_log_init(longid);
	errno = EPIPE;
	th_info("m");
	assert_int_equal(errno, EPIPE); /* logging does not clobber errno */
	char want[64];
	snprintf(want, sizeof(want), "%.31s: info: m\n", longid);
	assert_string_equal(stop(c), want);

	/* NULL ident falls back to "theta". */
	start(c);
	th_log_init(NULL);
	th_info("n");
	assert_non_null(strstr(stop(c), "\ntheta: info: n\n"));
}

static void long_message_is_truncated_to_one_line(void **state)
{
	struct capture *c = *state;
	char big[3000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	th_log_init("t");
	th_info("%s", big);
	const char *out = stop(c);
	size_t n = strlen(out);
	assert_true(n > 1000 && n < 1100);
	assert_int_equal(out[n - 1], '\n');
	assert_null(memchr(out, '\n', n - 1));
}

static void level_names_parse(void **state)
{
	assert_int_equal(th_log_level_from_string("emerg"), LOG_EMERG);
	assert_int_equal(th_log_level_from_string("alert"), LOG_ALERT);
	assert_int_equal(th_log_level_from_string("crit"), LOG_CRIT);
	assert_int_equal(th_log_level_from_string("err"), LOG_ERR);
	assert_int_equal(th_log_level_from_string("error"), LOG_ERR);
	assert_int_equal(th_log_level_from_string("warning"), LOG_WARNING);
	assert_int_equal(th_log_level_from_string("notice"), LOG_NOTICE);
	assert_int_equal(th_log_level_from_string("info"), LOG_INFO);
	assert_int_equal(th_log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(th_log_level_from_string(NULL), -EINVAL);
	assert_int_equal(th_log_level_from_string(""), -EINVAL);
	assert_int_equal(th_log_level_from_string("verbose"), -EINVAL);
	assert_int_equal(th_log_level_from_string("info "), -EINVAL);
	assert_int_equal(th_log_level_from_string("7"), -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, capture_setup, capture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(plain_lines_read_ident_level_message),
		T(journal_stream_matching_stderr_adds_priority_prefix),
		T(journal_stream_for_another_file_is_ignored),
		T(messages_above_level_are_dropped),
		T(ident_is_truncated_not_overflowed_and_errno_is_kept),
		T(long_message_is_truncated_to_one_line),
		cmocka_unit_test(level_names_parse),
	};
	return cmocka_run_group_tests_name("th_log", tests, NULL, NULL);
}
