/* The glTF validator runner (th_gltfcheck.h). */
#include "th_gltfcheck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GV_REPORT_MAX 8192 /* bytes of the validator's report kept */

static char gv_why[256];

static const char *gv_node(void)
{
	static const char *const dirs[] = { "/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return NULL;
}

const char *gv_unavailable(void)
{
	if (!gv_node())
		return "node is not installed (the glTF validator runs on node)";
	if (access(GV_PACKAGE, R_OK) != 0) {
		snprintf(gv_why, sizeof(gv_why),
			 "the npm package gltf-validator is not installed (%s is missing: run scripts/setup with npm present)",
			 GV_PACKAGE);
		return gv_why;
	}
	return NULL;
}

int gv_validate(const char *path, char *out, size_t cap)
{
	const char *why = gv_unavailable();
	if (why) {
		snprintf(out, cap, "%s", why);
		return -ENOENT;
	}
	int p[2];
	if (pipe(p) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl(gv_node(), "node", GV_SCRIPT, path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	for (;;) {
		ssize_t k = read(p[0], out + n, cap - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == cap - 1) { /* full: drain the rest */
			char sink[4096];
			while (read(p[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[n] = 0;
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st))
		return -ECHILD;
	return WEXITSTATUS(st) == 0 ? 0 : WEXITSTATUS(st) == 1 ? 1 : -EIO;
}

void gv_assert_valid(const char *dir, const char *name)
{
	char path[PATH_MAX + 64], rep[GV_REPORT_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = gv_validate(path, rep, sizeof(rep));
	if (r == -ENOENT) {
		print_message("SKIP validating %s: %s\n", name, rep);
		return;
	}
	if (r != 0)
		fail_msg("the glTF validator found issues in %s: %s", name, rep);
	print_message("validator on %s: %s", name, rep);
}
