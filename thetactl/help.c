/* The help thetactl prints, all of it from the command table (commands.c):
 * the overview (`thetactl help`), a command's page (`thetactl help CMD`,
 * `thetactl CMD --help`) and the table as JSON (`thetactl help --json`). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_HELP_WIDTH     78 /* columns the text is wrapped at */
#define CTL_HELP_FLAG_COLS 20 /* an option's flag column; a longer flag gets its own line */

const struct ctl_opt ctl_global_opts[] = {
	{ "--runtime-dir DIR", "where the daemon's control.sock is (default: $THETA_RUNTIME_DIR, else /run/thetad)" },
	{ "--timeout SECONDS",
	  "how long to wait for the daemon to answer, 1 to 86400 (default: 5; a reply that keeps arriving, or "
	  "log --follow, never times out)" },
	{ "--json", "print results as JSON for scripts, on any command; an error is a JSON object on stderr "
		    "({\"error\": sentence, \"code\": ...}); integers above 2^53 are strings" },
	{ "-h, --help", "this overview; after a command, that command's help" },
	{ "--version", "thetactl's version" },
	{ NULL, NULL },
};

const struct ctl_command *ctl_command_find(const char *name)
{
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Prints text from column col (the cursor stands there) wrapped at
 * CTL_HELP_WIDTH, later lines indented by indent; '\n' in text starts a new
 * paragraph (an empty line between). Ends with a newline. */
static void ctl_wrap(FILE *f, const char *text, unsigned col, unsigned indent)
{
	const char *p = text;
	while (*p) {
		if (*p == '\n') {
			fprintf(f, "\n\n%*s", (int)indent, "");
			col = indent;
			p++;
			continue;
		}
		if (*p == ' ') {
			p++;
			continue;
		}
		size_t w = strcspn(p, " \n");
		if (col > indent && col + 1 + w > CTL_HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += (unsigned)w;
		p += w;
	}
	fputc('\n', f);
}

static void ctl_opts_print(FILE *f, const struct ctl_opt *o)
{
	for (; o && o->flag; o++) {
		int n = fprintf(f, "  %s", o->flag);
		if (n + 2 > CTL_HELP_FLAG_COLS + 2) {
			fprintf(f, "\n%*s", CTL_HELP_FLAG_COLS + 2, "");
		} else {
			fprintf(f, "%*s", CTL_HELP_FLAG_COLS + 2 - n, "");
		}
		ctl_wrap(f, o->help, CTL_HELP_FLAG_COLS + 2, CTL_HELP_FLAG_COLS + 2);
	}
}

/* Whether the synopsis line a (n bytes) is the form called form. */
static bool ctl_is_form(const char *a, size_t n, const char *form)
{
	size_t w = strlen(form);
	return w && w <= n && !strncmp(a, form, w) && (w == n || a[w] == ' ');
}

void ctl_command_help(FILE *f, const char *prog, const struct ctl_command *c, const char *form)
{
	const char *args = c->args ? c->args : "", *a = args;
	bool first = true, any = false;
	for (const char *p = args; form && *p;) { /* does form name one of the forms? */
		size_t n = strcspn(p, "\n");
		any |= ctl_is_form(p, n, form);
		p += n + (p[n] ? 1 : 0);
	}
	do {
		size_t n = strcspn(a, "\n");
		if (!any || ctl_is_form(a, n, form)) {
			fprintf(f, "%s %s %s%s%.*s\n", first ? "Usage:" : "      ", prog, c->name, n ? " " : "", (int)n, a);
			first = false;
		}
		a += n;
	} while (*a && *++a);
	fputc('\n', f);
	char sum[512];
	snprintf(sum, sizeof(sum), "%s%s", c->summary, c->summary[0] && c->summary[strlen(c->summary) - 1] == '.' ? "" : ".");
	if (sum[0] >= 'a' && sum[0] <= 'z')
		sum[0] = (char)(sum[0] - 'a' + 'A');
	ctl_wrap(f, sum, 0, 0);
	if (c->desc && c->desc[0]) {
		fputc('\n', f);
		ctl_wrap(f, c->desc, 0, 0);
	}
	if (c->opts && c->opts[0].flag) {
		fprintf(f, "\nOptions:\n");
		ctl_opts_print(f, c->opts);
	}
	char more[160];
	snprintf(more, sizeof(more), "Global options (--runtime-dir, --timeout, --json) may stand before %s; see '%s "
		 "help'.", c->name, prog);
	fputc('\n', f);
	ctl_wrap(f, more, 0, 0);
}

void ctl_help_overview(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--runtime-dir DIR] [--timeout SECONDS] [--json] COMMAND [ARGS...]\n\n", prog);
	fprintf(f, "Commands:\n");
	size_t w = 0;
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		if (!(c->flags & CTL_CMD_HIDDEN) && strlen(c->name) > w)
			w = strlen(c->name);
	for (const struct ctl_command *c = ctl_commands; c->name; c++) {
		if (c->flags & CTL_CMD_HIDDEN)
			continue;
		fprintf(f, "  %-*s  ", (int)w, c->name);
		ctl_wrap(f, c->summary, (unsigned)w + 4, (unsigned)w + 4);
	}
	char more[160];
	snprintf(more, sizeof(more), "'%s help COMMAND' or '%s COMMAND --help' shows a command's synopsis, options and "
		 "defaults.", prog, prog);
	fputc('\n', f);
	ctl_wrap(f, more, 0, 0);
	fputc('\n', f);
	fprintf(f, "Options:\n");
	ctl_opts_print(f, ctl_global_opts);
	fprintf(f, "\nThe daemon is found at DIR/control.sock. Exit status: 0 success, 1 error, 2 usage.\n");
}

static struct json_object *ctl_opts_json(const struct ctl_opt *o)
{
	struct json_object *a = json_object_new_array();
	for (; o && o->flag; o++) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "flag", json_object_new_string(o->flag));
		json_object_object_add(j, "help", json_object_new_string(o->help));
		json_object_array_add(a, j);
	}
	return a;
}

