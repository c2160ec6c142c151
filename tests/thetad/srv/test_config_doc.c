/* The configuration's three renderings agree with its one table
 * (thetad/srv/config.c): thetad --print-config-example, uncommented, is
 * read back to exactly the defaults --print-config prints; every key
 * --print-config prints is documented in thetad.conf(5) under its section
 * and in docs/operator.md's table. A key added to the table without its
 * documentation fails here. Run from the repository's top (make test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_harness.h"

#define WAIT_MS 20000
#define MAN "docs/man/thetad.conf.5"
#define OPS "docs/operator.md"

static char out[65536], err[8192], defaults[65536];

static void print_defaults(void)
{
	assert_int_equal(th_run_bin("thetad", (const char *const[]){ "--config", "/dev/null", "--print-config", NULL },
				    NULL, defaults, sizeof defaults, err, sizeof err, WAIT_MS),
			 0);
}

static void example_reads_back_as_the_defaults(void **state)
{
	(void)state;
	print_defaults();
	assert_int_equal(th_run_bin("thetad", (const char *const[]){ "--print-config-example", NULL }, NULL, out,
				    sizeof out, err, sizeof err, WAIT_MS),
			 0);
	char dir[128], path[256];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/thetad.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	unsigned keys = 0, comments = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && strstr(line, " = ")) {
			fprintf(f, "%s\n", line + 1); /* a key, commented out: uncomment it */
			keys++;
		} else {
			if (line[0] == '#')
				comments++;
			fprintf(f, "%s\n", line);
		}
	}
	assert_int_equal(fclose(f), 0);
	assert_true(keys >= 20);
	assert_true(comments >= keys); /* each key has its meaning above it */
	int rc = th_run_bin("thetad", (const char *const[]){ "--config", path, "--print-config", NULL }, NULL, out,
			    sizeof out, err, sizeof err, WAIT_MS);
	th_rm_rf(dir);
	if (rc != 0)
		fail_msg("the uncommented example does not load: %s", err);
	assert_string_equal(out, defaults);
}

/* Each "key = value" line of --print-config, with the section it is under. */
static void every_key_is_documented(void **state)
{
	(void)state;
	print_defaults();
	char *man = th_slurp(MAN), *ops = th_slurp(OPS);
	if (!man || !ops)
		fail_msg("cannot read %s or %s (run from the repository's top)", MAN, OPS);
	char section[64] = "";
	unsigned checked = 0, missing = 0;
	for (char *line = strtok(defaults, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '[') {
			snprintf(section, sizeof section, "%.*s", (int)strcspn(line + 1, "]"), line + 1);
			continue;
		}
		char key[64];
		snprintf(key, sizeof key, "%.*s", (int)strcspn(line, " ="), line);
		/* thetad.conf(5): ".B key" after ".SS [section]" (top-level keys before the first section) */
		char ss[96], tp[96], row[160];
		snprintf(ss, sizeof ss, section[0] ? ".SS [%s]\n" : ".SS Top level\n", section);
		snprintf(tp, sizeof tp, ".TP\n.B %s\n", key);
		const char *sec = strstr(man, ss);
		const char *next = sec ? strstr(sec + 1, ".SS ") : NULL;
		const char *at = sec ? strstr(sec, tp) : NULL;
		if (!at || (next && at > next)) {
			print_message("%s lacks key %s%s%s\n", MAN, section, section[0] ? "." : "", key);
			missing++;
		}
		if (section[0])
			snprintf(row, sizeof row, "| `[%s] %s` |", section, key);
		else
			snprintf(row, sizeof row, "| `%s` |", key);
		if (!strstr(ops, row)) {
			print_message("%s lacks the row %s\n", OPS, row);
			missing++;
		}
		checked++;
	}
	free(man);
	free(ops);
	assert_true(checked >= 20);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_reads_back_as_the_defaults),
		cmocka_unit_test(every_key_is_documented),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
