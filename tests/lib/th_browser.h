/* Tests in a real browser (docs/web.md "Tests in a real browser"): runs
 * `node tests/web/DRIVER.mjs ARGS...`, a driver script that launches
 * Debian's chromium through playwright-core from tools/npm (headless,
 * --no-sandbox --disable-gpu --no-first-run --disable-background-networking
 * --disable-component-update --disable-sync, a fresh --user-data-dir made
 * here and removed after; tests/web/browser.mjs has the launch) and prints
 * its result as one JSON object on its last line of stdout.
 *
 * The environment the driver gets: THETA_CHROMIUM (the browser),
 * THETA_PLAYWRIGHT (playwright-core's folder), THETA_BROWSER_PROFILE (the
 * fresh profile folder), THETA_BROWSER_TIMEOUT_MS (the time it has). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TH_BROWSER_CHROMIUM "/usr/bin/chromium"
#define TH_BROWSER_PLAYWRIGHT "tools/npm/node_modules/playwright-core"
#define TH_BROWSER_ARGS_MAX 24
#define TH_BROWSER_TIMEOUT_MS 60000
#define TH_BROWSER_OUT_MAX (1u << 20) /* bytes of the driver's stdout kept */
#define TH_BROWSER_WHY_MAX 512u
/* The page's background (web/js/render.js BACKGROUND, sRGB 28 31 36) and
 * how far from it a pixel still counts as background. */
#define TH_BROWSER_BG_R 28
#define TH_BROWSER_BG_G 31
#define TH_BROWSER_BG_B 36
#define TH_BROWSER_BG_SLACK 24

struct json_object;

/* Whether node, chromium and playwright-core are here; when not, why says
 * which is missing and how to get it (scripts/setup). */
bool th_browser_available(char *why, size_t len);
/* th_browser_available, or prints "SKIP: <why>" and returns true (the
 * caller then skip()s). */
bool th_browser_skip(void);
/* Runs the driver tests/web/<driver> with args (NULL-terminated, at most
 * TH_BROWSER_ARGS_MAX), killed after timeout_ms. 0 and *result (the
 * driver's JSON object; json_object_put it) when it printed one, whatever
 * its "ok" says; otherwise -errno with why[len] saying what happened and
 * the driver's stderr tail printed to stderr. */
int th_browser_run(const char *driver, const char *const *args, int timeout_ms, struct json_object **result, char *why,
		   size_t len);
/* The share (0..1) of the middle half of an RGBA picture (w x h, rows of
 * w * 4 bytes) that is not the page's background: a screenshot that shows
 * the model has a good part of it, one without the model only the grid's
 * few lines. */
double th_browser_model_fraction(const uint8_t *rgba, uint32_t w, uint32_t h);
