/* thetad: the Theta daemon. See README.md and docs/operator.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net_impair.h"
#include "srv/config.h"
#include "srv/daemon.h"
#include "th_log.h"

#define THETAD_EXIT_USAGE 2

/* Every option: the parser's entry and its line in --help (docs/man/thetad.8
 * lists the same; tests/thetactl/test_help.c checks both). */
struct thetad_opt {
	struct option o;
	const char *arg; /* the value's name in --help, NULL for a flag */
	const char *help;
};

static const struct thetad_opt thetad_opts[] = {
	{ { "state-dir", required_argument, NULL, 's' }, "DIR",
	  "persistent state: keys, session logs, certificate (default: $STATE_DIRECTORY, else /var/lib/thetad)" },
	{ { "runtime-dir", required_argument, NULL, 'r' }, "DIR",
	  "sockets and the lock file (default: $RUNTIME_DIRECTORY, else /run/thetad)" },
	{ { "config", required_argument, NULL, 'c' }, "FILE",
	  "configuration file, which must exist when given (default: " SRV_CONFIG_DEFAULT_PATH " when present)" },
	{ { "port", required_argument, NULL, 'p' }, "N", "UDP port for peers, 0 to 65535 (default: 7450; 0: any free one)" },
	{ { "log-level", required_argument, NULL, 'l' }, "LEVEL",
	  "debug, info, notice, warning or error (default: info, or the file's log_level)" },
	{ { "impair", required_argument, NULL, 'I' }, "SPEC",
	  "rehearse a bad network on the UDP port, e.g. loss=10%,delay=50ms,jitter=10ms,reorder=0.05,dup=0.01 "
	  "(default: none; docs/network.md)" },
	{ { "peer-timeout", required_argument, NULL, 'T' }, "D",
	  "declare a silent peer lost after D, 100ms to 1h, e.g. 500ms, 3s (default: 3s)" },
	{ { "print-config", no_argument, NULL, 'P' }, NULL, "print the effective configuration (the file, with these flags over it) and exit" },
	{ { "print-config-example", no_argument, NULL, 'E' }, NULL,
	  "print every key, commented, with its default (thetad.conf.example) and exit" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version and exit" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this text (also -h)" },
};
#define THETAD_N_OPTS (sizeof(thetad_opts) / sizeof(thetad_opts[0]))

#define THETAD_HELP_WIDTH 78 /* --help is wrapped at this column */
#define THETAD_HELP_COL   25 /* where an option's text starts */

static void usage(FILE *f)
{
	fprintf(f, "Usage: thetad [OPTIONS]\n"
		   "The Theta daemon: sessions, the signed command log, replication and voice.\n\n");
	for (size_t i = 0; i < THETAD_N_OPTS; i++) {
		const struct thetad_opt *t = &thetad_opts[i];
		int col = fprintf(f, "  --%s%s%s", t->o.name, t->arg ? " " : "", t->arg ? t->arg : "");
		if (col >= THETAD_HELP_COL - 1) {
			fprintf(f, "\n");
			col = 0;
		}
		/* Words of the text, wrapped. */
		for (const char *p = t->help; *p;) {
			size_t w = strcspn(p, " ");
			if (col > THETAD_HELP_COL && col + 1 + (int)w > THETAD_HELP_WIDTH) {
				fprintf(f, "\n");
				col = 0;
			}
			if (col < THETAD_HELP_COL)
				col += fprintf(f, "%*s", THETAD_HELP_COL - col, "");
			else
				col += fprintf(f, " ");
			col += fprintf(f, "%.*s", (int)w, p);
			p += w;
			while (*p == ' ')
				p++;
		}
		fprintf(f, "\n");
	}
	fprintf(f, "\nSIGTERM and SIGINT stop it cleanly, SIGHUP re-reads the configuration.\n"
		   "Exit status: 0 after a clean stop, 1 when it cannot start, 2 on a usage error.\n");
}

/* A usage error: one line, then a pointer to --help. */
static int usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "thetad: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (see 'thetad --help')\n");
	return THETAD_EXIT_USAGE;
}

