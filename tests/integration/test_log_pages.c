/* `thetactl log` pages and follows by position: a log of 3000 entries in
 * groups of three with the same lamport (three authors, written through the
 * log library before the daemon starts) paged 100 at a time lists every
 * entry exactly once; a page the default size truncates says on stderr how
 * to get the next one and --json says where it starts; and `log --follow`
 * on a host shows the entries a member made while partitioned, integrated
 * after the heal with lamports lower than ones it already showed. Waits
 * poll conditions with generous deadlines; nothing asserts a timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clog/clog.h"
#include "net_fixture.h"
#include "th_cmd.h"
#include "th_file.h"
#include "th_logtest.h"

#define N_AUTHORS 3
#define N_LAMPORTS 1000
#define N_ENTRIES (N_AUTHORS * N_LAMPORTS)
#define WAIT_MS 30000

static char out[1 << 22], err[16384];

static int role_editor(void *user, const uint8_t author[TH_LOGREC_KEY_LEN])
{
	return TH_ROLE_EDITOR;
}

/* The default session "local" of a daemon not started yet, with N_ENTRIES
 * entries: lamport L (1..N_LAMPORTS) once by each of three authors. */
static void write_session(struct th_daemon_proc *d)
{
	char dir[PATH_MAX + 128], path[PATH_MAX + 160];
	snprintf(dir, sizeof(dir), "%s/sessions/0123456789abcdef0123456789abcdef", d->state_dir);
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(th_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	static const char conf[] = "name = local\ncreated = 1\nrole = host\n";
	assert_int_equal(th_file_replace(path, conf, sizeof(conf) - 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	struct clog_config cfg = { .rate_per_s = 1000000, .rate_burst = 1000000, .pending_per_source = 4096 };
	struct clog_callbacks cb = { .role_of = role_editor };
	struct clog *c;
	assert_int_equal(clog_open(path, &cfg, &cb, NULL, &c, NULL), 0);
	static struct lt_author a[N_AUTHORS];
	static struct th_logrec_entry batch[3 * 100];
	static uint8_t hash[TH_LOGREC_HASH_LEN], payload[3 * 100][8];
	for (int i = 0; i < N_AUTHORS; i++)
		lt_author_init(&a[i], (uint8_t)(0x31 + i));
	for (int l = 1; l <= N_LAMPORTS; l += 100) {
		size_t n = 0;
		/* Each author's entries in chain order within the call. */
		for (int i = 0; i < N_AUTHORS; i++)
			for (int k = 0; k < 100; k++, n++) {
				memset(payload[n], (int)n, sizeof(payload[n]));
				lt_entry(&a[i], (uint64_t)(l + k), (uint64_t)(l + k), payload[n], sizeof(payload[n]), true,
					 &batch[n], hash);
			}
		assert_int_equal(clog_integrate_remote(c, 1, batch, n, 1), (int)n);
		assert_int_equal(clog_flush(c, 1), (int)n);
	}
	assert_int_equal(clog_count(c), N_ENTRIES);
	clog_close(&c);
}

static struct json_object *page(struct th_daemon_proc *d, uint64_t since, const char *max)
{
	char s[32];
	snprintf(s, sizeof(s), "%llu", (unsigned long long)since);
	const char *args[] = { "log", "--since", s, "--max", max, "--json", NULL };
	assert_int_equal(th_ctl(d, args, out, sizeof(out), err, sizeof(err)), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static struct th_daemon_proc pd;
static bool pd_used;

static int teardown(void **state)
{
	if (pd_used)
		th_daemon_cleanup(&pd);
	pd_used = false;
	return nf_teardown(state);
}

static void pages_of_100_list_all_3000_entries_once(void **state)
{
	struct th_daemon_proc *dp = &pd;
	memset(dp, 0, sizeof(*dp));
	dp->pid = -1;
	dp->notify_fd = -1;
	pd_used = true;
	assert_int_equal(th_daemon_prepare(dp), 0);
	write_session(dp);
	assert_int_equal(th_daemon_spawn(dp, (const char *const[]){ "--port", "0", NULL }, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(dp, "READY=1", WAIT_MS), 0);

	static bool seen[N_AUTHORS][N_LAMPORTS + 1];
	uint64_t since = 0, listed = 0, pages = 0;
	char first_author[N_AUTHORS][128] = { { 0 } };
	for (;;) {
		struct json_object *o = page(dp, since, "100"), *arr, *v;
		assert_true(json_object_object_get_ex(o, "entries", &arr));
		size_t n = json_object_array_length(arr);
		for (size_t k = 0; k < n; k++) {
			struct json_object *e = json_object_array_get_idx(arr, k);
			assert_true(json_object_object_get_ex(e, "pos", &v));
			assert_int_equal(json_object_get_uint64(v), listed); /* in position order, no gap */
			assert_true(json_object_object_get_ex(e, "author", &v));
			int who = -1;
			for (int i = 0; i < N_AUTHORS && who < 0; i++) {
				if (!first_author[i][0])
					snprintf(first_author[i], sizeof(first_author[i]), "%s", json_object_get_string(v));
				if (!strcmp(first_author[i], json_object_get_string(v)))
					who = i;
			}
			assert_true(who >= 0);
			assert_true(json_object_object_get_ex(e, "seq", &v));
			uint64_t seq = json_object_get_uint64(v);
			assert_true(seq >= 1 && seq <= N_LAMPORTS);
			assert_false(seen[who][seq]); /* never twice */
			seen[who][seq] = true;
			listed++;
		}
		assert_true(json_object_object_get_ex(o, "next_pos", &v));
		assert_int_equal(json_object_get_uint64(v), listed);
		assert_true(json_object_object_get_ex(o, "truncated", &v));
		assert_int_equal(json_object_get_boolean(v), listed < N_ENTRIES);
		json_object_put(o);
		if (n == 0)
			break;
		assert_int_equal(n, 100);
		since = listed;
		pages++;
	}
	assert_int_equal(listed, N_ENTRIES);
	assert_int_equal(pages, N_ENTRIES / 100);

	/* The default page (1000) truncates, and says how to go on. */
	const char *plain[] = { "log", NULL };
	assert_int_equal(th_ctl(dp, plain, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "POS"));
	assert_non_null(strstr(err, "listed positions 0 to 999 of 3000; the next page: thetactl log --since 1000"));
	const char *last[] = { "log", "--since", "2500", NULL };
	assert_int_equal(th_ctl(dp, last, out, sizeof(out), err, sizeof(err)), 0);
	assert_null(strstr(err, "next page")); /* the last page says nothing */
	/* Past the end: an empty page that starts where the log ends. */
	struct json_object *o = page(dp, 5000, "10"), *v;
	assert_true(json_object_object_get_ex(o, "next_pos", &v));
	assert_int_equal(json_object_get_uint64(v), N_ENTRIES);
	json_object_put(o);
}

/* n acknowledged edits from a theta-client of d's current session. */
static void edits(struct nf_daemon *d, const char *n)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->p.runtime_dir, "--headless", "--renderer", "null", "--no-pacing",
			       "--require-daemon", "--edits", n, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), WAIT_MS);
	if (rc)
		print_message("theta-client --edits %s: %s\n", n, err);
	assert_int_equal(rc, 0);
}

/* The lamports of the JSON lines `log --follow --json` wrote so far. */
static int followed(const char *path, uint64_t *lamport, int max)
{
	char *text = th_slurp(path);
	int n = 0;
	for (char *line = text, *nl; line && (nl = strchr(line, '\n')) && n < max; line = nl + 1) {
		*nl = 0;
		struct json_object *o = json_tokener_parse(line), *v;
		if (o && json_object_object_get_ex(o, "lamport", &v))
			lamport[n++] = json_object_get_uint64(v);
		json_object_put(o);
	}
	free(text);
	return n;
}

static int wait_followed(const char *path, uint64_t *lamport, int want)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	int n;
	while ((n = followed(path, lamport, 256)) < want && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	return n;
}

static void follow_shows_entries_integrated_after_a_heal_with_lower_lamports(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, id, "editor", NULL, link);
	assert_int_equal(nf_join(&b, link), 0);
	edits(&a, "5");
	struct nf_daemon *both[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(both, 2, id, 5, WAIT_MS), 0);

	/* B, cut off, edits; A edits further meanwhile (higher lamports). */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "on", NULL }), 0);
	edits(&b, "5");
	edits(&a, "30");
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/follow.out", a.p.dir);
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", a.p.runtime_dir, "log", "--session", id, "--follow",
			       "--json", NULL };
	pid_t f = th_spawn(argv, NULL, path, NULL);
	assert_true(f > 0);
	uint64_t lam[256];
	assert_int_equal(wait_followed(path, lam, 35), 35);
	uint64_t top = 0;
	for (int i = 0; i < 35; i++)
		top = lam[i] > top ? lam[i] : top;

	/* Heal: A integrates B's five, below what it showed; follow shows them. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "off", NULL }), 0);
	assert_int_equal(wait_followed(path, lam, 40), 40);
	for (int i = 35; i < 40; i++)
		assert_true(lam[i] < top);
	assert_int_equal(nf_wait_logs_equal(both, 2, id, 40, WAIT_MS), 0);
	/* One more entry comes next, and nothing before it is shown twice. */
	edits(&a, "1");
	assert_int_equal(wait_followed(path, lam, 41), 41);
	assert_true(lam[40] > top);
	kill(f, SIGINT);
	int st;
	assert_int_equal(th_wait_pid(f, WAIT_MS, &st), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(pages_of_100_list_all_3000_entries_once, teardown),
		cmocka_unit_test_teardown(follow_shows_entries_integrated_after_a_heal_with_lower_lamports, teardown),
	};
	return cmocka_run_group_tests_name("log_pages", tests, NULL, NULL);
}
