/* What tests/web's C tests share to run node over the browser's modules
 * (header-only): finding node and build/web/wasm/theta.wasm (SKIP with the
 * reason when either is missing), running a script with its stdout
 * captured, and the entries file tests/web/fold_check.mjs reads. Tests run
 * from the source tree's root (make test). */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_buf.h"
#include "th_logrec.h"

#define TWN_OUT_MAX (16u << 20) /* bytes of a script's stdout kept */
/* theta.wasm's errno values are wasi-libc's (web/wasm/tw.h), not Linux's. */
#define TWN_EBADMSG 9
#define TWN_EPROTO 65

static inline const char *twn_node(void)
{
	static const char *const paths[] = { "/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* $THETA_BUILD/web/wasm/theta.wasm (build/ by default). */
static inline const char *twn_wasm(void)
{
	static char path[4096];
	const char *b = getenv("THETA_BUILD");
	snprintf(path, sizeof path, "%s/web/wasm/theta.wasm", b && *b ? b : "build");
	return path;
}

/* NULL when node and theta.wasm are there, else why the test skips. */
static inline const char *twn_missing(bool need_wasm)
{
	if (!twn_node())
		return "node is not installed (scripts/setup installs it)";
	static char why[4200];
	if (need_wasm && access(twn_wasm(), R_OK) != 0) {
		snprintf(why, sizeof why, "%s was not built (clang-14, lld-14 or wasi-libc missing: see make's WEB line)",
			 twn_wasm());
		return why;
	}
	return NULL;
}

/* Runs node with argv (argv[0] the script, NULL-terminated); *out gets its
 * stdout (NUL-terminated, malloc'd). Returns the exit status, -1 when it
 * could not run or died of a signal. stderr goes to the test's. */
static inline int twn_run(const char *const *argv, char **out)
{
	int fds[2];
	*out = NULL;
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		const char *args[64];
		size_t n = 0;
		args[n++] = "node";
		for (; argv[n - 1] && n < 63; n++)
			args[n] = argv[n - 1];
		args[n] = NULL;
		execv(twn_node(), (char *const *)args);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	for (;;) {
		if (buf && len + 1 == cap && cap < TWN_OUT_MAX) {
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				buf = NULL;
			} else {
				buf = b;
				cap *= 2;
			}
		}
		char sink[4096];
		char *dst = buf && len + 1 < cap ? buf + len : sink;
		size_t room = buf && len + 1 < cap ? cap - 1 - len : sizeof sink;
		ssize_t r = read(fds[0], dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			len += (size_t)r;
	}
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (buf)
		buf[len] = 0;
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The entries file: "TWF1", host key, then per entry u64 pos, u32 len, body. */
static inline void twn_file_begin(struct th_wbuf *w, const uint8_t host[TH_LOGREC_KEY_LEN])
{
	th_wbuf_init(w, 0);
	th_wbuf_put(w, "TWF1", 4);
	th_wbuf_put(w, host, TH_LOGREC_KEY_LEN);
}

static inline void twn_file_body(struct th_wbuf *w, uint64_t pos, const uint8_t *body, uint32_t len)
{
	th_wbuf_u64(w, pos);
	th_wbuf_u32(w, len);
	th_wbuf_put(w, body, len);
}

/* Appends e's canonical encoding at pos. */
static inline int twn_file_entry(struct th_wbuf *w, uint64_t pos, const struct th_logrec_entry *e)
{
	static uint8_t body[TH_LOGREC_BODY_MAX];
	int n = th_logrec_encode(e, body, sizeof body);
	if (n < 0)
		return n;
	twn_file_body(w, pos, body, (uint32_t)n);
	return 0;
}

/* The value after "key " on the first line starting so, or NULL. */
static inline const char *twn_line(const char *out, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ' ')
			return p + k + 1;
	return NULL;
}
