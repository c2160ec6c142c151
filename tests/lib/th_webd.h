/* cmocka helpers for tests of a real thetad with its web endpoint on
 * (thetad/web/module.c): a daemon in the fixture's slot (th_harness.h)
 * with [web] listen = 127.0.0.1:0, a session it hosts, invite links for
 * browsers and POST /offer over real TCP (th_http.h). A failed
 * expectation fails the test. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_harness.h"

#define TH_WEBD_WAIT_MS 30000
#define TH_WEBD_TOKEN_MAX 160 /* base64url of a token: 143 characters */

struct json_object;

/* A daemon in the slot with [web] listen = listen (NULL: 127.0.0.1:0) and
 * root a folder of its directory holding an index.html; extra_conf (NULL:
 * none) is more lines of thetad.conf after the [web] section's (e.g.
 * "max_peers = 2\n"). The HTTP port in *port. */
struct th_daemon_proc *th_webd_start(const char *listen, const char *extra_conf, unsigned *port);
/* `session host --name name`: the session id (32 hex) into id[33]. */
void th_webd_host(struct th_daemon_proc *d, const char *name, char id[33]);
/* `invite SESSION --role role` (expires_s 0: never; single_use): the
 * browser link into link[cap] and its token into token[TH_WEBD_TOKEN_MAX]. */
void th_webd_invite(struct th_daemon_proc *d, const char *session, const char *role, long long expires_s,
		    bool single_use, char *link, size_t cap, char token[TH_WEBD_TOKEN_MAX]);
/* POST /offer with body from 127.0.0.1 (src NULL) or the given loopback
 * source address ("127.0.0.7": its own offer-rate bucket). The status; the
 * reply parsed into *reply (the caller puts it; NULL when not JSON). */
int th_webd_offer(unsigned port, const char *src, const char *body, size_t len, struct json_object **reply);
/* The body of an offer: {"token" or "resume": secret, "sdp": sdp, "name": name}
 * (name NULL: left out). malloc'd. */
char *th_webd_offer_body(const char *key, const char *secret, const char *sdp, const char *name);
/* reply's "code" and "error" are code and sentence. */
void th_webd_expect_error(struct json_object *reply, const char *code, const char *sentence);
