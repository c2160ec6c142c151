/* The systemd units in systemd/ against systemd's own tools and against the
 * real thetad binary.
 *
 * Static half: a test copy of the units (ExecStart pointing at
 * $THETA_BUILD/bin/thetad) must pass `systemd-analyze verify` without a
 * single line of output, the service must score an overall exposure of at
 * most 2.0 in `systemd-analyze security --offline=true`, and the sysusers
 * snippet must create every user and group the units name.
 *
 * Dynamic half: thetad is started the way the units start it (directories
 * from $STATE_DIRECTORY/$RUNTIME_DIRECTORY, NOTIFY_SOCKET, WATCHDOG_USEC,
 * sockets passed with LISTEN_FDS) and must bind only sockets the socket
 * units provide, adopt the ones they pass, and speak the notify protocol
 * that Type=notify and WatchdogSec= rely on. Needs no systemd as PID 1 and
 * no root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "th_file.h"

#define UNITS_SRC_DIR "systemd"
#define SERVICE_IN UNITS_SRC_DIR "/thetad.service.in"
#define SYSUSERS_SRC UNITS_SRC_DIR "/thetad.sysusers"
#define MAX_EXPOSURE 2.0
#define TOOL_TIMEOUT_MS 60000
#define DAEMON_TIMEOUT_MS 10000
#define MAX_FILE_BYTES (256 * 1024)
#define MAX_OUTPUT_BYTES (1024 * 1024)
#define MAX_ENTRIES 256
#define MAX_SOCKETS 8
/* Short watchdog so WATCHDOG=1 comes within a tick or two; the unit uses
 * 30 s. The test waits up to DAEMON_TIMEOUT_MS for it (liveness, not timing). */
#define TEST_WATCHDOG_USEC 400000

/* The socket units, in the order their fds are passed. */
static const char *const socket_units[] = { "thetad.socket", "thetad-client.socket" };
#define N_SOCKET_UNITS (sizeof(socket_units) / sizeof(socket_units[0]))

/* ---- a minimal unit-file reader ---------------------------------------- */

struct unit_entry {
	char section[32];
	char key[64];
	char value[512];
};

struct unit_file {
	struct unit_entry e[MAX_ENTRIES];
	int n;
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n'))
		s[--l] = '\0';
	return s;
}

/* Sections, key=value lines, comments; no continuation lines (the units use
 * none, and a stray one fails the parse rather than being misread). */
static int unit_parse(const char *path, struct unit_file *u)
{
	char *buf;
	size_t len;
	int r = th_file_read(path, MAX_FILE_BYTES, &buf, &len);
	if (r < 0)
		return r;
	char section[32] = "";
	u->n = 0;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = trim(line);
		if (!*l || *l == '#' || *l == ';')
			continue;
		size_t ll = strlen(l);
		if (l[ll - 1] == '\\') {
			r = -EINVAL;
			break;
		}
		if (*l == '[') {
			if (l[ll - 1] != ']' || ll - 2 >= sizeof(section)) {
				r = -EINVAL;
				break;
			}
			snprintf(section, sizeof(section), "%.*s", (int)(ll - 2), l + 1);
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq || !section[0] || u->n == MAX_ENTRIES) {
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		struct unit_entry *e = &u->e[u->n++];
		snprintf(e->section, sizeof(e->section), "%s", section);
		snprintf(e->key, sizeof(e->key), "%s", trim(l));
		snprintf(e->value, sizeof(e->value), "%s", trim(eq + 1));
	}
	free(buf);
	return r < 0 ? r : 0;
}

/* The last assignment wins, as in systemd; NULL when absent. */
static const char *unit_get(const struct unit_file *u, const char *section, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < u->n; i++)
		if (!strcmp(u->e[i].section, section) && !strcmp(u->e[i].key, key))
			v = u->e[i].value;
	return v;
}

/* Is `word` one of the whitespace-separated words of `list`? */
static bool word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == wl && !strncmp(p, word, n))
			return true;
		p += n;
	}
	return false;
}

