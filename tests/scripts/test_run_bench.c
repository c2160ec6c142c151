/* scripts/run-bench: a benchmark that exits non-zero or prints no figure
 * fails the run and is named; the log of a run whose stdout and stderr share
 * one file keeps every line, the first ones included. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "th_harness.h"

static void write_script(const char *dir, const char *name, const char *body)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/tests/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Runs run-bench on the named fake benchmarks with stdout and stderr both
 * on DIR/log (as `make bench >log 2>&1` does); returns its exit status. */
static int run_bench(const char *dir, const char *const *names)
{
	char log[PATH_MAX], build[PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(build, sizeof(build), "THETA_BUILD=%s", dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		const char *argv[16] = { "/bin/bash", "scripts/run-bench" };
		char paths[8][PATH_MAX];
		int n = 2;
		for (int i = 0; names[i] && i < 8; i++) {
			snprintf(paths[i], sizeof(paths[i]), "%s/tests/%s", dir, names[i]);
			argv[n++] = paths[i];
		}
		argv[n] = NULL;
		putenv(build);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void setup_dir(char *dir, size_t len)
{
	assert_int_equal(th_mkdtemp(dir, len), 0);
	char t[PATH_MAX];
	snprintf(t, sizeof(t), "%s/tests", dir);
	assert_int_equal(mkdir(t, 0755), 0);
	write_script(dir, "bench_ok", "echo 'ok: the very first line'\necho 'ok: on stderr' >&2\n"
				      "echo '{\"name\": \"fake.ok\", \"value\": 1, \"unit\": \"x\"}'");
	write_script(dir, "bench_nofig", "echo 'nofig: the very first line'\necho 'nofig: on stderr' >&2");
	write_script(dir, "bench_exit", "echo 'exit: first'\necho '{\"name\": \"fake.exit\", \"value\": 2, \"unit\": \"x\"}'\n"
					"exit 4");
}

static void a_shared_log_keeps_its_first_lines_and_every_line(void **state)
{
	char dir[PATH_MAX], log[PATH_MAX + 8];
	setup_dir(dir, sizeof(dir));
	assert_int_equal(run_bench(dir, (const char *const[]){ "bench_ok", NULL }), 0);
	snprintf(log, sizeof(log), "%s/log", dir);
	char *text = th_slurp(log);
	assert_non_null(text);
	static const char first[] = "=== bench_ok\nok: the very first line\n";
	assert_int_equal(strncmp(text, first, strlen(first)), 0);
	assert_non_null(strstr(text, "ok: on stderr\n"));
	assert_non_null(strstr(text, "{\"name\": \"fake.ok\""));
	assert_non_null(strstr(text, "figures: "));
	free(text);
	snprintf(log, sizeof(log), "%s/bench/results.json", dir);
	text = th_slurp(log);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"fake.ok\""));
	free(text);
	th_rm_rf(dir);
}

static void a_benchmark_without_a_figure_or_with_an_error_fails_the_run(void **state)
{
	char dir[PATH_MAX], log[PATH_MAX + 8];
	setup_dir(dir, sizeof(dir));
	assert_int_equal(run_bench(dir, (const char *const[]){ "bench_nofig", "bench_ok", "bench_exit", NULL }), 1);
	snprintf(log, sizeof(log), "%s/log", dir);
	char *text = th_slurp(log);
	assert_non_null(text);
	static const char first[] = "=== bench_nofig\nnofig: the very first line\n";
	assert_int_equal(strncmp(text, first, strlen(first)), 0);
	assert_non_null(strstr(text, "benchmark bench_nofig failed: it printed no figure"));
	assert_non_null(strstr(text, "benchmark bench_exit failed: exit status 4"));
	assert_null(strstr(text, "benchmark bench_ok failed"));
	assert_non_null(strstr(text, "2 benchmark(s) failed: bench_nofig bench_exit"));
	free(text);
	/* Each benchmark's own log, whole. */
	snprintf(log, sizeof(log), "%s/bench-logs/bench_nofig.log", dir);
	text = th_slurp(log);
	assert_non_null(text);
	assert_string_equal(text, "nofig: the very first line\nnofig: on stderr\n");
	free(text);
	th_rm_rf(dir);
}

static void a_figure_line_that_is_not_json_fails_the_run(void **state)
{
	char dir[PATH_MAX], log[PATH_MAX + 8];
	setup_dir(dir, sizeof(dir));
	write_script(dir, "bench_bad", "echo '{\"name\": \"fake.bad\", \"value\": oops}'");
	assert_int_equal(run_bench(dir, (const char *const[]){ "bench_ok", "bench_bad", NULL }), 1);
	snprintf(log, sizeof(log), "%s/log", dir);
	char *text = th_slurp(log);
	assert_non_null(text);
	assert_non_null(strstr(text, "cannot merge the figures"));
	free(text);
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_shared_log_keeps_its_first_lines_and_every_line),
		cmocka_unit_test(a_benchmark_without_a_figure_or_with_an_error_fails_the_run),
		cmocka_unit_test(a_figure_line_that_is_not_json_fails_the_run),
	};
	return cmocka_run_group_tests_name("run-bench", tests, NULL, NULL);
}
