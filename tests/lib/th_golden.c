/* Golden-image compare for tests (th_golden.h). */
#include "th_golden.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "th_file.h"

#define TH_GOLDEN_DIR_DEFAULT "tests/golden"

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > TH_GOLDEN_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

static const char *default_out_dir(char *buf, size_t len)
{
	const char *b = getenv("THETA_BUILD");
	snprintf(buf, len, "%s/golden", b && *b ? b : "build");
	return buf;
}

/* Writes NAME.actual.png and, when want is given, NAME.diff.png. */
static int write_actual(const char *out_dir, const char *name, const uint8_t *rgba, uint32_t w, uint32_t h,
			const uint8_t *want, uint8_t max_diff, char *actual, size_t alen)
{
	int rc = th_mkdir_p(out_dir, 0755);
	if (rc < 0)
		return rc;
	snprintf(actual, alen, "%s/%s.actual.png", out_dir, name);
	rc = gfx_png_write(actual, rgba, w, h, NULL, 0);
	if (rc < 0 || !want)
		return rc;
	uint8_t *diff = malloc((size_t)w * h * 4u);
	if (!diff)
		return -ENOMEM;
	gfx_png_diff_image(rgba, want, w, h, max_diff, diff);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.diff.png", out_dir, name);
	rc = gfx_png_write(path, diff, w, h, NULL, 0);
	free(diff);
	return rc;
}

int th_golden_compare(const char *golden_dir, const char *out_dir, const char *name, const uint8_t *rgba,
		      uint32_t w, uint32_t h, const struct gfx_png_tolerance *tol, char *why, size_t whylen)
{
	char obuf[PATH_MAX], golden[PATH_MAX], actual[PATH_MAX], msg[GFX_PNG_WHY_MAX];
	if (!name_ok(name)) {
		snprintf(why, whylen, "golden name '%s' is not 1..%u of [A-Za-z0-9_.-]", name ? name : "",
			 TH_GOLDEN_NAME_MAX);
		return -EINVAL;
	}
	const char *env_dir = getenv("THETA_GOLDEN_DIR");
	if (!golden_dir)
		golden_dir = env_dir && *env_dir ? env_dir : TH_GOLDEN_DIR_DEFAULT;
	if (!out_dir)
		out_dir = default_out_dir(obuf, sizeof(obuf));
	snprintf(golden, sizeof(golden), "%s/%s.png", golden_dir, name);
	struct gfx_png_tolerance t = tol ? *tol : (struct gfx_png_tolerance){ 0 };

	const char *upd = getenv("THETA_UPDATE_GOLDENS");
	if (upd && strcmp(upd, "1") == 0) {
		int rc = th_mkdir_p(golden_dir, 0755);
		if (rc < 0)
			snprintf(msg, sizeof(msg), "%s: cannot make the folder: %s", golden_dir, strerror(-rc));
		else
			rc = gfx_png_write(golden, rgba, w, h, msg, sizeof(msg));
		if (rc < 0)
			snprintf(why, whylen, "cannot write the golden: %s", msg);
		else
			printf("th_golden: wrote %s (%ux%u)\n", golden, w, h);
		return rc;
	}

	uint8_t *want = NULL;
	uint32_t gw = 0, gh = 0;
	int rc = gfx_png_read(golden, &want, &gw, &gh, msg, sizeof(msg));
	if (rc < 0) {
		int wr = write_actual(out_dir, name, rgba, w, h, NULL, 0, actual, sizeof(actual));
		snprintf(why, whylen, "%s (THETA_UPDATE_GOLDENS=1 writes it); the image is in %s", msg,
			 wr < 0 ? "no file (unwritable)" : actual);
		return 1;
	}
	if (gw != w || gh != h) {
		int wr = write_actual(out_dir, name, rgba, w, h, NULL, 0, actual, sizeof(actual));
		snprintf(why, whylen, "%s is %ux%u but the image is %ux%u; the image is in %s", golden, gw, gh, w, h,
			 wr < 0 ? "no file (unwritable)" : actual);
		free(want);
		return 1;
	}
	struct gfx_png_compare_result r;
	bool same = gfx_png_compare(rgba, want, w, h, &t, &r);
	if (!same) {
		char desc[256];
		gfx_png_compare_describe(&r, &t, desc, sizeof(desc));
		int wr = write_actual(out_dir, name, rgba, w, h, want, t.max_diff, actual, sizeof(actual));
		snprintf(why, whylen, "%s: %s; the image is in %s (and .diff.png)", golden, desc,
			 wr < 0 ? "no file (unwritable)" : actual);
	}
	free(want);
	return same ? 0 : 1;
}

void th_golden_check(const char *name, const uint8_t *rgba, uint32_t w, uint32_t h,
		     const struct gfx_png_tolerance *tol)
{
	char why[1024] = "";
	int rc = th_golden_compare(NULL, NULL, name, rgba, w, h, tol, why, sizeof(why));
	if (rc != 0)
		fail_msg("golden %s: %s", name, why);
}
