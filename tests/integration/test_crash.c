/* Durability under kill -9 (issue: the signed, durable command log).
 *
 * A scripted client makes edits while thetad is killed with SIGKILL at
 * random moments and restarted on the same state directory. The client
 * reconnects and resends what was not acknowledged. At the end every edit
 * the daemon acknowledged is in the log exactly once (by its id: lamport,
 * author, sequence), every edit the client made was acknowledged exactly
 * once, and the log holds nothing else of the test's user: a resend of an
 * edit that was durable before the kill (ack lost) is answered with its
 * existing id, not logged again, so no request id (author, req) appears
 * twice. `thetactl log verify` accepts the files.
 *
 * THETA_CRASH_ROUNDS (default 10; `make crash-test` runs 100) and
 * THETA_CRASH_EDITS (per round, default 200) bound the run; THETA_CRASH_SEED
 * makes the kill times reproducible (printed at the start). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"

struct ack {
	uint64_t client_seq, lamport, seq;
};

static char out[1 << 20], err[65536];
#define LOG_PAGE "2000" /* entries per `thetactl log` call: ~0.5 MB of JSON, fits out[] */

/* Here, not on the stack, so that a failed check (which leaves the test
 * early) still gets the daemon killed in the teardown: a leftover daemon
 * would hold the test runner's output pipe open. */
static struct th_daemon_proc crash_daemon;
static bool crash_daemon_used;

static int teardown(void **state)
{
	if (crash_daemon_used)
		th_daemon_cleanup(&crash_daemon);
	crash_daemon_used = false;
	return 0;
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);
	return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void restart(struct th_daemon_proc *d)
{
	assert_int_equal(th_daemon_respawn(d, NULL, NULL, 20000), 0);
}

