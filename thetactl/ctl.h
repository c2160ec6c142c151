/* thetactl's plumbing: finding the daemon, one request/reply over
 * control.sock, and printing tables for people or JSON for scripts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
	bool json;               /* --json: print machine-readable output (errors: a JSON object on stderr) */
	unsigned timeout_s;      /* --timeout; 0: CTL_TIMEOUT_DEFAULT_S */
	const char *prog;
	const char *cmd;         /* the command being run (its table name), for "see 'thetactl help CMD'" */
};

/* ---- the command table: each command carries its help --------------------
 * `thetactl help`, `thetactl help CMD`, `thetactl CMD --help` (or -h, handled
 * in main.c before the command runs), the man page test
 * (tests/thetactl/test_help.c) and completion read it. A command's entry:
 *
 *   { .name = "peers", .args = "[--session S] [--json]",
 *     .summary = "connected daemons: key, address, role, RTT, loss, bytes",
 *     .run = ctl_cmd_peers,
 *     .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_JSON),
 *     .desc = "One row per connected daemon ... (sentences; '\n' starts a new paragraph)" },
 *
 * args: the synopsis after the name; a command with several forms has one
 * line per form ("host [--name N]\njoin LINK [--no-wait]"). opts: every
 * option the command's parser takes (all forms), with its value's name as
 * typed ("--role R") and its default in the text ("(default: editor)").
 * desc is wrapped by the printer; write plain sentences. */
struct ctl_opt {
	const char *flag; /* "--role R", "--json", "-q, --quiet" */
	const char *help; /* what it does, and its default */
};
/* A NULL-terminated option list for .opts. */
#define CTL_OPTS(...) ((const struct ctl_opt[]){ __VA_ARGS__, { NULL, NULL } })
#define CTL_OPT_JSON { "--json", "print the result as JSON; an error is a JSON object on stderr" }
#define CTL_OPT_SESSION                                                                                       \
	{ "--session S", "the session, by name or id (default: the current one, see 'thetactl sessions')" }

#define CTL_CMD_HIDDEN 1u /* not listed by `thetactl help` (e.g. a completion helper) */

struct ctl_command {
	const char *name;
	const char *args;    /* synopsis after the name, one line per form */
	const char *summary; /* one line for `thetactl help` */
	int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
	const struct ctl_opt *opts; /* CTL_OPTS(...); NULL: it takes no options */
	const char *desc;    /* `thetactl help NAME`: what it does, in sentences */
	unsigned flags;      /* CTL_CMD_* */
};

/* NULL-terminated table (thetactl/commands.c). */
extern const struct ctl_command ctl_commands[];
/* The entry called name, or NULL. */
const struct ctl_command *ctl_command_find(const char *name);
/* `thetactl help CMD [FORM]`: synopsis (only FORM's lines when form names
 * one, e.g. "join" of session), summary, description, options. */
void ctl_command_help(FILE *f, const char *prog, const struct ctl_command *c, const char *form);
/* `thetactl help`: the commands and the global options (ctl_global_opts). */
void ctl_help_overview(FILE *f, const char *prog);
extern const struct ctl_opt ctl_global_opts[];

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
/* The two halves of ctl_ask_fds, for a caller that watches something else
 * while the daemon works (poll fd for POLLIN before ctl_read_reply):
 * sends the request (0 or -errno), reads and parses the reply (as
 * ctl_ask: 0, 1 refused, or a negative errno with a sentence). */
int ctl_send_request(int fd, const char *cmd, struct json_object *args, const int *fds, size_t n_fds);
int ctl_read_reply(const struct ctl_ctx *ctx, int fd, const char *cmd, struct json_object **result,
		   char code[CTL_CODE_LEN], char *err, size_t errlen);
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
/* A usage error: one line "thetactl CMD: <sentence> (see 'thetactl help
 * CMD')" on stderr (with --json the JSON error object, code "EUSAGE");
 * returns CTL_EXIT_USAGE. cmd may name a form ("session host"): the help
 * pointed at is its first word's. */
int ctl_usage_error(const struct ctl_ctx *ctx, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The usage error for getopt_long's '?' (opterr 0): "option '--X' needs a
 * value", "option '--X' takes no value" or "unknown option 'X'". Returns
 * CTL_EXIT_USAGE. */
int ctl_option_error(const struct ctl_ctx *ctx, const char *cmd, char **argv);
/* Any other error: one line "thetactl: <sentence>" on stderr, or with
 * --json {"error": sentence, "code": code} on stderr (code: an errno name
 * such as "ENOENT", or the daemon's; NULL: "EIO"). Returns CTL_EXIT_ERROR. */
int ctl_error(const struct ctl_ctx *ctx, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An error line a command writes itself, as fprintf(stderr, fmt, ...)
 * would (its own "thetactl CMD: " prefix, a newline at the end); with
 * --json the JSON error object instead (the prefix and newline dropped). */
void ctl_eprintf(const struct ctl_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Both of the above: status is CTL_EXIT_ERROR or CTL_EXIT_USAGE. */
int ctl_fail(const struct ctl_ctx *ctx, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The errno name ctl_error's JSON carries for -err ("ENOENT"; "EIO" else). */
const char *ctl_errno_code(int err);

/* ---- JSON numbers scripts can trust ------------------------------------
 * JSON readers (jq, JavaScript) keep 53 bits of an integer: a u64 above
 * 2^53 (ids, hashes of ids, lamports of a forged log) is written as a
 * decimal string instead. ctl_print_json applies this to every integer of
 * what it prints (the daemon's replies too) and rounds durations (members
 * named *_s, *_ms, *_us) to three decimals (_us: one). */
#define CTL_JSON_SAFE_INT ((uint64_t)1 << 53)
struct json_object *ctl_json_u64(uint64_t v);
struct json_object *ctl_json_i64(int64_t v);
/* A u64 member written either way (number or decimal string); 0 when absent. */
uint64_t ctl_ju64(struct json_object *o, const char *key);
/* Makes o safe in place (big integers to strings, durations rounded). */
void ctl_json_safe(struct json_object *o);
/* ctl_print_json on one line (log --follow's entries, streams). */
void ctl_print_json_line(struct json_object *o);
