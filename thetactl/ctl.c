#include "ctl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlproto.h"
#include "th_buf.h"
#include "th_fdpass.h"

int ctl_connect(const char *runtime_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", runtime_dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int ctl_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int ctl_read_all(int fd, void *p, size_t len)
{
	uint8_t *b = p;
	while (len) {
		ssize_t n = recv(fd, b, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_send_frame(int fd, const char *json, size_t len)
{
	uint8_t hdr[PROTO_CTL_HEADER_BYTES];
	if (len == 0 || len > PROTO_CTL_MAX_REQUEST)
		return -EMSGSIZE;
	proto_ctl_frame_header(hdr, (uint32_t)len);
	int r = ctl_write_all(fd, hdr, sizeof(hdr));
	return r < 0 ? r : ctl_write_all(fd, json, len);
}

int ctl_recv_frame(int fd, char **out, size_t *len)
{
	uint8_t hdr[PROTO_CTL_HEADER_BYTES];
	size_t flen;
	int r = ctl_read_all(fd, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	r = proto_ctl_frame_check(hdr, sizeof(hdr), PROTO_CTL_MAX_REPLY, &flen);
	if (r < 0)
		return r;
	uint32_t n = th_get_le32(hdr);
	char *buf = malloc((size_t)n + 1);
	if (!buf)
		return -ENOMEM;
	r = ctl_read_all(fd, buf, n);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

static void ctl_say_unreachable(const struct ctl_ctx *ctx, int err)
{
	if (err == -ENOENT || err == -ECONNREFUSED)
		ctl_error(ctx, ctl_errno_code(err),
			  "thetad is not running (no daemon at %s/control.sock); start it with: systemctl start thetad",
			  ctx->runtime_dir);
	else if (err == -EACCES)
		ctl_error(ctx, "EACCES", "permission denied on %s/control.sock; ask to be added to the 'theta' group",
			  ctx->runtime_dir);
	else if (err == -EAGAIN)
		ctl_error(ctx, "ETIMEDOUT",
			  "thetad did not accept the connection on %s/control.sock within %u s; it may be stuck "
			  "(see journalctl -u thetad) or busy (try --timeout)",
			  ctx->runtime_dir, ctl_timeout_s(ctx));
	else
		ctl_error(ctx, ctl_errno_code(err), "cannot reach thetad at %s/control.sock: %s", ctx->runtime_dir,
			  strerror(-err));
}

unsigned ctl_timeout_s(const struct ctl_ctx *ctx)
{
	return ctx->timeout_s ? ctx->timeout_s : CTL_TIMEOUT_DEFAULT_S;
}

int ctl_open(const struct ctl_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", ctx->runtime_dir);
	int fd = -ENAMETOOLONG;
	if (n >= 0 && (size_t)n < sizeof(sa.sun_path) && (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fd = -errno;
	if (fd >= 0) {
		/* Both bounds are per call: the send timeout also bounds connect()
		 * on a unix socket whose daemon stopped accepting; the receive
		 * timeout is the longest silence between two reads of a reply, so
		 * a long reply that keeps coming never times out. */
		struct timeval tv = { .tv_sec = (time_t)ctl_timeout_s(ctx) };
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int r = errno == EINPROGRESS ? -EAGAIN : -errno;
			close(fd);
			fd = r;
		}
	}
	if (fd < 0)
		ctl_say_unreachable(ctx, fd);
	return fd;
}

/* The request frame in one sendmsg with the descriptors on its bytes. */
static int ctl_send_frame_fds(int fd, const char *json, size_t len, const int *fds, size_t n_fds)
{
	if (!n_fds)
		return ctl_send_frame(fd, json, len);
	if (len == 0 || len > PROTO_CTL_MAX_REQUEST)
		return -EMSGSIZE;
	uint8_t *buf = malloc(PROTO_CTL_HEADER_BYTES + len);
	if (!buf)
		return -ENOMEM;
	proto_ctl_frame_header(buf, (uint32_t)len);
	memcpy(buf + PROTO_CTL_HEADER_BYTES, json, len);
	int r = th_fdpass_send(fd, buf, PROTO_CTL_HEADER_BYTES + len, fds, n_fds);
	free(buf);
	return r;
}

int ctl_ask(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args,
	    struct json_object **result, char code[CTL_CODE_LEN], char *err, size_t errlen)
{
	return ctl_ask_fds(ctx, fd, cmd, args, NULL, 0, result, code, err, errlen);
}

int ctl_send_request(int fd, const char *cmd, struct json_object *args, const int *fds, size_t n_fds)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", json_object_get(args));
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int r = ctl_send_frame_fds(fd, s, strlen(s), fds, n_fds);
	json_object_put(req);
	return r;
}

/* The reply's exchange error r (from sending or receiving) as ctl_ask
 * words it. */
static int ctl_exchange_error(const struct ctl_ctx *ctx, const char *cmd, int r, char *err, size_t errlen)
{
	if (r == -EAGAIN || r == -EWOULDBLOCK) {
		snprintf(err, errlen,
			 "thetad did not answer '%s' within %u s on %s/control.sock; it may be stuck "
			 "(see journalctl -u thetad) or busy (try --timeout)",
			 cmd, ctl_timeout_s(ctx), ctx->runtime_dir);
		return -ETIMEDOUT;
	}
	snprintf(err, errlen, "lost the connection to thetad during '%s': %s", cmd, strerror(-r));
	return r;
}

int ctl_read_reply(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object **result,
		   char code[CTL_CODE_LEN], char *err, size_t errlen)
{
	char *reply = NULL;
	size_t rlen;
	code[0] = 0;
	int r = ctl_recv_frame(fd, &reply, &rlen);
	if (r < 0)
		return ctl_exchange_error(ctx, cmd, r, err, errlen);
	struct json_object *o = json_tokener_parse(reply), *ok, *res, *e;
	free(reply);
	if (!o || !json_object_object_get_ex(o, "ok", &ok)) {
		snprintf(err, errlen, "thetad sent a reply that is not valid JSON");
		json_object_put(o);
		return -EBADMSG;
	}
	if (!json_object_get_boolean(ok)) {
		snprintf(err, errlen, "%s", json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e) : "failed");
		if (json_object_object_get_ex(o, "code", &e))
			snprintf(code, CTL_CODE_LEN, "%s", json_object_get_string(e));
		json_object_put(o);
		return 1;
	}
	if (!json_object_object_get_ex(o, "result", &res))
		res = NULL;
	*result = json_object_get(res);
	json_object_put(o);
	return 0;
}

int ctl_ask_fds(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args, const int *fds,
		size_t n_fds, struct json_object **result, char code[CTL_CODE_LEN], char *err, size_t errlen)
{
	code[0] = 0;
	int r = ctl_send_request(fd, cmd, args, fds, n_fds);
	if (r < 0)
		return ctl_exchange_error(ctx, cmd, r, err, errlen);
	return ctl_read_reply(ctx, fd, cmd, result, code, err, errlen);
}

int ctl_call_on(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args,
		struct json_object **result)
{
	char code[CTL_CODE_LEN], err[1024];
	int r = ctl_ask(ctx, fd, cmd, args, result, code, err, sizeof(err));
	if (r == 0)
		return CTL_EXIT_OK;
	/* The daemon's EINVAL: an argument it was given is malformed (a level,
	 * a spec, a hash): a usage error like thetactl's own. */
	if (r == 1 && !strcmp(code, "EINVAL"))
		return ctl_fail(ctx, CTL_EXIT_USAGE, code, "%s", err);
	return ctl_fail(ctx, CTL_EXIT_ERROR, r == 1 && code[0] ? code : ctl_errno_code(r), "%s", err);
}

int ctl_call(const struct ctl_ctx *ctx, const char *cmd, struct json_object *args, struct json_object **result)
{
	int fd = ctl_open(ctx);
	if (fd < 0)
		return CTL_EXIT_ERROR;
	int r = ctl_call_on(ctx, fd, cmd, args, result);
	close(fd);
	return r;
}

/* ---- JSON numbers scripts can trust ---- */

struct json_object *ctl_json_u64(uint64_t v)
{
	if (v <= CTL_JSON_SAFE_INT)
		return json_object_new_uint64(v);
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_object_new_string(b);
}

struct json_object *ctl_json_i64(int64_t v)
{
	if (v >= 0)
		return ctl_json_u64((uint64_t)v);
	if ((uint64_t)-(v + 1) < CTL_JSON_SAFE_INT)
		return json_object_new_int64(v);
	char b[24];
	snprintf(b, sizeof(b), "%" PRId64, v);
	return json_object_new_string(b);
}

uint64_t ctl_ju64(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		return errno || end == s || *end || s[0] == '-' ? 0 : (uint64_t)x;
	}
	return json_object_get_uint64(v);
}

/* An integer JSON readers would round, as its string; NULL when safe. */
static struct json_object *ctl_json_safe_int(struct json_object *v)
{
	int64_t i = json_object_get_int64(v);
	if (i < 0)
		return (uint64_t)-(i + 1) < CTL_JSON_SAFE_INT ? NULL : ctl_json_i64(i);
	uint64_t u = json_object_get_uint64(v);
	return u <= CTL_JSON_SAFE_INT ? NULL : ctl_json_u64(u);
}

static bool ctl_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

/* A duration member rounded: three decimals for seconds and milliseconds
 * (a millisecond, a microsecond), one for microseconds; NULL when v is no
 * duration (or not a finite number). */
static struct json_object *ctl_json_duration(const char *key, struct json_object *v)
{
	int places = ctl_ends_with(key, "_us") ? 1 : ctl_ends_with(key, "_s") || ctl_ends_with(key, "_ms") ? 3 : -1;
	if (places < 0)
		return NULL;
	double d = json_object_get_double(v);
	if (!(d > -1e15 && d < 1e15))
		return NULL;
	char b[48];
	snprintf(b, sizeof(b), "%.*f", places, d);
	char *e = b + strlen(b) - 1; /* 12.300 -> 12.3, 4.000 -> 4.0 */
	while (*e == '0' && e[-1] != '.')
		*e-- = 0;
	if (!strcmp(b, "-0.0"))
		snprintf(b, sizeof(b), "0.0");
	return json_object_new_double_s(strtod(b, NULL), b);
}

void ctl_json_safe(struct json_object *o)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v)
		{
			struct json_object *n = NULL;
			if (json_object_is_type(v, json_type_int))
				n = ctl_json_safe_int(v);
			else if (json_object_is_type(v, json_type_double))
				n = ctl_json_duration(key, v);
			else
				ctl_json_safe(v);
			if (n)
				json_object_object_add(o, key, n); /* replaces v in place: the iteration stays valid */
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(o); k++) {
			struct json_object *v = json_object_array_get_idx(o, k), *n = NULL;
			if (json_object_is_type(v, json_type_int))
				n = ctl_json_safe_int(v);
			else
				ctl_json_safe(v);
			if (n)
				json_object_array_put_idx(o, k, n);
		}
	}
}

void ctl_print_json(struct json_object *o)
{
	ctl_json_safe(o);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

void ctl_print_json_line(struct json_object *o)
{
	ctl_json_safe(o);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

struct ctl_table {
	unsigned n_cols, n_rows;
	char **cells; /* n_rows+1 rows (header first) */
};

struct ctl_table *ctl_table_new(unsigned n_cols, const char *const *headers)
{
	struct ctl_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n_cols = n_cols;
	ctl_table_row(t, headers);
	return t;
}

void ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	char **c = realloc(t->cells, sizeof(char *) * t->n_cols * (t->n_rows + 1));
	if (!c)
		return;
	t->cells = c;
	for (unsigned i = 0; i < t->n_cols; i++)
		c[t->n_rows * t->n_cols + i] = strdup(cells[i] ? cells[i] : "-");
	t->n_rows++;
}

void ctl_table_print(struct ctl_table *t)
{
	size_t w[32] = { 0 };
	for (unsigned r = 0; r < t->n_rows; r++)
		for (unsigned i = 0; i < t->n_cols && i < 32; i++) {
			const char *s = t->cells[r * t->n_cols + i];
			size_t l = s ? strlen(s) : 0;
			if (l > w[i])
				w[i] = l;
		}
	for (unsigned r = 0; r < t->n_rows; r++) {
		for (unsigned i = 0; i < t->n_cols && i < 32; i++) {
			const char *s = t->cells[r * t->n_cols + i];
			if (i + 1 == t->n_cols)
				printf("%s", s ? s : "");
			else
				printf("%-*s  ", (int)w[i], s ? s : "");
		}
		printf("\n");
	}
}

void ctl_table_free(struct ctl_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void ctl_format_duration(double s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm %02ds", (int)s / 60, (int)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%dh %02dm", (int)s / 3600, ((int)s % 3600) / 60);
	else
		snprintf(buf, len, "%dd %02dh", (int)(s / 86400), ((int)s % 86400) / 3600);
}

void ctl_format_bytes(unsigned long long b, char *buf, size_t len)
{
	if (b < 1024)
		snprintf(buf, len, "%lluB", b);
	else if (b < 1024 * 1024)
		snprintf(buf, len, "%.1fKiB", b / 1024.0);
	else if (b < 1024ull * 1024 * 1024)
		snprintf(buf, len, "%.1fMiB", b / 1048576.0);
	else
		snprintf(buf, len, "%.2fGiB", b / 1073741824.0);
}

const char *ctl_errno_code(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT: return "ENOENT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case EEXIST: return "EEXIST";
	case ENOSPC: return "ENOSPC";
	case EBADMSG: return "EBADMSG";
	case EMSGSIZE: return "EMSGSIZE";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case ENOMEM: return "ENOMEM";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	default: return "EIO";
	}
}

/* The one printer of every error: a line for people, a JSON object on
 * stderr with --json. help names the command whose help a usage error
 * points at (NULL: none). */
static int ctl_emit(const struct ctl_ctx *ctx, int status, const char *code, const char *help, const char *fmt,
		    va_list ap)
{
	char msg[2048], word[64] = "";
	const char *prog = ctx ? ctx->prog : "thetactl";
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (help) /* "session host" -> "session" */
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(help, " "), help);
	if (ctx && ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(msg));
		json_object_object_add(o, "code", json_object_new_string(code ? code : "EIO"));
		json_object_object_add(o, "exit", json_object_new_int(status));
		if (help)
			json_object_object_add(o, "command", json_object_new_string(help));
		if (status == CTL_EXIT_USAGE && word[0]) {
			char see[128];
			snprintf(see, sizeof(see), "%s help %s", prog, word);
			json_object_object_add(o, "help", json_object_new_string(see));
		}
		fprintf(stderr, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else if (status == CTL_EXIT_USAGE && help) {
		fprintf(stderr, "%s %s: %s (see '%s help %s')\n", prog, help, msg, prog, word);
	} else {
		fprintf(stderr, "%s: %s\n", prog, msg);
	}
	return status;
}

int ctl_usage_error(const struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = ctl_emit(ctx, CTL_EXIT_USAGE, "EUSAGE", cmd, fmt, ap);
	va_end(ap);
	return r;
}

int ctl_error(const struct ctl_ctx *ctx, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = ctl_emit(ctx, CTL_EXIT_ERROR, code, NULL, fmt, ap);
	va_end(ap);
	return r;
}

void ctl_eprintf(const struct ctl_ctx *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ctx || !ctx->json) {
		fputs(msg, stderr);
		return;
	}
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	const char *m = msg;
	size_t pl = strlen(ctx->prog);
	if (!strncmp(m, ctx->prog, pl) && (m[pl] == ':' || m[pl] == ' ')) {
		const char *colon = strstr(m, ": "); /* "thetactl CMD: sentence" -> "sentence" */
		if (colon)
			m = colon + 2;
	}
	ctl_error(ctx, NULL, "%s", m);
}

