#include "th_xrt.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_harness.h"

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

/* What the runtime reads (tests/xrt/xrt_config.c, docs/xr-test-runtime.md)
 * and the loader's debug switch: a test starts from none of them. */
static const char *const th_xrt_vars[] = {
	"XRT_VIEW_SIZE",      "XRT_IPD",        "XRT_FOV",         "XRT_HEAD_POS",       "XRT_HEAD_YAW",
	"XRT_HEAD_VEL",       "XRT_HEAD_YAW_RATE", "XRT_UNPACED",  "XRT_EXIT_AFTER",     "XRT_LOSS_AT",
	"XRT_NO_STAGE",       "XRT_NO_HMD",     "XRT_CAPTURE_DIR", "XRT_CAPTURE_FRAMES", "XRT_RECORD",
	"XRT_VK_DEVICE",      "XRT_PROFILE",    "XRT_PROFILE_SWITCH", "XRT_INPUT",       "XRT_UNFOCUSED",
	"XRT_REJECT_PROFILE", "XRT_GARBAGE",    "XRT_FAIL_INPUT",  "XR_LOADER_DEBUG",
};

int th_xrt_env(const char *record)
{
	for (size_t i = 0; i < sizeof th_xrt_vars / sizeof th_xrt_vars[0]; i++)
		unsetenv(th_xrt_vars[i]);
	char json[PATH_MAX];
	int e = th_xrt_path("theta_xrt.json", json, sizeof json);
	if (e)
		return e;
	setenv("XR_RUNTIME_JSON", json, 1);
	setenv("XRT_RECORD", record, 1);
	setenv("XRT_UNPACED", "1", 1);
	return 0;
}

char *th_xrt_read(const char *path)
{
	char *rec = th_slurp(path);
	if (!rec)
		fail_msg("the runtime left no record at %s", path);
	return rec;
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

double th_xrt_frame_time(const char *rec, long long frame)
{
	char at[64];
	snprintf(at, sizeof at, "wait frame=%lld ", frame);
	long long t0 = th_xrt_value(rec, "wait frame=1 ", "display_ns"), t = th_xrt_value(rec, at, "display_ns");
	return frame < 0 || t0 < 0 || t < 0 ? -1 : (double)(t - t0) / 1e9;
}
