/* Help that tells the truth: every thetactl command in the table has help
 * (`thetactl help CMD`, `CMD --help`, `CMD -h` print it and exit 0 without
 * running the command); each command's parser takes exactly the options its
 * help lists (probed by running it); the man pages list every option the
 * --help of thetactl, thetad and theta-client lists; thetad and
 * theta-client's --help list every option their parsers take (read from
 * their sources' struct option tables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>
#include <glob.h>
#include <limits.h>

#include "ctl.h"
#include "th_harness.h"

#define MAN_CTL    "docs/man/thetactl.1"
#define MAN_THETAD "docs/man/thetad.8"
#define MAN_CLIENT "docs/man/theta-client.1"
#define NO_DAEMON  "/nonexistent/theta-test-help"
#define WORDS_MAX  256
#define WORD_LEN   64

static char out[1 << 17], err[1 << 16], out2[1 << 17];

struct words {
	char w[WORDS_MAX][WORD_LEN];
	unsigned n;
};

static bool words_has(const struct words *ws, const char *w)
{
	for (unsigned i = 0; i < ws->n; i++)
		if (!strcmp(ws->w[i], w))
			return true;
	return false;
}

static void words_add(struct words *ws, const char *w, size_t len)
{
	char b[WORD_LEN];
	if (len >= WORD_LEN)
		return;
	snprintf(b, sizeof b, "%.*s", (int)len, w);
	if (!words_has(ws, b) && ws->n < WORDS_MAX)
		snprintf(ws->w[ws->n++], WORD_LEN, "%s", b);
}

/* Every "--long-option" word in text. */
static void long_options_in(const char *text, struct words *ws)
{
	for (const char *p = strstr(text, "--"); p; p = strstr(p + 1, "--")) {
		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		size_t n = 2;
		while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]) || p[n] == '-')
			n++;
		if (n > 3 && p[n - 1] != '-')
			words_add(ws, p, n);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s", path);
	static char *bufs[8];
	static unsigned nb;
	char *b = malloc(1 << 20);
	assert_non_null(b);
	size_t n = fread(b, 1, (1 << 20) - 1, f);
	b[n] = 0;
	fclose(f);
	free(bufs[nb % 8]);
	bufs[nb++ % 8] = b;
	return b;
}

/* A man page as plain text: "\-" is "-", font changes and quotes gone. */
static void man_plain(const char *src, char *dst, size_t cap)
{
	size_t o = 0;
	for (const char *p = src; *p && o + 1 < cap; p++) {
		if (p[0] == '\\' && p[1] == '-') {
			dst[o++] = '-';
			p++;
		} else if (p[0] == '\\' && p[1] == 'f' && p[2]) {
			p += 2;
		} else if (*p == '"') {
			continue;
		} else {
			dst[o++] = *p;
		}
	}
	dst[o] = 0;
}

/* The struct option names a source file's parser takes. */
static void parser_options_in(const char *path, struct words *ws)
{
	const char *s = slurp(path);
	for (const char *p = strstr(s, "_argument"); p; p = strstr(p + 1, "_argument")) {
		/* back to the opening '{ "name", ' of this entry */
		const char *q = p;
		while (q > s && *q != '{')
			q--;
		const char *a = strchr(q, '"');
		if (!a || a > p)
			continue;
		const char *b = strchr(a + 1, '"');
		if (!b || b > p)
			continue;
		char name[WORD_LEN];
		snprintf(name, sizeof name, "--%.*s", (int)(b - a - 1), a + 1);
		words_add(ws, name, strlen(name));
	}
}

static int ctl_run(const char *const *args)
{
	const char *argv[16] = { th_bin("thetactl"), "--runtime-dir", NO_DAEMON };
	unsigned n = 3;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 20000);
}

static void every_command_has_help(void **state)
{
	unsigned listed = 0;
	for (const struct ctl_command *c = ctl_commands; c->name; c++) {
		if (c->flags & CTL_CMD_HIDDEN)
			continue;
		listed++;
		if (!c->args || !c->summary || !c->summary[0] || !c->desc || !c->desc[0] || !c->run)
			fail_msg("command '%s' lacks its synopsis, summary or description", c->name);
		for (const struct ctl_opt *o = c->opts; o && o->flag; o++)
			if (o->flag[0] != '-' || !o->help || !o->help[0])
				fail_msg("option '%s' of '%s' has no help", o->flag, c->name);
		/* help CMD, CMD --help and CMD -h: the same page, exit 0, and no
		 * daemon asked (there is none: it would be exit 1). */
		assert_int_equal(ctl_run((const char *[]){ "help", c->name, NULL }), 0);
		char usage[128];
		snprintf(usage, sizeof usage, "Usage: thetactl %s", c->name);
		if (!strstr(out, usage))
			fail_msg("'thetactl help %s' prints no usage line:\n%s", c->name, out);
		for (const struct ctl_opt *o = c->opts; o && o->flag; o++)
			if (!strstr(out, o->flag))
				fail_msg("'thetactl help %s' does not list %s", c->name, o->flag);
		memcpy(out2, out, sizeof out);
		assert_int_equal(ctl_run((const char *[]){ c->name, "--help", NULL }), 0);
		assert_string_equal(out, out2);
		assert_string_equal(err, "");
		assert_int_equal(ctl_run((const char *[]){ c->name, "PEERX", "-h", NULL }), 0);
		assert_string_equal(out, out2);
	}
	assert_true(listed >= 20);
	/* The overview names every command, and help of no such command is a
	 * usage error. */
	assert_int_equal(ctl_run((const char *[]){ "help", NULL }), 0);
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		if (!(c->flags & CTL_CMD_HIDDEN) && !strstr(out, c->name))
			fail_msg("'thetactl help' does not list %s", c->name);
	assert_int_equal(ctl_run((const char *[]){ "help", "frobnicate", NULL }), 2);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
}

