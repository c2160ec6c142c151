/* Crash safety of the log library: a child process appends under load and
 * reports every acknowledged id through a pipe; the parent kills it with
 * SIGKILL at a random moment, reopens (recovery) and checks that every
 * acknowledged entry is present exactly once and that the log verifies.
 * THETA_CLOG_CRASH_ROUNDS sets the rounds (default 10). The daemon-level
 * crash test (make crash-test) builds on the same property. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"
#include "th_time.h"

#define AUTHORS 3
#define ACKS_MAX 2000000

struct ack {
	uint64_t lamport;
	uint8_t author0;
};

static int ack_fd = -1;

static void child_done(void *ctx, int status, const struct clog_id *id)
{
	if (status != 0)
		return;
	uint8_t b[9];
	th_put_le64(b, id->lamport);
	b[8] = id->author[0];
	/* Atomic (< PIPE_BUF); the parent reads as we go. */
	if (write(ack_fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		_exit(3);
}

static void child(const char *dir, unsigned seed)
{
	struct lt_author a[AUTHORS];
	struct clog *c;
	struct clog_config cfg = { .rate_per_s = 100000000, .rate_burst = 100000000, .pending_per_source = 65536,
				   .segment_bytes = 256 * 1024 };
	uint8_t payload[200];
	if (clog_open(dir, &cfg, NULL, NULL, &c, NULL) < 0)
		_exit(2);
	for (int i = 0; i < AUTHORS; i++)
		lt_author_init(&a[i], (uint8_t)(0x30 + i));
	srand(seed);
	uint64_t req = 0;
	for (;;) {
		int n = 1 + rand() % 64;
		for (int i = 0; i < n; i++) {
			int who = rand() % AUTHORS;
			int why;
			memset(payload, i, sizeof(payload));
			struct clog_submit s = {
				.source = (uint32_t)who, .role = TH_ROLE_EDITOR, .key = &a[who].kp, .req_seq = ++req,
				.type = TH_CMD_COMPONENT_WRITE, .scope_kind = TH_SCOPE_ENTITY, .scope_id = (uint64_t)(rand() % 50),
				.base = clog_lamport(c), .payload = payload, .payload_len = (uint32_t)(8 + rand() % 190),
				.done = child_done,
			};
			if (clog_submit_local(c, &s, th_now_ns(), NULL, &why) < 0)
				_exit(4);
		}
		if (clog_flush(c, th_now_ns()) < 0)
			_exit(5);
	}
}

struct seen {
	struct ack *v;
	size_t n;
};

static int seen_cb(void *user, const struct th_logrec_entry *e)
{
	struct seen *s = user;
	s->v[s->n].lamport = e->lamport;
	s->v[s->n].author0 = e->author[0];
	s->n++;
	return 0;
}

static int ack_cmp(const void *x, const void *y)
{
	const struct ack *a = x, *b = y;
	if (a->lamport != b->lamport)
		return a->lamport < b->lamport ? -1 : 1;
	return (int)a->author0 - (int)b->author0;
}

static void acknowledged_entries_survive_sigkill_exactly_once(void **state)
{
	char dir[256];
	const char *env = getenv("THETA_CLOG_CRASH_ROUNDS");
	int rounds = env ? atoi(env) : 10;
	struct ack *acks = malloc(ACKS_MAX * sizeof(*acks));
	size_t nacks = 0;
	uint64_t repaired = 0;

	assert_int_equal(th_mkdtemp(dir, sizeof(dir) - 8), 0);
	char logdir[300];
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	srand((unsigned)time(NULL));

	for (int round = 0; round < rounds; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		unsigned seed = (unsigned)rand();
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			ack_fd = p[1];
			child(logdir, seed);
		}
		close(p[1]);
		uint64_t kill_at = th_now_ns() + (uint64_t)(5 + rand() % 60) * TH_NS_PER_MS;
		uint8_t buf[9 * 512];
		size_t have = 0;
		bool killed = false;
		for (;;) {
			if (!killed && th_now_ns() >= kill_at) {
				kill(pid, SIGKILL);
				killed = true;
			}
			struct pollfd pfd = { .fd = p[0], .events = POLLIN };
			poll(&pfd, 1, killed ? 1000 : 1);
			if (!(pfd.revents & (POLLIN | POLLHUP)))
				continue;
			ssize_t k = read(p[0], buf + have, sizeof(buf) - have);
			if (k <= 0)
				break; /* EOF: the child is gone and the pipe drained */
			have += (size_t)k;
			size_t i = 0;
			for (; i + 9 <= have && nacks < ACKS_MAX; i += 9) {
				acks[nacks].lamport = th_get_le64(buf + i);
				acks[nacks].author0 = buf[i + 8];
				nacks++;
			}
			memmove(buf, buf + i, have - i);
			have -= i;
		}
		close(p[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

		/* Recovery, then the checks. */
		struct clog *c;
		struct clog_recovery rep;
		assert_int_equal(clog_open(logdir, NULL, NULL, NULL, &c, &rep), 0);
		if (rep.repaired)
			repaired++;
		struct seen s = { .v = malloc((rep.records + 1) * sizeof(struct ack)) };
		assert_int_equal(clog_entries_since(c, 0, 0, seen_cb, &s), (int)rep.records);
		clog_close(&c);
		qsort(s.v, s.n, sizeof(*s.v), ack_cmp);
		for (size_t i = 1; i < s.n; i++)
			assert_true(ack_cmp(&s.v[i - 1], &s.v[i]) < 0); /* each id once */
		for (size_t i = 0; i < nacks; i++) {
			struct ack *hit = bsearch(&acks[i], s.v, s.n, sizeof(*s.v), ack_cmp);
			if (!hit)
				fail_msg("round %d: acknowledged lamport %llu missing", round,
					 (unsigned long long)acks[i].lamport);
		}
		free(s.v);
		struct th_logscan_result r;
		assert_int_equal(th_logscan_dir(logdir, NULL, NULL, &r), 0);
		assert_true(r.ok);
	}
	printf("# %d rounds, %zu acknowledged entries checked, %llu torn tails repaired\n", rounds, nacks,
	       (unsigned long long)repaired);
	free(acks);
	th_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acknowledged_entries_survive_sigkill_exactly_once),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