int ctl_fail(const struct ctl_ctx *ctx, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = ctl_emit(ctx, status, code, ctx && status == CTL_EXIT_USAGE ? ctx->cmd : NULL, fmt, ap);
	va_end(ap);
	return r;
}

int ctl_option_error(const struct ctl_ctx *ctx, const char *cmd, char **argv)
{
	/* getopt_long (opterr 0) sets optopt to a known long option's value
	 * when its argument is missing or one was given to a flag; to 0 for
	 * an unknown one. */
	const char *a = argv[optind - 1];
	if (optopt && !strncmp(a, "--", 2)) {
		const char *eq = strchr(a, '=');
		if (eq)
			return ctl_usage_error(ctx, cmd, "option '%.*s' takes no value", (int)(eq - a), a);
		return ctl_usage_error(ctx, cmd, "option '%s' needs a value", a);
	}
	return ctl_usage_error(ctx, cmd, "unknown option '%s'", a);
}
static int ctl_query_args(struct ctl_ctx *ctx, const char *cmd, bool session_flag, int argc, char **argv,
			  struct json_object **res)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "session", required_argument, NULL, 'S' }, { 0 } };
	static const struct option opts_json[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *session = NULL;
	int c;
	*res = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", session_flag ? opts : opts_json, NULL)) != -1) {
		if (c == 'j')
			ctx->json = true;
		else if (c == 'S')
			session = optarg;
		else
			return ctl_option_error(ctx, cmd, argv);
	}
	if (optind < argc)
		return ctl_usage_error(ctx, cmd, "unexpected argument '%s'", argv[optind]);
	struct json_object *args = NULL;
	if (session) {
		args = json_object_new_object();
		json_object_object_add(args, "session", json_object_new_string(session));
	}
	return ctl_request(ctx, cmd, args, res);
}