/* ---- running tools ----------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs argv with stdout and stderr into one buffer; *status is the wait
 * status. Kills the tool after TOOL_TIMEOUT_MS. */
static int run_capture(char *const argv[], char **out, int *status)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		setenv("SYSTEMD_PAGER", "cat", 1);
		setenv("SYSTEMD_COLORS", "0", 1);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int64_t deadline = now_ms() + TOOL_TIMEOUT_MS;
	bool timed_out = false;
	while (buf) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			timed_out = pr == 0;
			break;
		}
		if (len + 1024 >= cap && cap < MAX_OUTPUT_BYTES) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		char sink[4096];
		bool full = len + 1 >= cap;
		/* Past MAX_OUTPUT_BYTES keep draining, so the tool never blocks. */
		ssize_t n = full ? read(p[0], sink, sizeof(sink)) : read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!full)
			len += (size_t)n;
	}
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!buf)
		return -ENOMEM;
	if (timed_out) {
		free(buf);
		return -ETIMEDOUT;
	}
	buf[len] = '\0';
	*out = buf;
	*status = st;
	return 0;
}

static bool exited_zero(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- fixture ------------------------------------------------------------ */

/* The thetad a failing test may leave behind; killed at teardown. */
static pid_t live_daemon = -1;

struct fixture {
	char dir[64];        /* temporary (/tmp/theta-units-XXXXXX), removed at teardown */
	char bin[PATH_MAX];  /* absolute path of the built thetad */
	char service[128];
	char sockets[N_SOCKET_UNITS][128];
	struct unit_file svc;
	struct unit_file sock[N_SOCKET_UNITS];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		off += (size_t)n;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* Copies src to dst replacing every `from` with `to`. */
static int render(const char *src, const char *dst, const char *from, const char *to)
{
	char *in;
	size_t len;
	int r = th_file_read(src, MAX_FILE_BYTES, &in, &len);
	if (r < 0)
		return r;
	size_t fl = strlen(from), tl = strlen(to), cap = len + 1, n = 0;
	for (const char *p = in; (p = strstr(p, from)); p += fl)
		cap += tl;
	char *out = malloc(cap);
	if (!out) {
		free(in);
		return -ENOMEM;
	}
	for (const char *p = in;;) {
		const char *hit = strstr(p, from);
		size_t chunk = hit ? (size_t)(hit - p) : strlen(p);
		memcpy(out + n, p, chunk);
		n += chunk;
		if (!hit)
			break;
		memcpy(out + n, to, tl);
		n += tl;
		p = hit + fl;
	}
	r = write_file(dst, out, n);
	free(in);
	free(out);
	return r;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	const char *b = getenv("THETA_BUILD");
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s/bin/thetad", b && *b ? b : "build");
	if (!realpath(rel, f->bin) || access(f->bin, X_OK) < 0) {
		fprintf(stderr, "test_units: %s is not an executable: build thetad first (make)\n", rel);
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/theta-units-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	/* The binary's directory stands in for @SBINDIR@, as `make install`
	 * substitutes it. */
	char sbindir[PATH_MAX];
	snprintf(sbindir, sizeof(sbindir), "%s", f->bin);
	*strrchr(sbindir, '/') = '\0';
	snprintf(f->service, sizeof(f->service), "%s/thetad.service", f->dir);
	int r = render(SERVICE_IN, f->service, "@SBINDIR@", sbindir);
	for (size_t i = 0; r >= 0 && i < N_SOCKET_UNITS; i++) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), UNITS_SRC_DIR "/%s", socket_units[i]);
		snprintf(f->sockets[i], sizeof(f->sockets[i]), "%s/%s", f->dir, socket_units[i]);
		r = render(src, f->sockets[i], "@SBINDIR@", sbindir);
		if (r >= 0)
			r = unit_parse(f->sockets[i], &f->sock[i]);
	}
	if (r >= 0)
		r = unit_parse(f->service, &f->svc);
	if (r < 0) {
		fprintf(stderr, "test_units: cannot render or parse the units: %s\n", strerror(-r));
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	if (live_daemon > 0) {
		kill(live_daemon, SIGKILL);
		waitpid(live_daemon, NULL, 0);
		live_daemon = -1;
	}
	if (f) {
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(f);
	}
	return 0;
}

/* ---- static checks ----------------------------------------------------- */

static void test_units_pass_systemd_analyze_verify_silently(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "systemd-analyze", "verify", f->service, f->sockets[0], f->sockets[1], NULL };
	char *out = NULL;
	int st = 0;
	int r = run_capture(argv, &out, &st);
	if (r < 0)
		fail_msg("cannot run systemd-analyze: %s", strerror(-r));
	if (!exited_zero(st) || out[0]) {
		fprintf(stderr, "systemd-analyze verify (wait status %d) printed:\n%s\n", st, out);
		free(out);
		fail_msg("systemd-analyze verify is not silent on the units");
	}
	free(out);
}

