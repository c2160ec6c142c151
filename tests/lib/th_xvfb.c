#include "th_xvfb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_harness.h"
#include "th_time.h"

#define TH_XVFB_STOP_MS 10000

static bool on_path(const char *name)
{
	return th_find_on_path(name, NULL, 0);
}

bool th_xvfb_available(void)
{
	return on_path("Xvfb");
}

int th_xvfb_start(struct th_xvfb *x, const char *screen)
{
	memset(x, 0, sizeof *x);
	x->pid = -1;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(fds[0]);
		close(fds[1]);
		return e;
	}
	if (pid == 0) {
		/* The write end must survive exec: Xvfb writes "N\n" to it when it listens. */
		int wfd = dup(fds[1]);
		char fdarg[16];
		snprintf(fdarg, sizeof fdarg, "%d", wfd);
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2); /* its keymap warnings; a failure shows as no display */
		}
		/* -r: no key auto-repeat. A key xdotool holds longer than the
		 * server's repeat delay (660 ms: a stalled xdotool on a loaded
		 * machine) would otherwise repeat, adding presses no test sent. */
		execlp("Xvfb", "Xvfb", "-displayfd", fdarg, "-screen", "0", screen, "-nolisten", "tcp", "-noreset", "-r",
		       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[32] = { 0 };
	size_t got = 0;
	uint64_t deadline = th_now_ns() + (uint64_t)TH_XVFB_START_MS * TH_NS_PER_MS;
	int rc = -ETIMEDOUT;
	for (uint64_t now; (now = th_now_ns()) < deadline;) {
		/* At least 1 ms: a negative timeout would make poll wait forever. */
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int n = poll(&p, 1, (int)((deadline - now) / TH_NS_PER_MS) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ssize_t r = read(fds[0], buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = -ECHILD; /* Xvfb closed the pipe without a display: it exited */
			break;
		}
		got += (size_t)r;
		if (memchr(buf, '\n', got)) {
			rc = 0;
			break;
		}
		if (got == sizeof buf - 1)
			break;
	}
	close(fds[0]);
	if (rc < 0) {
		fprintf(stderr, "th_xvfb: Xvfb did not report a display (%s)\n", strerror(-rc));
		kill(pid, SIGKILL);
		th_wait_pid(pid, TH_XVFB_STOP_MS, NULL);
		return rc;
	}
	x->pid = pid;
	x->display = atoi(buf);
	const char *old = getenv("DISPLAY");
	if (old) {
		x->had_display = true;
		snprintf(x->old_display, sizeof x->old_display, "%s", old);
	}
	char d[32];
	snprintf(d, sizeof d, ":%d", x->display);
	setenv("DISPLAY", d, 1);
	unsetenv("WAYLAND_DISPLAY");
	return 0;
}

void th_xvfb_stop(struct th_xvfb *x)
{
	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		if (th_wait_pid(x->pid, TH_XVFB_STOP_MS, NULL) < 0) {
			kill(x->pid, SIGKILL);
			th_wait_pid(x->pid, TH_XVFB_STOP_MS, NULL);
		}
	}
	x->pid = -1;
	if (x->had_display)
		setenv("DISPLAY", x->old_display, 1);
	else
		unsetenv("DISPLAY");
}

static struct th_xvfb group_xvfb;
static char group_dir[PATH_MAX];

int th_xvfb_group_setup(void **state)
{
	if (th_mkdtemp(group_dir, sizeof group_dir) < 0)
		return -1;
	return th_xvfb_start(&group_xvfb, TH_XVFB_SCREEN) < 0 ? -1 : 0;
}

int th_xvfb_group_teardown(void **state)
{
	th_xvfb_stop(&group_xvfb);
	th_rm_rf(group_dir);
	return 0;
}

const char *th_xvfb_dir(void)
{
	return group_dir;
}

bool th_xvfb_skip(void)
{
	if (th_xvfb_available())
		return false;
	printf("SKIP: Xvfb is not installed (apt-get install xvfb): the window tests need an X server\n");
	return true;
}

const char *th_xdotool(void)
{
	static char path[PATH_MAX];
	return th_find_on_path("xdotool", path, sizeof path) ? path : NULL;
}

int th_xdo(const char *const *args)
{
	char out[256];
	return th_xdo_out(args, out, sizeof out);
}

int th_xdo_out(const char *const *args, char *out, size_t outlen)
{
	const char *tool = th_xdotool();
	if (!tool)
		return -ENOENT;
	const char *argv[TH_XDO_ARGS_MAX + 2] = { tool };
	unsigned n = 0;
	while (args[n] && n < TH_XDO_ARGS_MAX) {
		argv[n + 1] = args[n];
		n++;
	}
	if (args[n]) {
		fprintf(stderr, "th_xdo: more than %u arguments for xdotool\n", TH_XDO_ARGS_MAX);
		return -E2BIG;
	}
	char err[1024];
	int rc = th_run(argv, NULL, -1, out, outlen, err, sizeof err, TH_XDO_TIMEOUT_MS);
	if (rc != 0) {
		fprintf(stderr, "th_xdo: xdotool");
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, " %s", args[i]);
		fprintf(stderr, " -> %d: %s\n", rc, err);
	}
	return rc;
}

bool th_xdo_skip(void)
{
	if (th_xvfb_skip())
		return true;
	if (th_xdotool())
		return false;
	printf("SKIP: xdotool is not installed (apt-get install xdotool): the desktop input tests send real X input with it\n");
	return true;
}
