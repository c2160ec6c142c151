/* A browser held open across the cases of one test binary (docs/web.md
 * "Tests in a real browser"): `node tests/web/e2e.mjs` runs Debian's
 * chromium through playwright-core (th_browser.h's flags and checks) and
 * takes requests one JSON object a line on its stdin; each is answered on
 * its stdout. Pages live in their own browser contexts (their own storage:
 * their own resume secrets, their own identities). th_webpage_call sends
 * one request and waits for its answer; the ops are e2e.mjs's. Chromium is
 * the heavy part: one per binary, reused by every case. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TH_WEBPAGE_DRIVER "tests/web/e2e.mjs"
#define TH_WEBPAGE_START_MS 45000 /* node and chromium starting on a loaded machine */
#define TH_WEBPAGE_STOP_MS 10000
#define TH_WEBPAGE_LINE_MAX (1u << 20) /* bytes of one answer */
#define TH_WEBPAGE_WHY_MAX 4096u

struct json_object;
struct th_webpage;

/* Starts the driver: 0; -ENOENT when node, chromium or playwright-core
 * is missing (th_browser_available) (why says which: the caller skips), another -errno when the
 * browser did not start (why says what it printed). */
int th_webpage_start(struct th_webpage **out, char *why, size_t len);
/* Sends req ({"op": ..., "page": ..., ...}; consumed; its "id" is set
 * here) and waits up to timeout_ms for its answer: 0 and *value (the
 * answer's value; NULL for null; json_object_put it); -EPROTO when the
 * driver answered with an error (why: its sentence, where the page stood
 * and its console's end); -ETIMEDOUT; -EPIPE when the driver is gone. */
int th_webpage_call(struct th_webpage *w, struct json_object *req, int timeout_ms, struct json_object **value,
		    char *why, size_t len);
/* A request {"op": op, "page": page} (page NULL: left out), and a
 * string member added to one (o returned). */
struct json_object *th_webpage_req(const char *op, const char *page);
struct json_object *th_webpage_arg(struct json_object *o, const char *key, const char *value);
/* The end of the driver's stderr (static buffer). */
const char *th_webpage_stderr(struct th_webpage *w);
/* Quits the browser (killed after TH_WEBPAGE_STOP_MS) and frees w. */
void th_webpage_stop(struct th_webpage **w);