/* The check above is only as good as its capture of the tool's output: a
 * planted unknown key must come back as a warning naming it. */
static void test_verify_reports_a_planted_unknown_key(void **state)
{
	struct fixture *f = *state;
	char bad[PATH_MAX + 32];
	snprintf(bad, sizeof(bad), "%s/bad/thetad.service", f->dir);
	char baddir[PATH_MAX + 32];
	snprintf(baddir, sizeof(baddir), "%s/bad", f->dir);
	assert_int_equal(th_mkdir_p(baddir, 0755), 0);
	assert_int_equal(render(f->service, bad, "[Service]\n", "[Service]\nThetaPlantedKey=1\n"), 0);
	char *argv[] = { "systemd-analyze", "verify", bad, NULL };
	char *out = NULL;
	int st = 0;
	assert_int_equal(run_capture(argv, &out, &st), 0);
	bool named = strstr(out, "ThetaPlantedKey") != NULL;
	if (!named)
		fprintf(stderr, "systemd-analyze verify printed:\n%s\n", out);
	free(out);
	assert_true(named);
}

static void test_service_exposure_is_at_most_2_0(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "systemd-analyze", "security", "--offline=true", "--no-pager", f->service, NULL };
	char *out = NULL;
	int st = 0;
	int r = run_capture(argv, &out, &st);
	if (r < 0)
		fail_msg("cannot run systemd-analyze security: %s", strerror(-r));
	const char *key = "Overall exposure level for thetad.service:";
	const char *p = strstr(out, key);
	char *end = NULL;
	double level = p ? strtod(p + strlen(key), &end) : -1.0;
	if (!p || end == p + strlen(key) || level < 0.0 || level > MAX_EXPOSURE) {
		fprintf(stderr, "systemd-analyze security (wait status %d) printed:\n%s\n", st, out);
		free(out);
		fail_msg("overall exposure %.1f is missing or above %.1f", level, MAX_EXPOSURE);
	}
	printf("thetad.service overall exposure: %.1f (limit %.1f)\n", level, MAX_EXPOSURE);
	free(out);
}

static void test_rendered_service_runs_the_built_binary(void **state)
{
	struct fixture *f = *state;
	const char *exec = unit_get(&f->svc, "Service", "ExecStart");
	assert_non_null(exec);
	/* No flags: thetad takes its directories from the unit's environment. */
	assert_string_equal(exec, f->bin);
	char *text;
	size_t len;
	assert_int_equal(th_file_read(f->service, MAX_FILE_BYTES, &text, &len), 0);
	/* Every @PLACEHOLDER@ is one `make install` substitutes. */
	const char *left = NULL;
	for (const char *p = text; !left && (p = strchr(p, '@')); p++) {
		size_t n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		if (n && p[1 + n] == '@')
			left = p;
	}
	if (left)
		fail_msg("unsubstituted placeholder in thetad.service: %.32s", left);
	free(text);
	assert_string_equal(unit_get(&f->svc, "Service", "Type"), "notify");
	assert_string_equal(unit_get(&f->svc, "Service", "NotifyAccess"), "main");
	assert_non_null(unit_get(&f->svc, "Service", "WatchdogSec"));
	assert_string_equal(unit_get(&f->svc, "Service", "Restart"), "on-failure");
}

