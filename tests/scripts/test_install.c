/* `make install DESTDIR=...` puts every file where a packager expects it —
 * the binaries, the units, the man pages of sections 1, 5 and 8,
 * thetad.conf.example (which reads back as the defaults: test_config_doc),
 * the docs under share/doc/theta, bash completion in bash-completion's
 * directory — and `make uninstall` removes all of them again, and only
 * them (a file of the machine's own in share/doc/theta stays). Run from the
 * repository's top with the build made (`make -o all` keeps make from
 * rebuilding anything). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "th_file.h"
#include "th_harness.h"

#define WAIT_MS 120000

static char out[65536], err[16384];

static const char *const installed[] = {
	"/usr/sbin/thetad",
	"/usr/bin/thetactl",
	"/usr/bin/theta-client",
	"/usr/share/man/man1/thetactl.1",
	"/usr/share/man/man1/theta-client.1",
	"/usr/share/man/man5/thetad.conf.5",
	"/usr/share/man/man8/thetad.8",
	"/usr/share/doc/theta/thetad.conf.example",
	"/usr/share/doc/theta/README.md",
	"/usr/share/doc/theta/docs/operator.md",
	"/usr/share/doc/theta/docs/presence.md",
	NULL,
};

static int make(const char *target, const char *destdir)
{
	const char *b = getenv("THETA_BUILD");
	bool san = b && strstr(b, "build-san");
	char dd[300];
	snprintf(dd, sizeof dd, "DESTDIR=%s", destdir);
	const char *argv[] = { "/usr/bin/make", "--no-print-directory", "-o", "all", target, dd, "PREFIX=/usr",
			       "BASHCOMPDIR=/usr/share/bash-completion/completions", san ? "SAN=1" : NULL, NULL };
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, WAIT_MS);
}

static bool exists(const char *root, const char *path)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s%s", root, path);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static void install_then_uninstall(void **state)
{
	(void)state;
	char dir[128];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	if (make("install", dir) != 0)
		fail_msg("make install failed: %s", err);
	for (const char *const *f = installed; *f; f++)
		if (!exists(dir, *f))
			fail_msg("make install did not install %s", *f);
	assert_true(exists(dir, "/usr/share/bash-completion/completions/thetactl"));
	/* The example is every key, commented. */
	char p[600];
	snprintf(p, sizeof p, "%s/usr/share/doc/theta/thetad.conf.example", dir);
	char *ex = th_slurp(p);
	assert_non_null(ex);
	assert_non_null(strstr(ex, "\n[net]\n"));
	assert_non_null(strstr(ex, "\n#port = 7450\n"));
	free(ex);
	/* A file of the machine's own in DOCDIR (and one of another package
	 * beside it): uninstall removes what install put there, not these. */
	char mine[600];
	snprintf(mine, sizeof mine, "%s/usr/share/doc/theta/site-notes.txt", dir);
	assert_int_equal(th_file_replace(mine, "ours\n", 5, 0644), 0);
	snprintf(p, sizeof p, "%s/usr/share/doc/other", dir);
	assert_int_equal(th_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof p, "%s/usr/share/doc/other/README", dir);
	assert_int_equal(th_file_replace(p, "other\n", 6, 0644), 0);
	if (make("uninstall", dir) != 0)
		fail_msg("make uninstall failed: %s", err);
	for (const char *const *f = installed; *f; f++)
		if (exists(dir, *f))
			fail_msg("make uninstall left %s", *f);
	assert_false(exists(dir, "/usr/share/bash-completion/completions/thetactl"));
	assert_true(exists(dir, "/usr/share/doc/theta/site-notes.txt"));
	assert_true(exists(dir, "/usr/share/doc/other/README"));
	struct stat st;
	snprintf(p, sizeof p, "%s/usr/share/doc/theta/docs", dir);
	assert_int_not_equal(stat(p, &st), 0); /* emptied, so removed */
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(install_then_uninstall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
