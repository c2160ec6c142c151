/* thetactl __complete WHAT [CMD]: the words bash completion offers
 * (scripts/thetactl.bash-completion calls it; not listed by help). Read
 * from the command table, so a new command or option completes without
 * touching the script, and from the daemon for the names that live there.
 *
 *   commands            every command name
 *   options CMD         CMD's options (every --word of its table entry's options), --json and --help
 *   subcommands CMD     the words that start CMD's forms ("host", "join", ...)
 *   sessions            session names and ids (nothing when no daemon answers)
 *   peers [SESSION]     peer ids of the connected daemons
 *   roles               viewer, editor, admin
 *
 * One word per line; always exits 0 (a completion never prints errors). */
#include <ctype.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_COMPLETE_WORD_MAX 64
#define CTL_COMPLETE_TIMEOUT_S 1 /* a completion waits this long for the daemon, then offers nothing */

/* Prints each distinct word once (the table names some commands twice). */
struct ctl_words {
	char seen[64][CTL_COMPLETE_WORD_MAX];
	unsigned n;
};

static void ctl_word(struct ctl_words *w, const char *s, size_t len)
{
	if (!len || len >= CTL_COMPLETE_WORD_MAX)
		return;
	for (unsigned i = 0; i < w->n; i++)
		if (strlen(w->seen[i]) == len && !memcmp(w->seen[i], s, len))
			return;
	if (w->n < sizeof w->seen / sizeof w->seen[0])
		snprintf(w->seen[w->n++], CTL_COMPLETE_WORD_MAX, "%.*s", (int)len, s);
	printf("%.*s\n", (int)len, s);
}

static void ctl_complete_options(const char *cmd)
{
	struct ctl_words w = { .n = 0 };
	const struct ctl_command *c = ctl_command_find(cmd);
	for (const struct ctl_opt *o = c ? c->opts : NULL; o && o->flag; o++)
		for (const char *p = strstr(o->flag, "--"); p; p = strstr(p + 2, "--")) {
			size_t n = 2;
			while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]) || p[n] == '-')
				n++;
			ctl_word(&w, p, n);
		}
	ctl_word(&w, "--json", 6);
	ctl_word(&w, "--help", 6);
}

/* The first word of each form of the synopsis (one form a line), when it
 * is a plain lowercase word (not an operand such as LINK or an option). */
static void ctl_complete_subcommands(const char *cmd)
{
	struct ctl_words w = { .n = 0 };
	const struct ctl_command *c = ctl_command_find(cmd);
	for (const char *p = c && c->args ? c->args : ""; *p;) {
		size_t n = 0;
		while (islower((unsigned char)p[n]) || p[n] == '-')
			n++;
		if (n && p[0] != '-' && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			ctl_word(&w, p, n);
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
}

/* The daemon's control socket with a short timeout, silently (-errno). */
static int ctl_complete_open(const struct ctl_ctx *ctx)
{
	int fd = ctl_connect(ctx->runtime_dir);
	if (fd < 0)
		return fd;
	struct timeval tv = { .tv_sec = CTL_COMPLETE_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

static void ctl_complete_from(struct ctl_ctx *ctx, const char *cmd, const char *list, const char *const *keys,
			      struct json_object *args)
{
	int fd = ctl_complete_open(ctx);
	if (fd < 0) {
		json_object_put(args);
		return;
	}
	struct json_object *res = NULL, *arr;
	char code[CTL_CODE_LEN], err[256];
	int r = ctl_ask(ctx, fd, cmd, args, &res, code, err, sizeof err);
	json_object_put(args);
	close(fd);
	if (r != 0 || !res)
		return;
	struct ctl_words w = { .n = 0 };
	if (json_object_object_get_ex(res, list, &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *o = json_object_array_get_idx(arr, i), *v;
			for (const char *const *k = keys; *k; k++)
				if (json_object_object_get_ex(o, *k, &v) && !json_object_is_type(v, json_type_null)) {
					const char *s = json_object_get_string(v);
					/* a word bash can take as it is */
					if (s && *s && !strpbrk(s, " \t\n'\"\\$`"))
						ctl_word(&w, s, strlen(s));
				}
		}
	json_object_put(res);
}

int ctl_cmd_complete(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;
	if (!strcmp(what, "commands")) {
		struct ctl_words w = { .n = 0 };
		for (const struct ctl_command *c = ctl_commands; c->name; c++)
			if (!(c->flags & CTL_CMD_HIDDEN))
				ctl_word(&w, c->name, strlen(c->name));
	} else if (!strcmp(what, "options") && arg) {
		ctl_complete_options(arg);
	} else if (!strcmp(what, "subcommands") && arg) {
		ctl_complete_subcommands(arg);
	} else if (!strcmp(what, "sessions")) {
		ctl_complete_from(ctx, "sessions", "sessions", (const char *const[]){ "name", "id", NULL }, NULL);
	} else if (!strcmp(what, "peers")) {
		struct json_object *args = NULL;
		if (arg) {
			args = json_object_new_object();
			json_object_object_add(args, "session", json_object_new_string(arg));
		}
		ctl_complete_from(ctx, "peers", "peers", (const char *const[]){ "peer_id", NULL }, args);
	} else if (!strcmp(what, "roles")) {
		printf("viewer\neditor\nadmin\n");
	}
	return CTL_EXIT_OK;
}
