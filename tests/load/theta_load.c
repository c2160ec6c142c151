/* theta-load: N generated members of one hosted session in one process
 * (load.h; tests/load/README.md says how to run it and what it prints).
 *
 *   theta-load --members N --invite LINK [--invite LINK ...] [options]
 *
 * Phases: connect (at most LOAD_HANDSHAKES_MAX handshakes at once), warm-up
 * once every member is active, the measured window, a drain for entries
 * still travelling, then every member says LEAVE. Exit 0 when every check
 * held (every member active through the window, every entry at every
 * member, nothing refused), 1 when one did not, 2 for a usage error. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "load.h"
#include "net/net_cert.h"
#include "th_time.h"

#define LOAD_EXIT_FAIL 1
#define LOAD_EXIT_USAGE 2
#define LOAD_LEAVE_NS (2ull * TH_NS_PER_S)        /* for the LEAVEs and closes to go out */
#define LOAD_REJOIN_DELAY_NS (500ull * TH_NS_PER_MS)
#define LOAD_DRAIN_CHECK_NS (100ull * TH_NS_PER_MS)
#define LOAD_EPOLL_EVENTS 64
#define LOAD_LINK_FILE_MAX (1u << 20)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: theta-load --members N --invite LINK [--invite LINK ...] [options]\n"
		"  -n, --members N       members to play (1..%u)\n"
		"  -i, --invite LINK     an invite link of the host's session (repeat: member i uses link i mod count)\n"
		"      --invites FILE    invite links, one a line\n"
		"      --far K           the last K members stand %.0f m away from the others (default 0)\n"
		"  -t, --seconds S       the measured window (default 10)\n"
		"      --warmup S        after every member is active, before the window (default 2)\n"
		"      --drain S         at most this long after the window for entries still travelling (default 15)\n"
		"      --spread M        the side of the square the users walk in, metres (default 60)\n"
		"      --seed X          the walk's and the keys' seed (default 1)\n"
		"      --pres-hz HZ      presence frames a second per member (default 90)\n"
		"      --voice-hz HZ     voice datagrams a second per speaker (default 50)\n"
		"      --voice-pct P     percentage of members that speak (default 100)\n"
		"      --entry-every S   one log entry per member about this often (default 3; 0: none)\n"
		"      --host-pid PID    measure the host's CPU and RSS from /proc/PID\n"
		"      --json PATH       write the figures there (default: stdout)\n"
		"  -v, --verbose         the session layer's log lines on stderr\n",
		LOAD_MEMBERS_MAX, (double)LOAD_FAR_M);
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_uint(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (*s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static char *g_link_file;

static int read_links(struct load_opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "theta-load: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	free(g_link_file);
	g_link_file = calloc(1, LOAD_LINK_FILE_MAX + 1);
	size_t n = g_link_file ? fread(g_link_file, 1, LOAD_LINK_FILE_MAX, f) : 0;
	fclose(f);
	for (char *save = NULL, *l = strtok_r(g_link_file, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
		if (!*l)
			continue;
		if (o->n_links == LOAD_LINKS_MAX) {
			fprintf(stderr, "theta-load: more than %u invite links in %s\n", LOAD_LINKS_MAX, path);
			return -1;
		}
		o->links[o->n_links++] = l;
	}
	(void)n;
	return 0;
}

static int parse_args(int argc, char **argv, struct load_opts *o)
{
	enum { O_FAR = 256, O_WARMUP, O_DRAIN, O_SPREAD, O_SEED, O_PRES_HZ, O_VOICE_HZ, O_VOICE_PCT, O_ENTRY, O_HOST_PID, O_JSON, O_INVITES };
	static const struct option opts[] = {
		{ "members", required_argument, NULL, 'n' }, { "invite", required_argument, NULL, 'i' },
		{ "invites", required_argument, NULL, O_INVITES }, { "far", required_argument, NULL, O_FAR },
		{ "seconds", required_argument, NULL, 't' }, { "warmup", required_argument, NULL, O_WARMUP },
		{ "drain", required_argument, NULL, O_DRAIN }, { "spread", required_argument, NULL, O_SPREAD },
		{ "seed", required_argument, NULL, O_SEED }, { "pres-hz", required_argument, NULL, O_PRES_HZ },
		{ "voice-hz", required_argument, NULL, O_VOICE_HZ }, { "voice-pct", required_argument, NULL, O_VOICE_PCT },
		{ "entry-every", required_argument, NULL, O_ENTRY },
		{ "host-pid", required_argument, NULL, O_HOST_PID }, { "json", required_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	*o = (struct load_opts){ .seconds = 10, .warmup_s = 2, .drain_s = 15, .spread_m = 60, .seed = 1,
				 .pres_hz = 90, .voice_hz = 50, .voice_pct = 100, .entry_s = 3 };
	unsigned long long u;
	double d;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:i:t:vh", opts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case 'n':
			if (!parse_uint(optarg, 1, LOAD_MEMBERS_MAX, &u))
				bad = "--members takes a count from 1 to 128";
			o->n = (unsigned)u;
			break;
		case 'i':
			if (o->n_links == LOAD_LINKS_MAX)
				bad = "too many --invite links";
			else
				o->links[o->n_links++] = optarg;
			break;
		case O_INVITES:
			if (read_links(o, optarg) < 0)
				return -1;
			break;
		case O_FAR:
			if (!parse_uint(optarg, 0, LOAD_MEMBERS_MAX, &u))
				bad = "--far takes a count";
			o->far = (unsigned)u;
			break;
		case 't':
			if (!parse_double(optarg, 0.1, 86400, &o->seconds))
				bad = "--seconds takes a duration from 0.1 to 86400";
			break;
		case O_WARMUP:
			if (!parse_double(optarg, 0, 3600, &o->warmup_s))
				bad = "--warmup takes a duration from 0 to 3600";
			break;
		case O_DRAIN:
			if (!parse_double(optarg, 0, 3600, &o->drain_s))
				bad = "--drain takes a duration from 0 to 3600";
			break;
		case O_SPREAD:
			if (!parse_double(optarg, 1, TH_WALK_SPREAD_MAX_M, &d))
				bad = "--spread takes metres from 1 to 1800";
			o->spread_m = (float)d;
			break;
		case O_SEED:
			if (!parse_uint(optarg, 0, UINT64_MAX, &u))
				bad = "--seed takes an unsigned number";
			o->seed = u;
			break;
		case O_PRES_HZ:
			if (!parse_uint(optarg, 1, 1000, &u))
				bad = "--pres-hz takes a rate from 1 to 1000";
			o->pres_hz = (unsigned)u;
			break;
		case O_VOICE_HZ:
			if (!parse_uint(optarg, 1, 100, &u))
				bad = "--voice-hz takes a rate from 1 to 100";
			o->voice_hz = (unsigned)u;
			break;
		case O_VOICE_PCT:
			if (!parse_uint(optarg, 0, 100, &u))
				bad = "--voice-pct takes a percentage from 0 to 100";
			o->voice_pct = (unsigned)u;
			break;
		case O_ENTRY:
			if (!parse_double(optarg, 0, 3600, &o->entry_s))
				bad = "--entry-every takes a duration from 0 to 3600";
			break;
		case O_HOST_PID:
			if (!parse_uint(optarg, 1, 1u << 30, &u))
				bad = "--host-pid takes a process id";
			o->host_pid = (int)u;
			break;
		case O_JSON:
			o->json_path = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "theta-load: %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "theta-load: unknown option %s (theta-load --help lists them)\n", argv[optind - 1]);
			return -1;
		}
		if (bad) {
			fprintf(stderr, "theta-load: %s (got \"%s\")\n", bad, optarg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "theta-load: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!o->n || !o->n_links) {
		fprintf(stderr, "theta-load: --members and at least one --invite are needed (theta-load --help)\n");
		return -1;
	}
	if (o->far >= o->n && o->far) {
		fprintf(stderr, "theta-load: --far %u leaves no near member of %u\n", o->far, o->n);
		return -1;
	}
	return 0;
}

/* Member i's key pairs, from the seed (the same run names the same keys). */
static void member_keys(struct load *L, unsigned i)
{
	uint8_t in[24], seed[32];
	memcpy(in, "thld", 4);
	memcpy(in + 4, &L->o.seed, 8);
	memcpy(in + 12, &i, 4);
	memcpy(in + 16, "daemon\0\0", 8);
	crypto_generichash(seed, sizeof(seed), in, sizeof(in), NULL, 0);
	th_keypair_from_seed(seed, &L->m[i].daemon);
	memcpy(in + 16, "user\0\0\0\0", 8);
	crypto_generichash(seed, sizeof(seed), in, sizeof(in), NULL, 0);
	th_keypair_from_seed(seed, &L->m[i].user);
}

static int setup(struct load *L)
{
	const struct load_opts *o = &L->o;
	int r;
	for (unsigned k = 0; k < o->n_links; k++) {
		const char *why = proto_invite_check(o->links[k]);
		if (why || proto_invite_parse(o->links[k], &L->links[k]) < 0) {
			fprintf(stderr, "theta-load: invite link %u: %s\n", k + 1, why ? why : "does not parse");
			return -EINVAL;
		}
	}
	if ((r = net_cert_generate(&L->cert)) < 0) {
		fprintf(stderr, "theta-load: cannot make a TLS certificate: %s\n", strerror(-r));
		return r;
	}
	if ((r = load_chans_register(L)) < 0) {
		fprintf(stderr, "theta-load: cannot register the channels: %s\n", strerror(-r));
		return r;
	}
	if ((r = load_voice_prepare(L)) < 0) {
		fprintf(stderr, "theta-load: cannot encode the voice packets: %s\n", strerror(-r));
		return r;
	}
	th_walk_init(&L->walk, o->n, o->spread_m, o->seed);
	L->t0_ns = th_now_ns();
	th_walk_step(&L->walk, L->t0_ns);
	L->walk_ns = L->t0_ns;
	L->wall_off_ns = th_wall_ns() - L->t0_ns;
	for (unsigned i = 0; i < o->n; i++) {
		struct load_member *m = &L->m[i];
		m->L = L;
		m->i = i;
		m->link = &L->links[i % o->n_links];
		m->speaks = (uint64_t)i * 100 < (uint64_t)o->voice_pct * o->n;
		member_keys(L, i);
		if ((r = load_traffic_init(m)) < 0) {
			fprintf(stderr, "theta-load: out of memory\n");
			return r;
		}
	}
	load_keys_index(L);
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	L->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (L->epfd < 0 || L->tfd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->tfd, &ev) < 0)
		return -errno;
	return 0;
}

/* Every member holds every other member's entries. */
static bool entries_complete(const struct load *L)
{
	for (unsigned i = 0; i < L->o.n; i++)
		for (unsigned k = 0; k < L->o.n; k++)
			if (k != i && load_member_holds(&L->m[i], L->m[k].user.pk) < L->m[k].n_own)
				return false;
	return true;
}

enum phase { PH_CONNECT, PH_WARMUP, PH_WINDOW, PH_DRAIN, PH_LEAVE, PH_DONE };

/* Opens connections: new members while fewer than LOAD_HANDSHAKES_MAX are
 * in their handshake, members whose connection ended again (a little
 * later, at most LOAD_REJOIN_MAX times). */
static void connect_more(struct load *L, uint64_t now)
{
	unsigned busy = 0;
	for (unsigned i = 0; i < L->o.n; i++)
		busy += L->m[i].st == LM_CONNECTING || L->m[i].st == LM_HELLO;
	for (unsigned i = 0; i < L->o.n && busy < LOAD_HANDSHAKES_MAX; i++) {
		struct load_member *m = &L->m[i];
		if (m->st == LM_ENDED && !m->ended_ns)
			m->ended_ns = now;
		bool again = m->st == LM_ENDED && m->connects <= LOAD_REJOIN_MAX && now >= m->ended_ns + LOAD_REJOIN_DELAY_NS;
		if (m->st != LM_IDLE && !again)
			continue;
		m->ended_ns = 0;
		int r = load_member_connect(m, now);
		if (r < 0) {
			load_glue_fail(L, "member %u: cannot connect: %s", i, strerror(-r));
			m->st = LM_LEFT;
			continue;
		}
		busy++;
	}
}

static unsigned count_active(const struct load *L)
{
	unsigned n = 0;
	for (unsigned i = 0; i < L->o.n; i++)
		n += L->m[i].st == LM_ACTIVE;
	return n;
}

static bool all_gone(const struct load *L)
{
	for (unsigned i = 0; i < L->o.n; i++)
		if (L->m[i].q)
			return false;
	return true;
}

static void arm(struct load *L, uint64_t at)
{
	struct itimerspec its = { 0 };
	if (at == UINT64_MAX)
		return;
	if (!at)
		at = 1;
	its.it_value.tv_sec = (time_t)(at / TH_NS_PER_S);
	its.it_value.tv_nsec = (long)(at % TH_NS_PER_S);
	timerfd_settime(L->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static bool run(struct load *L)
{
	const struct load_opts *o = &L->o;
	enum phase ph = PH_CONNECT;
	uint64_t deadline = L->t0_ns + LOAD_CONNECT_TIMEOUT_NS, next_check = 0;
	bool completed = false;
	L->making_entries = true;
	struct epoll_event evs[LOAD_EPOLL_EVENTS];
	while (ph != PH_DONE) {
		uint64_t now = th_now_ns();
		if (g_stop && ph < PH_DRAIN) {
			if (ph == PH_WINDOW) {
				load_window_end(L, now);
				completed = true;
			}
			L->making_entries = false;
			ph = PH_DRAIN;
			deadline = now + (uint64_t)(o->drain_s * 1e9);
		}
		switch (ph) {
		case PH_CONNECT:
			if (count_active(L) == o->n) {
				ph = PH_WARMUP;
				deadline = now + (uint64_t)(o->warmup_s * 1e9);
			} else if (now >= deadline) {
				fprintf(stderr, "theta-load: %u of %u members active after %.0f s; giving up\n",
					count_active(L), o->n, (double)LOAD_CONNECT_TIMEOUT_NS / 1e9);
				L->making_entries = false;
				ph = PH_LEAVE;
				deadline = now + LOAD_LEAVE_NS;
				for (unsigned i = 0; i < o->n; i++)
					load_member_leave(&L->m[i], now);
			}
			break;
		case PH_WARMUP:
			if (now >= deadline) {
				load_window_begin(L, now);
				ph = PH_WINDOW;
				deadline = now + (uint64_t)(o->seconds * 1e9);
			}
			break;
		case PH_WINDOW:
			load_sample_rss(L, now);
			if (now >= deadline) {
				load_window_end(L, now);
				completed = true;
				L->making_entries = false;
				ph = PH_DRAIN;
				deadline = now + (uint64_t)(o->drain_s * 1e9);
			}
			break;
		case PH_DRAIN:
			if (now >= next_check) {
				next_check = now + LOAD_DRAIN_CHECK_NS;
				if (entries_complete(L) || now >= deadline) {
					for (unsigned i = 0; i < o->n; i++)
						load_member_leave(&L->m[i], now);
					ph = PH_LEAVE;
					deadline = now + LOAD_LEAVE_NS;
				}
			}
			break;
		case PH_LEAVE:
			if (all_gone(L) || now >= deadline)
				ph = PH_DONE;
			break;
		case PH_DONE:
			break;
		}
		if (ph == PH_DONE)
			break;
		if (ph < PH_LEAVE)
			connect_more(L, now);
		uint64_t next = deadline;
		if (ph == PH_DRAIN && next_check < next)
			next = next_check;
		if (ph == PH_WINDOW && L->s.next_rss_ns < next)
			next = L->s.next_rss_ns;
		if (ph < PH_LEAVE && now + LOAD_REJOIN_DELAY_NS / 4 < next)
			next = now + LOAD_REJOIN_DELAY_NS / 4; /* connect_more looks again */
		for (unsigned i = 0; i < o->n; i++) {
			struct load_member *m = &L->m[i];
			if (!m->srv)
				continue;
			if (m->next_due_ns <= now)
				load_member_service(m, now);
			if (m->next_due_ns < next)
				next = m->next_due_ns;
		}
		arm(L, next);
		int n = epoll_wait(L->epfd, evs, LOAD_EPOLL_EVENTS, -1);
		if (n < 0 && errno != EINTR) {
			load_glue_fail(L, "epoll_wait: %s", strerror(errno));
			break;
		}
		now = th_now_ns();
		for (int k = 0; k < n; k++) {
			struct load_member *m = evs[k].data.ptr;
			if (!m) {
				uint64_t x;
				if (read(L->tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
					load_glue_fail(L, "timerfd: %s", strerror(errno));
				continue;
			}
			load_member_readable(m, now);
		}
	}
	return completed;
}

int main(int argc, char **argv)
{
	static struct load L;
	if (parse_args(argc, argv, &L.o) < 0)
		return LOAD_EXIT_USAGE;
	if (sodium_init() < 0) {
		fprintf(stderr, "theta-load: libsodium does not start\n");
		return LOAD_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (setup(&L) < 0)
		return LOAD_EXIT_FAIL;
	bool completed = run(&L);
	FILE *f = L.o.json_path ? fopen(L.o.json_path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "theta-load: cannot write %s: %s\n", L.o.json_path, strerror(errno));
		return LOAD_EXIT_FAIL;
	}
	bool ok = load_report(&L, f, completed);
	if (f != stdout)
		fclose(f);
	if (L.glue_errors)
		fprintf(stderr, "theta-load: %u glue errors, the first: %s\n", L.glue_errors, L.glue_what);
	for (unsigned i = 0; i < L.o.n; i++)
		load_member_free(&L.m[i]);
	net_cert_destroy(&L.cert);
	close(L.tfd);
	close(L.epfd);
	free(g_link_file);
	return ok ? 0 : LOAD_EXIT_FAIL;
}