/* By (lamport, seq); client_seq is ignored. */
static int cmp_id(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	if (x->lamport != y->lamport)
		return x->lamport < y->lamport ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t parse_acks(const char *text, struct ack *acks, size_t cap)
{
	size_t n = 0;
	for (const char *p = text; p && *p && n < cap; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long cs, l, s;
		if (sscanf(p, "ack %llu %llu %llu", &cs, &l, &s) == 3)
			acks[n++] = (struct ack){ .client_seq = cs, .lamport = l, .seq = s };
	}
	return n;
}

static void acknowledged_edits_survive_sigkill_exactly_once(void **state)
{
	unsigned rounds = env_uint("THETA_CRASH_ROUNDS", 10);
	unsigned edits = env_uint("THETA_CRASH_EDITS", 200);
	unsigned seed = env_uint("THETA_CRASH_SEED", (unsigned)time(NULL));
	srand(seed);
	print_message("crash test: %u rounds of %u edits, seed %u\n", rounds, edits, seed);

	struct th_daemon_proc *dp = &crash_daemon;
	assert_int_equal(th_daemon_prepare(dp), 0);
	crash_daemon_used = true;
	restart(dp);
	size_t cap = (size_t)rounds * edits + 16, total = 0;
	struct ack *acks = calloc(cap, sizeof(*acks));
	assert_non_null(acks);
	char acks_path[PATH_MAX + 16], cerr_path[PATH_MAX + 16], n_edits[16];
	snprintf(n_edits, sizeof(n_edits), "%u", edits);
	unsigned kills = 0;

	for (unsigned r = 0; r < rounds; r++) {
		snprintf(acks_path, sizeof(acks_path), "%s/acks-%u.txt", dp->dir, r);
		snprintf(cerr_path, sizeof(cerr_path), "%s/client-%u.err", dp->dir, r);
		/* --daemon-timeout: the kill may come before the client's first
		 * connect, and a loaded machine restarts the daemon slowly. */
		const char *argv[] = { th_bin("theta-client"), "--runtime-dir", dp->runtime_dir, "--headless", "--renderer", "null", "--edits",
				       n_edits, "--print-acks", "--daemon-timeout", "60", NULL };
		pid_t c = th_spawn(argv, NULL, acks_path, cerr_path);
		assert_true(c > 0);
		/* Kill the daemon at a random moment while the client edits. */
		th_sleep_ns((uint64_t)(10 + rand() % 400) * TH_NS_PER_MS);
		int st;
		assert_int_equal(th_daemon_stop(dp, SIGKILL, 5000, &st), 0);
		kills++;
		if (rand() % 2)
			th_sleep_ns((uint64_t)(rand() % 200) * TH_NS_PER_MS); /* the client runs without a daemon */
		restart(dp);
		int cst;
		if (th_wait_pid(c, 120000, &cst) < 0) {
			kill(c, SIGKILL);
			waitpid(c, NULL, 0);
			fail_msg("round %u: the client did not finish its edits after the restart", r);
		}
		char *ce = th_slurp(cerr_path);
		if (!WIFEXITED(cst) || WEXITSTATUS(cst) != 0)
			fail_msg("round %u: theta-client failed: %s", r, ce ? ce : "");
		free(ce);
		char *text = th_slurp(acks_path);
		size_t n = parse_acks(text, acks + total, cap - total);
		free(text);
		assert_int_equal(n, edits); /* the client exits 0 only when every edit was answered */
		/* Each of the client's edits (client_seq 1..edits) acked exactly once. */
		unsigned char *seen = calloc(edits + 1, 1);
		assert_non_null(seen);
		for (size_t i = 0; i < n; i++) {
			uint64_t cs = acks[total + i].client_seq;
			if (cs < 1 || cs > edits || seen[cs]++)
				fail_msg("round %u: client_seq %" PRIu64 " acknowledged twice or out of range", r, cs);
		}
		free(seen);
		total += n;
	}

	/* Every acknowledged id is in the log exactly once. The log is read in
	 * pages (`thetactl log` lists at most 10000 entries per call). */
	struct json_object *o = json_object_new_object(), *entries = json_object_new_array(), *v;
	json_object_object_add(o, "entries", entries);
	for (uint64_t since = 0;;) {
		char sinces[32];
		snprintf(sinces, sizeof(sinces), "%" PRIu64, since);
		const char *la[] = { "log", "--json", "--since", sinces, "--max", LOG_PAGE, NULL };
		assert_int_equal(th_ctl(dp, la, out, sizeof(out), err, sizeof(err)), 0);
		struct json_object *page = json_tokener_parse(out), *pe, *ns;
		assert_non_null(page);
		assert_true(json_object_object_get_ex(page, "entries", &pe));
		assert_true(json_object_object_get_ex(page, "next_pos", &ns));
		size_t k, np = json_object_array_length(pe);
		for (k = 0; k < np; k++)
			json_object_array_add(entries, json_object_get(json_object_array_get_idx(pe, k)));
		since = (uint64_t)json_object_get_uint64(ns);
		json_object_put(page);
		if (np == 0)
			break;
	}
	const char *wa[] = { "whoami", "--json", NULL };
	assert_int_equal(th_ctl(dp, wa, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *me = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(me, "key", &v));
	const char *key = json_object_get_string(v);
	size_t n_entries = json_object_array_length(entries);
	/* The user's entries: exactly one per acknowledged edit, and no request
	 * id twice (what a resend after a kill used to leave behind). */
	size_t mine = 0, dups = 0;
	uint64_t *reqs = calloc(n_entries + 1, sizeof(*reqs));
	struct ack *ids = calloc(n_entries + 1, sizeof(*ids)); /* the user's (lamport, seq) */
	assert_non_null(reqs);
	assert_non_null(ids);
	for (size_t k = 0; k < n_entries; k++) {
		struct json_object *e = json_object_array_get_idx(entries, k), *a, *q, *l, *s;
		assert_true(json_object_object_get_ex(e, "author", &a));
		assert_true(json_object_object_get_ex(e, "req", &q));
		assert_true(json_object_object_get_ex(e, "lamport", &l));
		assert_true(json_object_object_get_ex(e, "seq", &s));
		if (strcmp(json_object_get_string(a), key) != 0)
			continue;
		uint64_t req = (uint64_t)json_object_get_uint64(q);
		if (req == 0)
			fail_msg("entry %zu of the test's user has no request id", k);
		ids[mine] = (struct ack){ .lamport = (uint64_t)json_object_get_uint64(l),
					  .seq = (uint64_t)json_object_get_uint64(s) };
		reqs[mine++] = req;
	}
	qsort(ids, mine, sizeof(*ids), cmp_id);
	qsort(reqs, mine, sizeof(*reqs), th_bench_cmp_u64);
	for (size_t k = 1; k < mine; k++)
		dups += reqs[k] == reqs[k - 1];
	free(reqs);
	print_message("%zu entries of the test's user, %zu with a request id seen before\n", mine, dups);
	if (dups != 0 || mine != total)
		fail_msg("the log holds %zu entries of the test's user for %zu acknowledged edits (%zu repeated request ids)",
			 mine, total, dups);
	for (size_t i = 0; i < total; i++) {
		/* How many of the user's entries have this id (sorted: a range). */
		size_t lo = 0, hi = mine;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cmp_id(&ids[mid], &acks[i]) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		unsigned found = 0;
		while (lo + found < mine && cmp_id(&ids[lo + found], &acks[i]) == 0)
			found++;
		if (found != 1)
			fail_msg("acknowledged edit lamport %" PRIu64 " seq %" PRIu64 " is in the log %u times",
				 acks[i].lamport, acks[i].seq, found);
	}
	free(ids);
	print_message("%u kills, %zu acknowledged edits, %zu log entries\n", kills, total, n_entries);
	json_object_put(me);

	/* And the files verify offline. */
	struct json_object *sessions;
	const char *sa[] = { "sessions", "--json", NULL };
	assert_int_equal(th_ctl(dp, sa, out, sizeof(out), err, sizeof(err)), 0);
	sessions = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(sessions, "sessions", &v));
	const char *id = json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 0), "id"));
	char logdir[PATH_MAX + 128];
	snprintf(logdir, sizeof(logdir), "%s/sessions/%s/log", dp->state_dir, id);
	th_daemon_stop(dp, SIGTERM, 10000, NULL);
	const char *va[] = { th_bin("thetactl"), "log", "verify", logdir, NULL };
	int rc = th_run(va, NULL, -1, out, sizeof(out), err, sizeof(err), 60000);
	if (rc != 0)
		fail_msg("thetactl log verify %s: exit %d: %s%s", logdir, rc, out, err);
	json_object_put(sessions);
	json_object_put(o);
	free(acks);
	th_daemon_cleanup(dp);
	crash_daemon_used = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(acknowledged_edits_survive_sigkill_exactly_once, teardown),
	};
	return cmocka_run_group_tests_name("crash: kill -9 under load", tests, NULL, NULL);
}
