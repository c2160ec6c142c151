/* thetad's configuration: embedded defaults, optionally overridden by
 * /etc/theta/thetad.conf (or --config FILE), then by command-line flags. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_CONFIG_DEFAULT_PATH "/etc/theta/thetad.conf"
#define SRV_DEFAULT_PORT 7450

struct srv_config {
	int log_level;                 /* log_level = info */
	int64_t port;                  /* net.port = 7450; 0 = ephemeral */
	char query_group[64];          /* control.query_group = theta */
	char admin_group[64];          /* control.admin_group = theta-admin */
	int64_t control_max_conns;     /* control.max_connections = 256 */
	uint64_t control_idle_timeout_ns; /* control.idle_timeout = 10s */
	uint64_t status_interval_ns;   /* status_interval = 10s (STATUS= refresh) */
	int64_t ipc_max_clients;       /* ipc.max_clients = 64 */
	char net_impair[256];          /* net.impair = "" (off); docs/network.md */
	uint64_t net_peer_timeout_ns;  /* net.peer_timeout = 3s */
	int64_t net_max_peers;         /* net.max_peers = 32 (connected members per hosted session) */
	int64_t clog_rate_per_s;       /* clog.rate_per_s = 200 (commands per second per author, hosted sessions) */
	int64_t clog_rate_burst;       /* clog.rate_burst = 1000 (token bucket depth per author) */
	int64_t sess_rate_per_s;       /* sess.rate_per_s = 200 (edits per second per local user or browser, before signing) */
	int64_t sess_rate_burst;       /* sess.rate_burst = 1000 (that bucket's depth) */
	int64_t scene_ckpt_entries;    /* scene.checkpoint_entries = 1000 (folded entries between checkpoints) */
	uint64_t scene_ckpt_interval_ns; /* scene.checkpoint_interval = 30s (at most this long after a change) */
	int64_t scene_ckpt_fork_elements; /* scene.checkpoint_fork_elements = 20000 (a child writes larger scenes) */
	/* [voice] (docs/voice.md, docs/operator.md): taken at start and on reload */
	int64_t voice_frame_ms;        /* voice.frame_ms = 20 (10 or 20: Opus frame length) */
	int64_t voice_complexity;      /* voice.complexity = VOICE_COMPLEXITY_DEFAULT (0..10) */
	int64_t voice_bitrate;         /* voice.bitrate = 24000 (bit/s, 8000..64000) */
	bool voice_fec;                /* voice.fec = yes (in-band FEC from the links' measured loss) */
	bool voice_dtx;                /* voice.dtx = yes (nothing sent in silence) */
	bool voice_spatial;            /* voice.spatial = yes (pan and attenuate by head pose) */
	char voice_vad[16];            /* voice.vad = VOICE_VAD_DEFAULT's name (energy or webrtc) */
	/* [presence] (docs/presence.md "In the daemon", docs/operator.md): taken at start and on reload */
	int64_t pres_cell_m;           /* presence.cell_m = 4 (metres: the interest grid's cell) */
	int64_t pres_near_cells;       /* presence.near_cells = 1 (every tick within this many cells of a head) */
	int64_t pres_view_cells;       /* presence.view_cells = 4 (every tick in the view cone this far) */
	int64_t pres_view_deg;         /* presence.view_deg = 55 (the view cone's half angle) */
	int64_t pres_far_cells;        /* presence.far_cells = 8 (far_hz within this; culled beyond) */
	int64_t pres_far_hz;           /* presence.far_hz = 5 */
	int64_t pres_tick_hz;          /* presence.tick_hz = 90 (frames a second each way) */
	int64_t pres_voice_cells;      /* presence.voice_cells = 6 (voices culled beyond) */
	/* [web] (docs/web.md "The web endpoint", docs/operator.md): taken at start; max_peers also on reload */
	char web_listen[64];           /* web.listen = "" (off); "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8443" */
	char web_root[512];            /* web.root = SRV_WEB_ROOT_DEFAULT (the browser client's files) */
	int64_t web_max_peers;         /* web.max_peers = 16 (browsers connected or connecting at once) */
	/* [metrics] (docs/operator.md "Metrics"): taken at start */
	char metrics_listen[64];       /* metrics.listen = "" (off); "127.0.0.1:9464" serves GET /metrics */
};

/* Where `make install` puts the browser client (the Makefile passes
 * $(WEBDIR)); a build without the -D serves build/web of the working
 * directory. */
#ifndef SRV_WEB_ROOT_DEFAULT
#define SRV_WEB_ROOT_DEFAULT "build/web"
#endif
#define SRV_WEB_MAX_PEERS_DEFAULT 16
#define SRV_WEB_MAX_PEERS_MAX 1024 /* web.max_peers' bound: the web module's browser table is this long */

void srv_config_defaults(struct srv_config *c);
/* The [presence] keys as thetad/pres takes them. */
struct pres_config;
void srv_config_presence(const struct srv_config *c, struct pres_config *out);
/* Loads `path` over the values already in *c. A missing file is fine when
 * `optional` is set. On error *c is untouched and msg[len] holds one line
 * naming the file, line and key. */
int srv_config_load(struct srv_config *c, const char *path, bool optional, char *msg, size_t len);
/* Sets one key from the command line ("net.peer_timeout", "3s"), checked
 * like the file's; on error *c is untouched and msg names the flag. */
int srv_config_set(struct srv_config *c, const char *key, const char *value, const char *flag, char *msg,
		   size_t len);
/* Renders the effective configuration as "key = value" lines (for docs and
 * `thetad --print-config`). */
void srv_config_print(const struct srv_config *c, void *file);
/* thetad.conf.example (`thetad --print-config-example`, installed by make
 * install): every key of the same table, commented out with its default,
 * its meaning and its range above it. */
void srv_config_print_example(void *file);
/* A value as the file would say it, at most this long (a string key's
 * buffer plus its quotes). */
#define SRV_CONFIG_VALUE_MAX 600
/* Calls changed (may be NULL) for each key whose value differs between a
 * and b, in the table's order, with both values as the file would say
 * them; returns how many differ. */
unsigned srv_config_diff(const struct srv_config *a, const struct srv_config *b,
			 void (*changed)(void *ud, const char *key, const char *was, const char *now), void *ud);
/* Whether a running daemon takes key only at start (net.port, web.listen,
 * web.root, metrics.listen): a reload keeps the running value and says so. */
bool srv_config_needs_restart(const char *key);
/* Gives next the running value of every key srv_config_needs_restart
 * names (what a reload keeps until the restart). */
void srv_config_keep_restart(struct srv_config *next, const struct srv_config *running);