static struct json_object *ctl_command_json(const struct ctl_command *c)
{
	struct json_object *j = json_object_new_object(), *forms = json_object_new_array();
	const char *a = c->args ? c->args : "";
	do {
		size_t n = strcspn(a, "\n");
		json_object_array_add(forms, json_object_new_string_len(a, (int)n));
		a += n;
	} while (*a && *++a);
	json_object_object_add(j, "name", json_object_new_string(c->name));
	json_object_object_add(j, "synopsis", forms);
	json_object_object_add(j, "summary", json_object_new_string(c->summary));
	json_object_object_add(j, "description", json_object_new_string(c->desc ? c->desc : ""));
	json_object_object_add(j, "options", ctl_opts_json(c->opts));
	return j;
}

int ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv)
{
	int first = ctl_parse_json_flag(ctx, "version", argc, argv); /* refuses options it does not take */
	if (first < 0)
		return CTL_EXIT_USAGE;
	argc -= first - 1;
	argv += first - 1;
	if (argc > 1)
		return ctl_usage_error(ctx, "version", "takes no arguments");
	if (ctx && ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_string(THETA_VERSION));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("thetactl %s\n", THETA_VERSION);
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_help(struct ctl_ctx *ctx, int argc, char **argv)
{
	int first = ctl_parse_json_flag(ctx, "help", argc, argv); /* refuses options it does not take */
	if (first < 0)
		return CTL_EXIT_USAGE;
	argc -= first - 1;
	argv += first - 1;
	if (argc > 3)
		return ctl_usage_error(ctx, "help", "give at most one COMMAND (and its form)");
	const struct ctl_command *c = NULL;
	if (argc >= 2 && !(c = ctl_command_find(argv[1])))
		return ctl_usage_error(ctx, "help", "unknown command '%s'", argv[1]);
	if (ctx->json) {
		struct json_object *o;
		if (c) {
			o = ctl_command_json(c);
		} else {
			struct json_object *arr = json_object_new_array();
			for (const struct ctl_command *k = ctl_commands; k->name; k++)
				if (!(k->flags & CTL_CMD_HIDDEN))
					json_object_array_add(arr, ctl_command_json(k));
			o = json_object_new_object();
			json_object_object_add(o, "commands", arr);
			json_object_object_add(o, "options", ctl_opts_json(ctl_global_opts));
		}
		ctl_print_json(o);
		json_object_put(o);
		return CTL_EXIT_OK;
	}
	if (c)
		ctl_command_help(stdout, ctx->prog, c, argc > 2 ? argv[2] : NULL);
	else
		ctl_help_overview(stdout, ctx->prog);
	return CTL_EXIT_OK;
}
