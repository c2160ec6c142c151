/* Helpers for tests with several real thetad processes on loopback (or in
 * network namespaces): start/kill/restart daemons with their own state and
 * runtime dirs and an ephemeral UDP port, host/invite/join through the real
 * thetactl, and compare command logs. Header-only; include after cmocka. */
#pragma once
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_harness.h"
#include "th_time.h"

#define NF_WAIT_MS 30000
#define NF_OUT 262144

struct nf_daemon {
	struct th_daemon_proc p;
	const char *args[16];
	const char *env[8];
	uint16_t port;
	char fp[80];
};

static char nf_out[NF_OUT], nf_err[16384];

/* Every daemon started, so that a failed assertion still stops them
 * (nf_teardown, the cmocka teardown of each test). */
#define NF_MAX_DAEMONS 16
static struct nf_daemon *nf_started[NF_MAX_DAEMONS];

static inline int nf_teardown(void **state)
{
	for (int i = 0; i < NF_MAX_DAEMONS; i++)
		if (nf_started[i]) {
			th_daemon_cleanup(&nf_started[i]->p);
			nf_started[i] = NULL;
		}
	return 0;
}

/* Runs thetactl against d; returns its exit code (stdout in nf_out). */
static inline int nf_ctl(struct nf_daemon *d, const char *const *args)
{
	return th_ctl(&d->p, args, nf_out, sizeof(nf_out), nf_err, sizeof(nf_err));
}

static inline struct json_object *nf_ctl_json(struct nf_daemon *d, const char *const *args)
{
	if (nf_ctl(d, args) != 0)
		return NULL;
	return json_tokener_parse(nf_out);
}

static inline void nf_read_status(struct nf_daemon *d)
{
	struct json_object *st = nf_ctl_json(d, (const char *const[]){ "status", "--json", NULL }), *v;
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "udp_port", &v));
	d->port = (uint16_t)json_object_get_int(v);
	assert_true(json_object_object_get_ex(st, "cert_fingerprint", &v));
	snprintf(d->fp, sizeof(d->fp), "%s", json_object_get_string(v));
	json_object_put(st);
}

/* Spawns (again, for a restart) and waits for READY=1. */
static inline int nf_spawn(struct nf_daemon *d)
{
	int r = th_daemon_respawn(&d->p, d->args, d->env, 15000);
	if (r < 0)
		fprintf(stderr, "thetad did not become ready (%s); its log:\n%s\n", strerror(-r), th_daemon_log(&d->p));
	return r;
}

/* extra: NULL-terminated thetad arguments after "--port 0" (may be NULL);
 * env: "K=V" entries (may be NULL). */
static inline void nf_start(struct nf_daemon *d, const char *const *extra, const char *const *env)
{
	memset(d, 0, sizeof(*d));
	int n = 0;
	d->args[n++] = "--port";
	d->args[n++] = "0";
	for (int i = 0; extra && extra[i] && n < 15; i++)
		d->args[n++] = extra[i];
	for (int i = 0; env && env[i] && i < 7; i++)
		d->env[i] = env[i];
	assert_int_equal(th_daemon_prepare(&d->p), 0);
	for (int i = 0; i < NF_MAX_DAEMONS; i++)
		if (!nf_started[i]) {
			nf_started[i] = d;
			break;
		}
	assert_int_equal(nf_spawn(d), 0);
	nf_read_status(d);
}

static inline void nf_kill(struct nf_daemon *d, int sig)
{
	int st;
	th_daemon_stop(&d->p, sig, 10000, &st);
}

static inline void nf_cleanup(struct nf_daemon *d)
{
	th_daemon_cleanup(&d->p);
	for (int i = 0; i < NF_MAX_DAEMONS; i++)
		if (nf_started[i] == d)
			nf_started[i] = NULL;
}

/* Hosts a session named `name` on d; its id into id[33]. */
static inline void nf_host(struct nf_daemon *d, const char *name, char id[33])
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "session", "host", "--name", name, "--json", NULL });
	struct json_object *v;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "session", &v));
	snprintf(id, 33, "%s", json_object_get_string(v));
	json_object_put(r);
}

/* An invite link into link[600]; extra: more `thetactl invite` flags. */
static inline void nf_invite(struct nf_daemon *d, const char *session, const char *role, const char *const *extra,
			     char link[600])
{
	const char *args[16] = { "invite", session, "--role", role, "--host", "127.0.0.1" };
	int n = 6;
	for (int i = 0; extra && extra[i] && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	assert_int_equal(nf_ctl(d, args), 0);
	nf_out[strcspn(nf_out, "\n")] = 0;
	snprintf(link, 600, "%s", nf_out);
	assert_true(!strncmp(link, "theta://", 8));
}

/* `thetactl session join LINK`: its exit code; stderr in nf_err. */
static inline int nf_join(struct nf_daemon *d, const char *link)
{
	return nf_ctl(d, (const char *const[]){ "session", "join", link, "--timeout", "25", NULL });
}

/* nf_join that must succeed: on failure, thetactl's error and the host's
 * log are printed before the assertion fails. */
static inline void nf_join_ok(struct nf_daemon *host, struct nf_daemon *d, const char *link)
{
	int rc = nf_join(d, link);
	if (rc != 0)
		fprintf(stderr, "join failed: %s\nthe host's log:\n%s\n", nf_err, th_daemon_log(&host->p));
	assert_int_equal(rc, 0);
}

/* d joins host's session through an invite for role; it must succeed. */
static inline void nf_invite_join(struct nf_daemon *host, struct nf_daemon *d, const char *session, const char *role)
{
	char link[600];
	nf_invite(host, session, role, NULL, link);
	nf_join_ok(host, d, link);
}

static inline int nf_line_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The log of a session as one line per entry "lamport author seq type
 * scope_id size", sorted (each daemon lists its log in its own append
 * order, which differs between replicas of one session); returns the
 * number of entries. */
