/* Runs browser drivers under node (th_browser.h). */
#include "th_browser.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_harness.h"

#define TH_BROWSER_ERR_MAX (64u * 1024u)
#define TH_BROWSER_ERR_TAIL 4000u

static const char *playwright_dir(char *buf, size_t len)
{
	const char *e = getenv("THETA_PLAYWRIGHT");
	if (e && *e)
		snprintf(buf, len, "%s", e);
	else if (!realpath(TH_BROWSER_PLAYWRIGHT, buf))
		snprintf(buf, len, "%s", TH_BROWSER_PLAYWRIGHT);
	return buf;
}

bool th_browser_available(char *why, size_t len)
{
	char node[PATH_MAX], pw[PATH_MAX], pkg[PATH_MAX + 16];
	if (!th_find_on_path("node", node, sizeof node)) {
		snprintf(why, len, "node is not installed (apt-get install nodejs): the browser tests run playwright-core under it");
		return false;
	}
	if (access(TH_BROWSER_CHROMIUM, X_OK) != 0) {
		snprintf(why, len, "%s is not installed (apt-get install chromium): the browser tests drive it", TH_BROWSER_CHROMIUM);
		return false;
	}
	snprintf(pkg, sizeof pkg, "%s/package.json", playwright_dir(pw, sizeof pw));
	if (access(pkg, R_OK) != 0) {
		snprintf(why, len, "playwright-core is not in %s (scripts/setup installs it from npm)", pw);
		return false;
	}
	return true;
}

bool th_browser_skip(void)
{
	char why[TH_BROWSER_WHY_MAX];
	if (th_browser_available(why, sizeof why))
		return false;
	printf("SKIP: %s\n", why);
	return true;
}

/* The last line of out that parses as a JSON object. */
static struct json_object *last_json(char *out)
{
	char *end = out + strlen(out);
	while (end > out) {
		while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			*--end = 0;
		char *line = end;
		while (line > out && line[-1] != '\n')
			line--;
		if (*line == '{') {
			struct json_object *o = json_tokener_parse(line);
			if (o && json_object_is_type(o, json_type_object))
				return o;
			json_object_put(o);
		}
		end = line;
	}
	return NULL;
}

int th_browser_run(const char *driver, const char *const *args, int timeout_ms, struct json_object **result, char *why,
		   size_t len)
{
	*result = NULL;
	char node[PATH_MAX], pw[PATH_MAX], script[PATH_MAX], profile[80];
	if (!th_find_on_path("node", node, sizeof node)) {
		snprintf(why, len, "node is not installed");
		return -ENOENT;
	}
	if (snprintf(script, sizeof script, "tests/web/%s", driver) >= (int)sizeof script || access(script, R_OK) != 0) {
		snprintf(why, len, "no driver %s (tests run from the repository root)", script);
		return -ENOENT;
	}
	if (th_mkdtemp(profile, sizeof profile) < 0) {
		snprintf(why, len, "cannot make a browser profile folder");
		return -EIO;
	}
	char e_chrome[PATH_MAX + 32], e_pw[PATH_MAX + 32], e_prof[128], e_to[64];
	snprintf(e_chrome, sizeof e_chrome, "THETA_CHROMIUM=%s", TH_BROWSER_CHROMIUM);
	snprintf(e_pw, sizeof e_pw, "THETA_PLAYWRIGHT=%s", playwright_dir(pw, sizeof pw));
	snprintf(e_prof, sizeof e_prof, "THETA_BROWSER_PROFILE=%s", profile);
	/* The driver stops itself a little before it is killed, to say why. */
	snprintf(e_to, sizeof e_to, "THETA_BROWSER_TIMEOUT_MS=%d", timeout_ms > 5000 ? timeout_ms - 3000 : timeout_ms);
	const char *env[] = { e_chrome, e_pw, e_prof, e_to, NULL };
	const char *argv[TH_BROWSER_ARGS_MAX + 3] = { node, script };
	unsigned n = 0;
	while (args && args[n] && n < TH_BROWSER_ARGS_MAX) {
		argv[n + 2] = args[n];
		n++;
	}
	if (args && args[n]) {
		th_rm_rf(profile);
		snprintf(why, len, "more than %u driver arguments", TH_BROWSER_ARGS_MAX);
		return -E2BIG;
	}
	char *out = malloc(TH_BROWSER_OUT_MAX), *err = malloc(TH_BROWSER_ERR_MAX);
	if (!out || !err) {
		free(out);
		free(err);
		th_rm_rf(profile);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	int rc = th_run(argv, env, -1, out, TH_BROWSER_OUT_MAX, err, TH_BROWSER_ERR_MAX, timeout_ms);
	th_rm_rf(profile);
	struct json_object *o = last_json(out);
	int r = 0;
	if (o) {
		*result = o;
	} else {
		size_t el = strlen(err);
		fprintf(stderr, "th_browser: %s exited %d without a JSON result; its stderr ends:\n%s\n", driver, rc,
			err + (el > TH_BROWSER_ERR_TAIL ? el - TH_BROWSER_ERR_TAIL : 0));
		snprintf(why, len, "the driver %s exited %d without a result%s", driver, rc,
			 rc == 128 + 9 ? " (killed after its time ran out)" : "");
		r = -EPROTO;
	}
	free(out);
	free(err);
	return r;
}

double th_browser_model_fraction(const uint8_t *rgba, uint32_t w, uint32_t h)
{
	uint64_t n = 0, all = 0;
	for (uint32_t y = h / 4; y < h * 3 / 4; y++)
		for (uint32_t x = w / 4; x < w * 3 / 4; x++) {
			const uint8_t *p = rgba + ((size_t)y * w + x) * 4;
			all++;
			if (abs(p[0] - TH_BROWSER_BG_R) > TH_BROWSER_BG_SLACK || abs(p[1] - TH_BROWSER_BG_G) > TH_BROWSER_BG_SLACK ||
			    abs(p[2] - TH_BROWSER_BG_B) > TH_BROWSER_BG_SLACK)
				n++;
		}
	return all ? (double)n / (double)all : 0.0;
}
