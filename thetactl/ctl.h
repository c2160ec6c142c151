/* thetactl's plumbing: finding the daemon, one request/reply over
 * control.sock, and printing tables for people or JSON for scripts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define CTL_EXIT_OK    0
#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2

/* How long thetactl waits for the daemon (--timeout SECONDS): to accept the
 * connection, to take the request, and between two reads of a reply. */
#define CTL_TIMEOUT_DEFAULT_S 5
#define CTL_TIMEOUT_MAX_S     86400

struct ctl_ctx {
	const char *runtime_dir; /* --runtime-dir, $THETA_RUNTIME_DIR, /run/thetad */
	bool json;               /* --json: print machine-readable output */
	unsigned timeout_s;      /* --timeout; 0: CTL_TIMEOUT_DEFAULT_S */
	const char *prog;
};

struct ctl_command {
	const char *name;
	const char *args;    /* usage after the name, e.g. "[--json]" */
	const char *summary; /* one line for `thetactl help` */
	int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
};

/* NULL-terminated table (thetactl/commands.c). */
extern const struct ctl_command ctl_commands[];

/* Sends {"cmd": cmd, "args": args} (args may be NULL; ownership stays with
 * the caller) and returns the reply's "result" in *result (caller puts).
 * On failure prints one line to stderr (daemon not running and where we
 * looked; the daemon's error sentence) and returns CTL_EXIT_ERROR. */
int ctl_call(const struct ctl_ctx *ctx, const char *cmd, struct json_object *args, struct json_object **result);
/* Connects to the daemon with ctx's timeout set on the socket; on failure
 * prints one line (as ctl_call does) and returns -errno. */
int ctl_open(const struct ctl_ctx *ctx);
/* One request/reply on a connection from ctl_open, with ctl_call's
 * messages (a daemon that does not answer in time is one of them). */
int ctl_call_on(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args,
		struct json_object **result);
/* ctl_call_on without printing: 0 with *result (caller puts; NULL when the
 * reply has none), 1 when the daemon refused (its sentence in err, its code
 * such as "EAGAIN" or "EPERM" in code), or a negative errno when the
 * exchange failed (a sentence in err). */
#define CTL_CODE_LEN 16
int ctl_ask(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args,
	    struct json_object **result, char code[CTL_CODE_LEN], char *err, size_t errlen);
/* ctl_ask with descriptors passed on the request (SCM_RIGHTS, at most
 * TH_FDPASS_MAX_FDS): the daemon uses them for that request only. */
int ctl_ask_fds(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object *args, const int *fds,
		size_t n_fds, struct json_object **result, char code[CTL_CODE_LEN], char *err, size_t errlen);
/* The effective --timeout in seconds. */
unsigned ctl_timeout_s(const struct ctl_ctx *ctx);
/* Lower level, for tests: connect to DIR/control.sock (no timeout); returns fd or -errno. */
int ctl_connect(const char *runtime_dir);
int ctl_send_frame(int fd, const char *json, size_t len);
/* Reads one frame into a malloc'd NUL-terminated buffer. */
int ctl_recv_frame(int fd, char **out, size_t *len);

/* The common shape of a read-only command with no operands: parses
 * --json, refuses extra arguments, asks the daemon. With --json it prints
 * the result and sets *res = NULL; otherwise *res is the result to render
 * (caller puts). Returns the exit status (CTL_EXIT_OK when there is
 * something or nothing left to do). */
int ctl_query(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, struct json_object **res);
/* The same for commands that also take [--session S] (passed as args.session). */
int ctl_query_session(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, struct json_object **res);
/* ctl_call that takes ownership of args (may be NULL) and, with --json,
 * prints the result itself and sets *res = NULL; otherwise *res is the
 * result to render (caller puts). Returns the exit status. */
int ctl_request(struct ctl_ctx *ctx, const char *cmd, struct json_object *args, struct json_object **res);
/* A member of a JSON object as text ("-" when absent) or integer (0). */
const char *ctl_jstr(struct json_object *o, const char *key);
long long ctl_jint(struct json_object *o, const char *key);
int ctl_parse_json_flag(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv);
/* Parses the options of a command with operands: --session S, --json and,
 * when name is not NULL, --NAME VALUE (value may be NULL when name is).
 * Options may stand anywhere (argv is permuted); *session and *value stay
 * NULL when not given. Returns the index of the first operand or -1 after a
 * usage error was printed. */
int ctl_parse_session_opts(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, const char *name,
			   const char **session, const char **value);

/* Prints the JSON value pretty for scripts (--json). */
void ctl_print_json(struct json_object *o);

/* A table with a header row; columns padded to their widest cell. */
struct ctl_table;
struct ctl_table *ctl_table_new(unsigned n_cols, const char *const *headers);
void ctl_table_row(struct ctl_table *t, const char *const *cells);
void ctl_table_print(struct ctl_table *t);
void ctl_table_free(struct ctl_table *t);

/* "1h 02m", "3.2s" */
void ctl_format_duration(double seconds, char *buf, size_t len);
void ctl_format_bytes(unsigned long long bytes, char *buf, size_t len);
int ctl_usage_error(const struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The usage error for getopt_long's '?' (opterr 0): "option '--X' needs a
 * value", "option '--X' takes no value" or "unknown option 'X'". Returns
 * CTL_EXIT_USAGE. */
int ctl_option_error(const struct ctl_ctx *ctx, const char *cmd, char **argv);
