#include "th_xrt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int th_xrt_path(const char *name, char *out, size_t len)
{
	const char *b = getenv("THETA_BUILD");
	char rel[PATH_MAX], abs[PATH_MAX];
	snprintf(rel, sizeof rel, "%s/tests/xrt/%s", b && *b ? b : "build", name);
	if (!realpath(rel, abs))
		return -errno;
	if ((size_t)snprintf(out, len, "%s", abs) >= len)
		return -ENAMETOOLONG;
	return 0;
}

unsigned th_xrt_lines(const char *rec, const char *prefix)
{
	unsigned n = 0;
	size_t len = strlen(prefix);
	for (const char *p = rec; *p;) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return n;
}

long long th_xrt_value(const char *rec, const char *prefix, const char *key)
{
	size_t len = strlen(prefix);
	char k[64];
	snprintf(k, sizeof k, " %s=", key);
	for (const char *p = rec; *p;) {
		const char *nl = strchr(p, '\n');
		if (strncmp(p, prefix, len) == 0) {
			const char *v = strstr(p, k);
			if (v && (!nl || v < nl))
				return strtoll(v + strlen(k), NULL, 10);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

void th_xrt_print_errors(const char *rec)
{
	for (const char *p = rec; (p = strstr(p, "error fn=")) != NULL; p++) {
		const char *nl = strchr(p, '\n');
		fprintf(stderr, "runtime: %.*s\n", (int)(nl ? nl - p : (long)strlen(p)), p);
	}
}