/* kick --help used to kick a peer named "--help". */
static void help_never_runs_the_command(void **state)
{
	assert_int_equal(ctl_run((const char *[]){ "kick", "--help", NULL }), 0);
	assert_non_null(strstr(out, "Usage: thetactl kick PEER"));
	assert_int_equal(ctl_run((const char *[]){ "session", "join", "theta://x", "--help", NULL }), 0);
	assert_non_null(strstr(out, "join LINK"));
	assert_null(strstr(out, "Usage: thetactl session host")); /* the form asked about, with every option */
	assert_non_null(strstr(out, "--role R"));
	assert_int_equal(ctl_run((const char *[]){ "help", "session", "leave", NULL }), 0);
	assert_non_null(strstr(out, "Usage: thetactl session leave"));
	assert_null(strstr(out, "join LINK"));
	/* After "--" it is an operand again (here: no daemon, exit 1). */
	assert_int_equal(ctl_run((const char *[]){ "kick", "--", "--help", NULL }), 1);
	assert_non_null(strstr(err, "thetad is not running"));
}

/* The forms of a command to probe its options with: the first word of each
 * synopsis line that starts with a subcommand, and "" when a line starts
 * with anything else (options or an operand). */
static unsigned forms_of(const struct ctl_command *c, char forms[][WORD_LEN], unsigned cap)
{
	unsigned n = 0;
	bool bare = false;
	for (const char *p = c->args; *p;) {
		size_t w = 0;
		while (islower((unsigned char)p[w]) || p[w] == '-')
			w++;
		if (w && p[0] != '-' && (p[w] == ' ' || p[w] == '\n' || !p[w])) {
			if (n < cap)
				snprintf(forms[n++], WORD_LEN, "%.*s", (int)w, p);
		} else {
			bare = true;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	if ((bare || !c->args[0]) && n < cap)
		forms[n++][0] = 0;
	return n;
}

/* getopt_long takes a unique prefix of a long option ("--host" for
 * "--host-key"): no option of its own. */
static bool abbreviates(const struct words *listed, const char *x)
{
	for (unsigned i = 0; i < listed->n; i++)
		if (!strncmp(listed->w[i], x, strlen(x)))
			return true;
	return false;
}

/* Every option any command or parser knows, offered to every command: the
 * ones it accepts (anything but "unknown option") are the ones its help
 * lists. --json and --help are everyone's (main.c takes them). */
static void parsers_take_what_help_lists(void **state)
{
	struct words all = { .n = 0 };
	for (const struct ctl_command *c = ctl_commands; c->name; c++)
		for (const struct ctl_opt *o = c->opts; o && o->flag; o++)
			long_options_in(o->flag, &all);
	glob_t g;
	assert_int_equal(glob("thetactl/*.c", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (strcmp(g.gl_pathv[i], "thetactl/main.c")) /* the global options: their own test */
			parser_options_in(g.gl_pathv[i], &all);
	globfree(&g);
	assert_true(all.n >= 20);
	for (const struct ctl_command *c = ctl_commands; c->name; c++) {
		if (c->flags & CTL_CMD_HIDDEN)
			continue;
		struct words listed = { .n = 0 }, taken = { .n = 0 };
		for (const struct ctl_opt *o = c->opts; o && o->flag; o++)
			long_options_in(o->flag, &listed);
		char forms[16][WORD_LEN];
		unsigned nf = forms_of(c, forms, 16);
		for (unsigned i = 0; i < all.n; i++) {
			const char *x = all.w[i];
			if (!strcmp(x, "--json") || !strcmp(x, "--help"))
				continue;
			for (unsigned f = 0; f < nf; f++) {
				const char *a[4] = { c->name, forms[f][0] ? forms[f] : x, forms[f][0] ? x : NULL, NULL };
				int rc = ctl_run(a);
				char unknown[WORD_LEN + 32];
				snprintf(unknown, sizeof unknown, "unknown option '%s'", x);
				if (!strstr(err, unknown)) {
					words_add(&taken, x, strlen(x));
					if (!words_has(&listed, x) && !abbreviates(&listed, x))
						fail_msg("'thetactl %s %s %s' takes %s (exit %d: %s) but its help does not list it",
							 c->name, forms[f], x, x, rc, err);
				}
			}
		}
		for (unsigned i = 0; i < listed.n; i++)
			if (strcmp(listed.w[i], "--json") && !words_has(&taken, listed.w[i]))
				fail_msg("'thetactl help %s' lists %s, which no form of it takes", c->name, listed.w[i]);
	}
}

/* The man page's items (.TP heading and body) of a command: those whose
 * heading names it. */
static void man_text_of(const char *man, const char *cmd, char *dst, size_t cap)
{
	size_t o = 0;
	dst[0] = 0;
	for (const char *p = strstr(man, "\n.TP\n"); p; p = strstr(p + 1, "\n.TP\n")) {
		const char *head = p + 5, *eol = strchr(head, '\n');
		if (!eol)
			break;
		const char *end = strstr(eol, "\n.TP\n"), *sh = strstr(eol, "\n.SH");
		if (!end || (sh && sh < end))
			end = sh ? sh : eol + strlen(eol);
		bool named = false;
		size_t cl = strlen(cmd);
		for (const char *h = head; h < eol && (h = strstr(h, cmd)) && h < eol; h++) {
			bool before = h == head || strchr(" ,|[.B", h[-1]);
			bool after = strchr(" ,|]\n", h[cl]) != NULL;
			if (before && after) {
				named = true;
				break;
			}
		}
		if (named && o + (size_t)(end - head) + 1 < cap) {
			memcpy(dst + o, head, (size_t)(end - head));
			o += (size_t)(end - head);
			dst[o++] = '\n';
			dst[o] = 0;
		}
	}
}

static void man_lists_every_thetactl_option(void **state)
{
	static char man[1 << 20], item[1 << 18];
	man_plain(slurp(MAN_CTL), man, sizeof man);
	for (const struct ctl_opt *o = ctl_global_opts; o->flag; o++) {
		struct words w = { .n = 0 };
		long_options_in(o->flag, &w);
		for (unsigned i = 0; i < w.n; i++)
			if (!strstr(man, w.w[i]))
				fail_msg(MAN_CTL " does not mention the global option %s", w.w[i]);
	}
	for (const struct ctl_command *c = ctl_commands; c->name; c++) {
		if (c->flags & CTL_CMD_HIDDEN)
			continue;
		man_text_of(man, c->name, item, sizeof item);
		if (!item[0])
			fail_msg(MAN_CTL " has no item for '%s'", c->name);
		struct words w = { .n = 0 };
		for (const struct ctl_opt *o = c->opts; o && o->flag; o++)
			long_options_in(o->flag, &w);
		for (unsigned i = 0; i < w.n; i++)
			if (strcmp(w.w[i], "--json") && !strstr(item, w.w[i]))
				fail_msg(MAN_CTL ": the item of '%s' does not mention %s", c->name, w.w[i]);
	}
}

/* bin's --help lists every option its parser (src) takes, exits 0, and the
 * man page mentions each. */
static void help_and_man_of(const char *bin, const char *src, const char *manpath)
{
	static char man[1 << 20];
	const char *argv[] = { th_bin(bin), "--help", NULL };
	assert_int_equal(th_run(argv, NULL, -1, out, sizeof out, err, sizeof err, 20000), 0);
	assert_non_null(strstr(out, "Usage:"));
	struct words help = { .n = 0 }, parser = { .n = 0 };
	long_options_in(out, &help);
	parser_options_in(src, &parser);
	assert_true(parser.n >= 5);
	for (unsigned i = 0; i < parser.n; i++)
		if (!words_has(&help, parser.w[i]))
			fail_msg("%s takes %s but '%s --help' does not list it", bin, parser.w[i], bin);
	man_plain(slurp(manpath), man, sizeof man);
	for (unsigned i = 0; i < help.n; i++) {
		if (!words_has(&parser, help.w[i]))
			continue; /* a mention in a sentence, not an option */
		if (!strstr(man, help.w[i]))
			fail_msg("%s lists %s but %s does not", bin, help.w[i], manpath);
	}
}

static void thetad_help_and_man_agree(void **state)
{
	help_and_man_of("thetad", "thetad/main.c", MAN_THETAD);
}

static void theta_client_help_and_man_agree(void **state)
{
	help_and_man_of("theta-client", "theta-client/main.c", MAN_CLIENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_has_help),
		cmocka_unit_test(help_never_runs_the_command),
		cmocka_unit_test(parsers_take_what_help_lists),
		cmocka_unit_test(man_lists_every_thetactl_option),
		cmocka_unit_test(thetad_help_and_man_agree),
		cmocka_unit_test(theta_client_help_and_man_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
