/* Durability under kill -9 (issue: the signed, durable command log).
 *
 * A scripted client makes edits while thetad is killed with SIGKILL at
 * random moments and restarted on the same state directory. The client
 * reconnects and resends what was not acknowledged. At the end every edit
 * the daemon acknowledged is in the log exactly once (by its id: lamport,
 * author, sequence) and `thetactl log verify` accepts the files.
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

#include "th_harness.h"
#include "th_time.h"

struct ack {
	uint64_t lamport, seq;
};

static char out[1 << 20], err[65536];

static unsigned env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);
	return v && *v ? (unsigned)strtoul(v, NULL, 10) : def;
}

static void restart(struct th_daemon_proc *d)
{
	d->notify_len = 0;
	d->notify_log[0] = 0;
	assert_int_equal(th_daemon_spawn(d, NULL, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(d, "READY=1", 20000), 0);
}

static size_t parse_acks(const char *text, struct ack *acks, size_t cap)
{
	size_t n = 0;
	for (const char *p = text; p && *p && n < cap; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long cs, l, s;
		if (sscanf(p, "ack %llu %llu %llu", &cs, &l, &s) == 3)
			acks[n++] = (struct ack){ .lamport = l, .seq = s };
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

	struct th_daemon_proc d;
	assert_int_equal(th_daemon_prepare(&d), 0);
	restart(&d);
	size_t cap = (size_t)rounds * edits + 16, total = 0;
	struct ack *acks = calloc(cap, sizeof(*acks));
	assert_non_null(acks);
	char acks_path[PATH_MAX + 16], cerr_path[PATH_MAX + 16], n_edits[16];
	snprintf(n_edits, sizeof(n_edits), "%u", edits);
	unsigned kills = 0;

	for (unsigned r = 0; r < rounds; r++) {
		snprintf(acks_path, sizeof(acks_path), "%s/acks-%u.txt", d.dir, r);
		snprintf(cerr_path, sizeof(cerr_path), "%s/client-%u.err", d.dir, r);
		const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d.runtime_dir, "--headless", "--edits",
				       n_edits, "--print-acks", NULL };
		pid_t c = th_spawn(argv, NULL, acks_path, cerr_path);
		assert_true(c > 0);
		/* Kill the daemon at a random moment while the client edits. */
		th_sleep_ns((uint64_t)(10 + rand() % 400) * TH_NS_PER_MS);
		int st;
		assert_int_equal(th_daemon_stop(&d, SIGKILL, 5000, &st), 0);
		kills++;
		if (rand() % 2)
			th_sleep_ns((uint64_t)(rand() % 200) * TH_NS_PER_MS); /* the client runs without a daemon */
		restart(&d);
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
		total += n;
	}

	/* Every acknowledged id is in the log exactly once. */
	char maxs[32];
	snprintf(maxs, sizeof(maxs), "%zu", total * 2 + 1000);
	const char *la[] = { "log", "--json", "--max", maxs, NULL };
	assert_int_equal(th_ctl(&d, la, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out), *entries, *v;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "entries", &entries));
	const char *wa[] = { "whoami", "--json", NULL };
	assert_int_equal(th_ctl(&d, wa, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *me = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(me, "key", &v));
	const char *key = json_object_get_string(v);
	size_t n_entries = json_object_array_length(entries);
	for (size_t i = 0; i < total; i++) {
		unsigned found = 0;
		for (size_t k = 0; k < n_entries; k++) {
			struct json_object *e = json_object_array_get_idx(entries, k), *l, *s, *a;
			json_object_object_get_ex(e, "lamport", &l);
			json_object_object_get_ex(e, "seq", &s);
			json_object_object_get_ex(e, "author", &a);
			if ((uint64_t)json_object_get_int64(l) == acks[i].lamport &&
			    (uint64_t)json_object_get_int64(s) == acks[i].seq && !strcmp(json_object_get_string(a), key))
				found++;
		}
		if (found != 1)
			fail_msg("acknowledged edit lamport %" PRIu64 " seq %" PRIu64 " is in the log %u times",
				 acks[i].lamport, acks[i].seq, found);
	}
	print_message("%u kills, %zu acknowledged edits, %zu log entries (resends of unacknowledged edits "
		      "included)\n", kills, total, n_entries);
	json_object_put(me);

	/* And the files verify offline. */
	struct json_object *sessions;
	const char *sa[] = { "sessions", "--json", NULL };
	assert_int_equal(th_ctl(&d, sa, out, sizeof(out), err, sizeof(err)), 0);
	sessions = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(sessions, "sessions", &v));
	const char *id = json_object_get_string(json_object_object_get(json_object_array_get_idx(v, 0), "id"));
	char logdir[PATH_MAX + 128];
	snprintf(logdir, sizeof(logdir), "%s/sessions/%s/log", d.state_dir, id);
	th_daemon_stop(&d, SIGTERM, 10000, NULL);
	const char *va[] = { th_bin("thetactl"), "log", "verify", logdir, NULL };
	int rc = th_run(va, NULL, -1, out, sizeof(out), err, sizeof(err), 60000);
	if (rc != 0)
		fail_msg("thetactl log verify %s: exit %d: %s%s", logdir, rc, out, err);
	json_object_put(sessions);
	json_object_put(o);
	free(acks);
	th_daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acknowledged_edits_survive_sigkill_exactly_once),
	};
	return cmocka_run_group_tests_name("crash: kill -9 under load", tests, NULL, NULL);
}