struct ids {
	char name[64];
	long id;
	long gid; /* passwd only */
	char home[256];
	char shell[256];
};

/* Reads name:x:id[:gid:gecos:home:shell] lines. */
static int read_ids(const char *path, bool passwd, struct ids *v, int max)
{
	char *buf;
	size_t len;
	int r = th_file_read(path, MAX_FILE_BYTES, &buf, &len);
	if (r < 0)
		return r;
	int n = 0;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		char *fld[7] = { 0 };
		int nf = 0;
		for (char *p = line; nf < 7; nf++) {
			fld[nf] = p;
			p = strchr(p, ':');
			if (!p) {
				nf++;
				break;
			}
			*p++ = '\0';
		}
		if (nf < (passwd ? 7 : 3))
			continue;
		snprintf(v[n].name, sizeof(v[n].name), "%s", fld[0]);
		v[n].id = strtol(fld[2], NULL, 10);
		v[n].gid = passwd ? strtol(fld[3], NULL, 10) : -1;
		snprintf(v[n].home, sizeof(v[n].home), "%s", passwd ? fld[5] : "");
		snprintf(v[n].shell, sizeof(v[n].shell), "%s", passwd ? fld[6] : "");
		n++;
	}
	free(buf);
	return n;
}

static const struct ids *find_id(const struct ids *v, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static void test_sysusers_creates_the_identities_the_units_name(void **state)
{
	struct fixture *f = *state;
	char root[96], etc[128], src[PATH_MAX], arg[128];
	snprintf(root, sizeof(root), "%s/sysroot", f->dir);
	snprintf(etc, sizeof(etc), "%s/etc", root);
	assert_int_equal(th_mkdir_p(etc, 0755), 0);
	assert_non_null(realpath(SYSUSERS_SRC, src));
	snprintf(arg, sizeof(arg), "--root=%s", root);
	char *argv[] = { "systemd-sysusers", arg, src, NULL };
	char *out = NULL;
	int st = 0;
	int r = run_capture(argv, &out, &st);
	if (r < 0)
		fail_msg("cannot run systemd-sysusers: %s", strerror(-r));
	/* A good snippet prints only "Creating ..." lines; anything else
	 * (unknown line type, missing group) is a warning even at exit 0. */
	bool clean = exited_zero(st);
	char *copy = strdup(out);
	assert_non_null(copy);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Creating ", 9))
			clean = false;
	free(copy);
	if (!clean)
		fprintf(stderr, "systemd-sysusers (wait status %d) printed:\n%s\n", st, out);
	free(out);
	assert_true(clean);

	struct ids users[16], groups[16];
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/passwd", etc);
	int nu = read_ids(path, true, users, 16);
	snprintf(path, sizeof(path), "%s/group", etc);
	int ng = read_ids(path, false, groups, 16);
	assert_true(nu >= 1);
	assert_true(ng >= 1);

	const char *user = unit_get(&f->svc, "Service", "User");
	const char *group = unit_get(&f->svc, "Service", "Group");
	assert_non_null(user);
	assert_non_null(group);
	const struct ids *u = find_id(users, nu, user);
	const struct ids *g = find_id(groups, ng, group);
	assert_non_null(u);
	assert_non_null(g);
	/* The service's group is the user's primary group, so files thetad
	 * creates and the runtime tree systemd re-owns agree on it. */
	assert_int_equal(u->gid, g->id);
	assert_string_equal(u->shell, "/usr/sbin/nologin");
	assert_true(u->id > 0);
	for (size_t i = 0; i < N_SOCKET_UNITS; i++) {
		assert_non_null(find_id(users, nu, unit_get(&f->sock[i], "Socket", "SocketUser")));
		assert_non_null(find_id(groups, ng, unit_get(&f->sock[i], "Socket", "SocketGroup")));
	}
	/* thetad's default query and admin groups (srv/config.h). */
	assert_non_null(find_id(groups, ng, "theta"));
	assert_non_null(find_id(groups, ng, "theta-admin"));
}

/* What each socket unit listens on, and how. */
struct listen_spec {
	char path[256];
	int type;
	unsigned mode;
	char fdname[64];
};

static void socket_spec(const struct unit_file *u, struct listen_spec *s)
{
	static const struct {
		const char *key;
		int type;
	} kinds[] = { { "ListenStream", SOCK_STREAM },
		      { "ListenSequentialPacket", SOCK_SEQPACKET },
		      { "ListenDatagram", SOCK_DGRAM } };
	int found = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *v = unit_get(u, "Socket", kinds[k].key);
		if (v) {
			snprintf(s->path, sizeof(s->path), "%s", v);
			s->type = kinds[k].type;
			found++;
		}
	}
	/* One socket per unit: SocketMode= covers every socket of a unit. */
	assert_int_equal(found, 1);
	const char *mode = unit_get(u, "Socket", "SocketMode");
	assert_non_null(mode);
	s->mode = (unsigned)strtoul(mode, NULL, 8);
	const char *name = unit_get(u, "Socket", "FileDescriptorName");
	snprintf(s->fdname, sizeof(s->fdname), "%s", name ? name : "");
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void test_socket_units_listen_in_the_runtime_directory(void **state)
{
	struct fixture *f = *state;
	const char *rtdir = unit_get(&f->svc, "Service", "RuntimeDirectory");
	const char *sockets = unit_get(&f->svc, "Service", "Sockets");
	assert_non_null(rtdir);
	assert_non_null(sockets);
	/* Stopping the service must not delete the sockets the socket units
	 * keep listening on. */
	assert_string_equal(unit_get(&f->svc, "Service", "RuntimeDirectoryPreserve"), "yes");
	char want_dir[300];
	snprintf(want_dir, sizeof(want_dir), "/run/%s/", rtdir);
	for (size_t i = 0; i < N_SOCKET_UNITS; i++) {
		struct listen_spec s;
		socket_spec(&f->sock[i], &s);
		assert_true(!strncmp(s.path, want_dir, strlen(want_dir)));
		assert_null(strchr(s.path + strlen(want_dir), '/'));
		assert_string_equal(unit_get(&f->sock[i], "Socket", "Service"), "thetad.service");
		assert_true(word_in(sockets, socket_units[i]));
		assert_true(s.fdname[0] != '\0');
	}
	/* The contract thetactl and theta-client rely on. */
	struct listen_spec ctl, cli;
	socket_spec(&f->sock[0], &ctl);
	socket_spec(&f->sock[1], &cli);
	assert_string_equal(base_name(ctl.path), "control.sock");
	assert_int_equal(ctl.type, SOCK_STREAM);
	assert_int_equal(ctl.mode, 0660);
	assert_string_equal(unit_get(&f->sock[0], "Socket", "SocketGroup"), "theta");
	assert_string_equal(base_name(cli.path), "client.sock");
	assert_int_equal(cli.type, SOCK_SEQPACKET);
	assert_int_equal(cli.mode, 0666);
}

/* ---- thetad as the units start it -------------------------------------- */

struct daemon_run {
	char dir[128];          /* per-run directory under the fixture */
	char runtime[160];
	char log[160];
	int notify_fd;
	pid_t pid;
	bool ready, watchdog, stopping;
	char status_line[256];
};

static int unix_addr(const char *path, struct sockaddr_un *a)
{
	size_t l = strlen(path);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (l >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	memcpy(a->sun_path, path, l + 1);
	return 0;
}

static int unix_listen(const char *path, int type)
{
	struct sockaddr_un a;
	if (unix_addr(path, &a) < 0)
		return -ENAMETOOLONG;
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (type != SOCK_DGRAM && listen(fd, 16) < 0)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void daemon_prepare(struct fixture *f, const char *name, struct daemon_run *d)
{
	memset(d, 0, sizeof(*d));
	d->notify_fd = -1;
	d->pid = -1;
	static unsigned runs; /* each run gets a fresh directory */
	snprintf(d->dir, sizeof(d->dir), "%s/%s-%u", f->dir, name, runs++);
	snprintf(d->runtime, sizeof(d->runtime), "%s/run", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/thetad.log", d->dir);
	assert_int_equal(th_mkdir_p(d->runtime, 0755), 0);
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/state", d->dir);
	assert_int_equal(th_mkdir_p(p, 0700), 0);
	/* An empty config: no host configuration leaks into the test. */
	snprintf(p, sizeof(p), "%s/thetad.conf", d->dir);
	assert_int_equal(write_file(p, "", 0), 0);
	snprintf(p, sizeof(p), "%s/notify", d->dir);
	d->notify_fd = unix_listen(p, SOCK_DGRAM);
	assert_true(d->notify_fd >= 0);
}

/* Starts thetad with the environment systemd gives it under the unit.
 * fds[0..nfds) become LISTEN_FDS 3.. named `fdnames`. */
static void daemon_start(struct fixture *f, struct daemon_run *d, const int *fds, int nfds, const char *fdnames)
{
	char conf[PATH_MAX + 32], state_env[PATH_MAX + 32], rt_env[PATH_MAX + 32], notify_env[PATH_MAX + 32];
	char nfds_env[32], names_env[256], wd_env[64], pid_env[64];
	snprintf(conf, sizeof(conf), "%s/thetad.conf", d->dir);
	snprintf(state_env, sizeof(state_env), "STATE_DIRECTORY=%s/state", d->dir);
	snprintf(rt_env, sizeof(rt_env), "RUNTIME_DIRECTORY=%s", d->runtime);
	snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=%s/notify", d->dir);
	snprintf(nfds_env, sizeof(nfds_env), "LISTEN_FDS=%d", nfds);
	snprintf(names_env, sizeof(names_env), "LISTEN_FDNAMES=%s", fdnames ? fdnames : "");
	snprintf(wd_env, sizeof(wd_env), "WATCHDOG_USEC=%d", TEST_WATCHDOG_USEC);
	if (live_daemon > 0) { /* left running by an earlier failed test */
		kill(live_daemon, SIGKILL);
		waitpid(live_daemon, NULL, 0);
		live_daemon = -1;
	}
	int logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(logfd >= 0);
	/* Park the passed fds above the target range first, so placing them at
	 * 3.. never overwrites one still to be placed. */
	int high[MAX_SOCKETS];
	assert_true(nfds <= MAX_SOCKETS);
	for (int i = 0; i < nfds; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
		assert_true(high[i] >= 0);
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		for (int i = 0; i < nfds; i++)
			if (dup2(high[i], 3 + i) < 0) /* dup2 clears FD_CLOEXEC on the copy */
				_exit(126);
		snprintf(pid_env, sizeof(pid_env), "LISTEN_PID=%d", (int)getpid());
		char *env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", state_env, rt_env, notify_env, wd_env,
				nfds_env, pid_env, names_env, NULL };
		if (!nfds)
			env[5] = NULL; /* not socket-activated: no LISTEN_* at all */
		char *argv[] = { f->bin, "--config", conf, "--port", "0", NULL };
		execve(f->bin, argv, env);
		_exit(127);
	}
	for (int i = 0; i < nfds; i++)
		close(high[i]);
	close(logfd);
	d->pid = pid;
	live_daemon = pid;
}

static void print_log(const struct daemon_run *d)
{
	char *text;
	size_t len;
	if (th_file_read(d->log, MAX_FILE_BYTES, &text, &len) == 0) {
		fprintf(stderr, "thetad's output:\n%s\n", text);
		free(text);
	}
}

/* Reads notify messages until `want` is true or the timeout passes. */
static void daemon_wait(struct daemon_run *d, const bool *want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	while (!*want) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return;
		struct pollfd pfd = { .fd = d->notify_fd, .events = POLLIN };
		if (poll(&pfd, 1, left > 100 ? 100 : (int)left) <= 0) {
			int st;
			if (d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == d->pid) {
				print_log(d);
				d->pid = -1;
				live_daemon = -1;
				fail_msg("thetad exited early (wait status %d)", st);
			}
			continue;
		}
		char msg[4096];
		ssize_t n = recv(d->notify_fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		for (char *save = NULL, *l = strtok_r(msg, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(l, "READY=1"))
				d->ready = true;
			else if (!strcmp(l, "WATCHDOG=1"))
				d->watchdog = true;
			else if (!strcmp(l, "STOPPING=1"))
				d->stopping = true;
			else if (!strncmp(l, "STATUS=", 7))
				snprintf(d->status_line, sizeof(d->status_line), "%s", l + 7);
		}
	}
}

/* SIGTERM, as `systemctl stop` sends: STOPPING=1 and a clean exit, which
 * Restart=on-failure reads as "do not restart". */
static void daemon_stop(struct daemon_run *d)
{
	assert_true(d->pid > 0);
	assert_int_equal(kill(d->pid, SIGTERM), 0);
	daemon_wait(d, &d->stopping, DAEMON_TIMEOUT_MS);
	int st = 0;
	int64_t deadline = now_ms() + DAEMON_TIMEOUT_MS;
	pid_t w;
	while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (w == 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &st, 0);
	}
	d->pid = -1;
	live_daemon = -1;
	close(d->notify_fd);
	d->notify_fd = -1;
	if (!d->stopping || !exited_zero(st)) {
		print_log(d);
		fail_msg("thetad did not stop cleanly on SIGTERM (STOPPING=1 %s, wait status %d)",
			 d->stopping ? "seen" : "missing", st);
	}
}

static int socket_type_at(const char *path)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	struct sockaddr_un a;
	if (unix_addr(path, &a) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
		if (r == 0)
			return types[i];
	}
	return -1;
}

struct bound {
	char name[256];
	int type;
	unsigned mode;
};

/* The sockets thetad binds by itself (no LISTEN_FDS) in its runtime dir. */
static int probe_own_sockets(struct fixture *f, struct bound *out, int max)
{
	struct daemon_run d;
	daemon_prepare(f, "own", &d);
	daemon_start(f, &d, NULL, 0, NULL);
	daemon_wait(&d, &d.ready, DAEMON_TIMEOUT_MS);
	if (!d.ready) {
		print_log(&d);
		kill(d.pid, SIGKILL);
		fail_msg("thetad sent no READY=1 within %d ms", DAEMON_TIMEOUT_MS);
	}
	int n = 0;
	DIR *dir = opendir(d.runtime);
	assert_non_null(dir);
	for (struct dirent *e; (e = readdir(dir)) && n < max;) {
		char p[PATH_MAX + 300];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", d.runtime, e->d_name);
		if (lstat(p, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", e->d_name);
		out[n].type = socket_type_at(p);
		out[n].mode = st.st_mode & 07777;
		n++;
	}
	closedir(dir);
	daemon_stop(&d);
	return n;
}

static void test_thetad_binds_only_sockets_the_units_provide(void **state)
{
	struct fixture *f = *state;
	struct bound own[MAX_SOCKETS];
	int n = probe_own_sockets(f, own, MAX_SOCKETS);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		bool provided = false;
		for (size_t k = 0; k < N_SOCKET_UNITS; k++) {
			struct listen_spec s;
			socket_spec(&f->sock[k], &s);
			if (strcmp(base_name(s.path), own[i].name))
				continue;
			provided = true;
			if (s.type != own[i].type || s.mode != own[i].mode)
				fail_msg("%s: thetad binds type %d mode %04o, %s gives type %d mode %04o", own[i].name,
					 own[i].type, own[i].mode, socket_units[k], s.type, s.mode);
		}
		if (!provided)
			fail_msg("thetad binds %s, which no socket unit provides", own[i].name);
	}
}

/* Is there a socket with inode `ino` among pid's fds? */
static bool pid_holds_socket(pid_t pid, ino_t ino)
{
	char dirp[64], want[64];
	snprintf(dirp, sizeof(dirp), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	DIR *dir = opendir(dirp);
	if (!dir)
		return false;
	bool found = false;
	for (struct dirent *e; !found && (e = readdir(dir));) {
		char p[64 + 300], link[128];
		snprintf(p, sizeof(p), "%s/%s", dirp, e->d_name);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = !strcmp(link, want);
		}
	}
	closedir(dir);
	return found;
}

static void test_thetad_adopts_the_sockets_the_units_pass(void **state)
{
	struct fixture *f = *state;
	struct bound own[MAX_SOCKETS];
	int nown = probe_own_sockets(f, own, MAX_SOCKETS);

	struct daemon_run d;
	daemon_prepare(f, "activated", &d);
	int fds[N_SOCKET_UNITS];
	ino_t sock_ino[N_SOCKET_UNITS], file_ino[N_SOCKET_UNITS];
	struct listen_spec spec[N_SOCKET_UNITS];
	char names[256] = "";
	for (size_t i = 0; i < N_SOCKET_UNITS; i++) {
		socket_spec(&f->sock[i], &spec[i]);
		char p[PATH_MAX + 300];
		snprintf(p, sizeof(p), "%s/%s", d.runtime, base_name(spec[i].path));
		fds[i] = unix_listen(p, spec[i].type);
		assert_true(fds[i] >= 0);
		struct stat st;
		assert_int_equal(fstat(fds[i], &st), 0);
		sock_ino[i] = st.st_ino;
		assert_int_equal(stat(p, &st), 0);
		file_ino[i] = st.st_ino;
		size_t l = strlen(names);
		snprintf(names + l, sizeof(names) - l, "%s%s", i ? ":" : "", spec[i].fdname);
	}
	daemon_start(f, &d, fds, (int)N_SOCKET_UNITS, names);
	daemon_wait(&d, &d.ready, DAEMON_TIMEOUT_MS);
	if (!d.ready) {
		print_log(&d);
		kill(d.pid, SIGKILL);
		fail_msg("socket-activated thetad sent no READY=1 within %d ms", DAEMON_TIMEOUT_MS);
	}
	/* WatchdogSec=: keep-alives at the pace WATCHDOG_USEC asks for. */
	d.watchdog = false;
	daemon_wait(&d, &d.watchdog, DAEMON_TIMEOUT_MS);
	assert_true(d.watchdog);

	for (size_t i = 0; i < N_SOCKET_UNITS; i++) {
		const char *bn = base_name(spec[i].path);
		bool served = false;
		for (int k = 0; k < nown; k++)
			served |= !strcmp(own[k].name, bn);
		char p[PATH_MAX + 300];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", d.runtime, bn);
		/* Nobody unlinked and re-bound the path systemd created. */
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_ino, file_ino[i]);
		if (served) {
			if (!pid_holds_socket(d.pid, sock_ino[i])) {
				print_log(&d);
				fail_msg("thetad did not keep the %s systemd passed it", bn);
			}
		} else {
			printf("note: thetad does not serve %s yet; %s is ahead of the daemon\n", bn,
			       socket_units[i]);
		}
	}

	/* ExecReload= sends SIGHUP: thetad reloads and keeps running. */
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	d.watchdog = false;
	daemon_wait(&d, &d.watchdog, DAEMON_TIMEOUT_MS);
	assert_true(d.watchdog);
	assert_int_equal(waitpid(d.pid, NULL, WNOHANG), 0);
	assert_true(d.status_line[0] != '\0');
	daemon_stop(&d);
	for (size_t i = 0; i < N_SOCKET_UNITS; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_pass_systemd_analyze_verify_silently),
		cmocka_unit_test(test_verify_reports_a_planted_unknown_key),
		cmocka_unit_test(test_service_exposure_is_at_most_2_0),
		cmocka_unit_test(test_rendered_service_runs_the_built_binary),
		cmocka_unit_test(test_sysusers_creates_the_identities_the_units_name),
		cmocka_unit_test(test_socket_units_listen_in_the_runtime_directory),
		cmocka_unit_test(test_thetad_binds_only_sockets_the_units_provide),
		cmocka_unit_test(test_thetad_adopts_the_sockets_the_units_pass),
	};
	return cmocka_run_group_tests_name("systemd units", tests, group_setup, group_teardown);
}