/* systemd may pass several colon-separated directories; the first is ours. */
static const char *first_dir(const char *env, char *buf, size_t len)
{
	const char *v = getenv(env);
	if (!v || !*v)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(v, ":"), v);
	return buf;
}

int main(int argc, char **argv)
{
	struct option opts[THETAD_N_OPTS + 1];
	for (size_t i = 0; i < THETAD_N_OPTS; i++)
		opts[i] = thetad_opts[i].o;
	memset(&opts[THETAD_N_OPTS], 0, sizeof(opts[0]));
	struct srv_daemon_options o = { .port_override = -1, .log_level_override = -1 };
	char sbuf[4096], rbuf[4096], msg[1024];
	int c, print_config = 0;

	th_log_init("thetad");
	/* Every flag is checked here, before anything touches the state or
	 * runtime directory; the messages are ours, not getopt's. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.state_dir = optarg;
			break;
		case 'r':
			o.runtime_dir = optarg;
			break;
		case 'c':
			o.config_path = optarg;
			o.config_explicit = true;
			break;
		case 'p': {
			char *end;
			long p = strtol(optarg, &end, 10);
			if (*end || end == optarg || p < 0 || p > 65535)
				return usage_error("--port needs a number from 0 to 65535, not '%s'%s", optarg, "");
			o.port_override = p;
			break;
		}
		case 'l':
			o.log_level_override = th_log_level_from_string(optarg);
			if (o.log_level_override < 0)
				return usage_error("--log-level is debug, info, notice, warning or error, not '%s'%s", optarg,
						   "");
			break;
		case 'P':
			print_config = 1;
			break;
		case 'E':
			srv_config_print_example(stdout);
			return 0;
		case 'I': { /* net.impair */
			struct net_impair_config ic;
			memset(&ic, 0, sizeof(ic));
			if (strlen(optarg) > NET_IMPAIR_SPEC_MAX || net_impair_parse(optarg, &ic) < 0)
				return usage_error("--impair needs a spec such as loss=10%%,delay=50ms,jitter=10ms, not '%s'%s",
						   optarg, "");
			o.impair_override = optarg;
			break;
		}
		case 'T': { /* net.peer_timeout */
			struct srv_config scratch;
			srv_config_defaults(&scratch);
			if (srv_config_set(&scratch, "net.peer_timeout", optarg, "--peer-timeout", msg, sizeof(msg)) < 0) {
				fprintf(stderr, "thetad: %s (see 'thetad --help')\n", msg);
				return THETAD_EXIT_USAGE;
			}
			o.peer_timeout_override = optarg;
			break;
		}
		case 'V':
			printf("thetad %s\n", THETA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':': /* a known option without its value */
			return usage_error("option '%s' needs a value%s", argv[optind - 1], "");
		default: {
			const char *a = argv[optind - 1];
			const char *eq = strchr(a, '=');
			if (optopt && eq && !strncmp(a, "--", 2)) {
				char name[64];
				snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
				return usage_error("option '%s' takes no value%s", name, "");
			}
			return usage_error("unknown option '%s'%s", a, "");
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'%s", argv[optind], "");
	if (print_config) {
		struct srv_config cfg; /* the file's, with --port, --log-level, --impair, --peer-timeout over it */
		if (srv_daemon_options_config(&o, &cfg, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "thetad: %s\n", msg);
			return 1;
		}
		srv_config_print(&cfg, stdout);
		return 0;
	}
	if (!o.state_dir)
		o.state_dir = first_dir("STATE_DIRECTORY", sbuf, sizeof(sbuf));
	if (!o.state_dir)
		o.state_dir = "/var/lib/thetad";
	if (!o.runtime_dir)
		o.runtime_dir = first_dir("RUNTIME_DIRECTORY", rbuf, sizeof(rbuf));
	if (!o.runtime_dir)
		o.runtime_dir = "/run/thetad";

	struct srv_daemon *d;
	int r = srv_daemon_create(&o, &d, msg, sizeof(msg));
	if (r < 0) {
		th_err("%s", msg);
		return 1;
	}
	r = srv_daemon_run(d);
	srv_daemon_destroy(&d);
	th_notice("stopped");
	return r < 0 ? 1 : 0;
}
