/* thetad: the Theta daemon. See README.md and docs/operator.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv/config.h"
#include "srv/daemon.h"
#include "th_log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: thetad [OPTIONS]\n"
		"The Theta daemon: sessions, the signed command log, replication and voice.\n"
		"\n"
		"  --state-dir DIR     persistent state (default $STATE_DIRECTORY, else /var/lib/thetad)\n"
		"  --runtime-dir DIR   sockets and lock (default $RUNTIME_DIRECTORY, else /run/thetad)\n"
		"  --config FILE       configuration file (default %s, optional)\n"
		"  --port N            UDP port for peers (default 7450; 0 = ephemeral)\n"
		"  --log-level LEVEL   debug, info, notice, warning, error\n"
		"  --impair SPEC       rehearse a bad network on the UDP port, e.g.\n"
		"                      loss=10%%,delay=50ms,jitter=10ms,reorder=0.05,dup=0.01 (docs/network.md)\n"
		"  --peer-timeout D    declare a silent peer lost after D (default 3s)\n"
		"  --print-config      print the effective configuration and exit\n"
		"  --print-config-example  print every key, commented, with its default (thetad.conf.example)\n"
		"  --version           print the version and exit\n"
		"  --help              this text\n",
		SRV_CONFIG_DEFAULT_PATH);
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
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' }, { "runtime-dir", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },    { "port", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'l' }, { "print-config", no_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },         { "help", no_argument, NULL, 'h' },
		{ "impair", required_argument, NULL, 'I' },    { "peer-timeout", required_argument, NULL, 'T' },
		{ "print-config-example", no_argument, NULL, 'E' },
		{ 0 },
	};
	struct srv_daemon_options o = { .port_override = -1, .log_level_override = -1 };
	char sbuf[4096], rbuf[4096], msg[1024];
	int c, print_config = 0;

	th_log_init("thetad");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
			if (*end || end == optarg || p < 0 || p > 65535) {
				fprintf(stderr, "thetad: --port needs a number from 0 to 65535, got '%s'\n", optarg);
				return 2;
			}
			o.port_override = p;
			break;
		}
		case 'l':
			o.log_level_override = th_log_level_from_string(optarg);
			if (o.log_level_override < 0) {
				fprintf(stderr, "thetad: unknown log level '%s' (debug, info, notice, warning, error)\n",
					optarg);
				return 2;
			}
			break;
		case 'P':
			print_config = 1;
			break;
		case 'E':
			srv_config_print_example(stdout);
			return 0;
		case 'I': /* net.impair */
			o.impair_override = optarg;
			break;
		case 'T': /* net.peer_timeout */
			o.peer_timeout_override = optarg;
			break;
		case 'V':
			printf("thetad %s\n", THETA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "thetad: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (print_config) {
		struct srv_config cfg;
		srv_config_defaults(&cfg);
		const char *path = o.config_path ? o.config_path : SRV_CONFIG_DEFAULT_PATH;
		if (srv_config_load(&cfg, path, !o.config_explicit, msg, sizeof(msg)) < 0) {
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