int ctl_request(struct ctl_ctx *ctx, const char *cmd, struct json_object *args, struct json_object **res)
{
	struct json_object *r;
	*res = NULL;
	int rc = ctl_call(ctx, cmd, args, &r);
	json_object_put(args);
	if (rc)
		return rc;
	if (ctx->json) {
		ctl_print_json(r);
		json_object_put(r);
		return CTL_EXIT_OK;
	}
	*res = r;
	return CTL_EXIT_OK;
}

int ctl_query(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, struct json_object **res)
{
	return ctl_query_args(ctx, cmd, false, argc, argv, res);
}

int ctl_query_session(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, struct json_object **res)
{
	return ctl_query_args(ctx, cmd, true, argc, argv, res);
}

const char *ctl_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "-";
}

long long ctl_jint(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? (long long)json_object_get_int64(v) : 0;
}

/* Parses the only option most commands take, --json; returns the index of
 * the first operand or -1 after a usage error was printed. */
int ctl_parse_json_flag(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			ctx->json = true;
		else {
			ctl_option_error(ctx, cmd, argv);
			return -1;
		}
	}
	return optind;
}

int ctl_parse_session_opts(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, const char *name,
			   const char **session, const char **value)
{
	const struct option opts[] = { { "session", required_argument, NULL, 'S' },
				       { "json", no_argument, NULL, 'j' },
				       { name, required_argument, NULL, 'v' },
				       { 0 } };
	int c;
	*session = NULL;
	if (value)
		*value = NULL;
	optind = 0; /* a full reset: options may follow the operands (argv is permuted) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'S')
			*session = optarg;
		else if (c == 'v' && value)
			*value = optarg;
		else if (c == 'j')
			ctx->json = true;
		else {
			ctl_option_error(ctx, cmd, argv);
			return -1;
		}
	}
	return optind;
}