static inline int nf_log_text(struct nf_daemon *d, const char *session, char *buf, size_t len)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "log", "--session", session, "--max", "10000",
								     "--json", NULL });
	struct json_object *arr;
	buf[0] = 0;
	if (!r)
		return -1;
	if (!json_object_object_get_ex(r, "entries", &arr)) {
		json_object_put(r);
		return -1;
	}
	int n = (int)json_object_array_length(arr);
	char **lines = calloc((size_t)n + 1, sizeof(char *));
	for (int k = 0; lines && k < n; k++) {
		struct json_object *e = json_object_array_get_idx(arr, k), *a, *b, *c, *t, *s, *z;
		json_object_object_get_ex(e, "lamport", &a);
		json_object_object_get_ex(e, "author", &b);
		json_object_object_get_ex(e, "seq", &c);
		json_object_object_get_ex(e, "type", &t);
		json_object_object_get_ex(e, "scope_id", &s);
		json_object_object_get_ex(e, "size", &z);
		/* lamport zero-padded so that text order is numeric order */
		if (asprintf(&lines[k], "%020llu %s %s %s %s %s\n", (unsigned long long)json_object_get_uint64(a),
			     json_object_get_string(b), json_object_get_string(c), json_object_get_string(t),
			     json_object_get_string(s), json_object_get_string(z)) < 0)
			lines[k] = NULL;
	}
	size_t off = 0;
	if (lines) {
		qsort(lines, (size_t)n, sizeof(char *), nf_line_cmp);
		for (int k = 0; k < n; k++) {
			size_t w = lines[k] ? strlen(lines[k]) : 0;
			if (w && off + w < len) {
				memcpy(buf + off, lines[k], w + 1);
				off += w;
			}
			free(lines[k]);
		}
		free(lines);
	}
	json_object_put(r);
	return n;
}

/* A field of the `sessions` row for id ("" if absent). */
static inline const char *nf_session_field(struct nf_daemon *d, const char *id, const char *field)
{
	static char val[512];
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "sessions", "--json", NULL }), *arr, *v;
	val[0] = 0;
	if (!r)
		return val;
	if (json_object_object_get_ex(r, "sessions", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *s = json_object_array_get_idx(arr, k);
			if (json_object_object_get_ex(s, "id", &v) && !strcmp(json_object_get_string(v), id) &&
			    json_object_object_get_ex(s, field, &v))
				snprintf(val, sizeof(val), "%s", json_object_get_string(v));
		}
	json_object_put(r);
	return val;
}

/* The `entries` of d's `sessions` row for id (0 if absent). */
static inline uint64_t nf_entries(struct nf_daemon *d, const char *id)
{
	return strtoull(nf_session_field(d, id, "entries"), NULL, 10);
}

/* A counter from `thetactl metrics --json` (0 if absent). */
static inline uint64_t nf_metric(struct nf_daemon *d, const char *name)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "metrics", "--json", NULL }), *m, *v;
	uint64_t x = 0;
	if (!r)
		return 0;
	struct json_object *root = r;
	if (json_object_object_get_ex(r, "metrics", &m))
		root = m;
	if (json_object_object_get_ex(root, name, &m)) {
		if (json_object_is_type(m, json_type_object) && json_object_object_get_ex(m, "value", &v))
			x = (uint64_t)json_object_get_int64(v);
		else
			x = (uint64_t)json_object_get_int64(m);
	}
	json_object_put(r);
	return x;
}

/* Number of active peers d lists. */
static inline int nf_active_peers(struct nf_daemon *d)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "peers", "--json", NULL }), *arr, *v;
	int n = 0;
	if (!r)
		return -1;
	if (json_object_object_get_ex(r, "peers", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, k), "state", &v) &&
			    !strcmp(json_object_get_string(v), "active"))
				n++;
	json_object_put(r);
	return n;
}

/* Waits until every daemon's log of `session` has `want` entries (want <
 * 0: any count, as long as all agree) and all listings are identical.
 * Returns 0, or -ETIMEDOUT after printing the differing logs. */
static inline int nf_wait_logs_equal(struct nf_daemon **ds, int n, const char *session, int want, int timeout_ms)
{
	static char a[NF_OUT], b[NF_OUT];
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	int na = 0, nb = 0;
	for (;;) {
		bool same = true;
		na = nf_log_text(ds[0], session, a, sizeof(a));
		if (na < 0 || (want >= 0 && na != want))
			same = false;
		for (int i = 1; i < n && same; i++) {
			nb = nf_log_text(ds[i], session, b, sizeof(b));
			if (nb != na || strcmp(a, b))
				same = false;
		}
		if (same)
			return 0;
		if (th_now_ns() >= end)
			break;
		th_sleep_ns(100 * TH_NS_PER_MS);
	}
	for (int i = 0; i < n; i++) {
		int k = nf_log_text(ds[i], session, a, sizeof(a));
		fprintf(stderr, "daemon %d: %d entries (want %d)\n%.4000s\n--- its log:\n%.6000s\n", i, k, want, a,
			th_daemon_log(&ds[i]->p));
	}
	return -ETIMEDOUT;
}
