#include "srv/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "clog/clog.h"
#include "pres/pres.h"
#include "sess/scene.h"
#include "th_config.h"
#include "th_log.h"
#include "th_time.h"
#include "voice/voice_codec.h"
#include "voice/voice_vad.h"
#include "web/web_addr.h"

#define F(field) offsetof(struct srv_config, field)

static const struct th_cfg_key srv_config_keys[] = {
	{ "log_level", TH_CFG_LOGLEVEL, F(log_level), 0, 0, 0, "debug, info, notice, warning, error" },
	{ "status_interval", TH_CFG_DURATION, F(status_interval_ns), 0, (int64_t)TH_NS_PER_S,
	  (int64_t)(3600 * TH_NS_PER_S), "how often STATUS= is refreshed" },
	{ "net.port", TH_CFG_INT, F(port), 0, 0, 65535, "UDP port for peers (0: ephemeral)" },
	{ "net.impair", TH_CFG_STRING, F(net_impair), sizeof(((struct srv_config *)0)->net_impair), 0, 0,
	  "impairment spec for rehearsals, e.g. loss=10%,delay=50ms" },
	{ "net.peer_timeout", TH_CFG_DURATION, F(net_peer_timeout_ns), 0, (int64_t)(100 * TH_NS_PER_MS),
	  (int64_t)(3600 * TH_NS_PER_S), "a silent peer is declared lost after this" },
	{ "net.max_peers", TH_CFG_INT, F(net_max_peers), 0, 1, 1024, "connected members per hosted session" },
	{ "control.query_group", TH_CFG_STRING, F(query_group), sizeof(((struct srv_config *)0)->query_group),
	  0, 0, "group whose members may run read-only queries" },
	{ "control.admin_group", TH_CFG_STRING, F(admin_group), sizeof(((struct srv_config *)0)->admin_group),
	  0, 0, "group whose members may change things" },
	{ "control.max_connections", TH_CFG_INT, F(control_max_conns), 0, 1, 4096,
	  "concurrent control connections" },
	{ "control.idle_timeout", TH_CFG_DURATION, F(control_idle_timeout_ns), 0, (int64_t)(100 * TH_NS_PER_MS),
	  (int64_t)(3600 * TH_NS_PER_S), "a control connection silent this long is closed" },
	{ "ipc.max_clients", TH_CFG_INT, F(ipc_max_clients), 0, 1, 1024, "concurrent theta-client connections" },
	{ "clog.rate_per_s", TH_CFG_INT, F(clog_rate_per_s), 0, 1, 1000000,
	  "commands per second per author in hosted sessions (taken when a log opens)" },
	{ "clog.rate_burst", TH_CFG_INT, F(clog_rate_burst), 0, 1, 10000000,
	  "token bucket depth per author in hosted sessions" },
	{ "sess.rate_per_s", TH_CFG_INT, F(sess_rate_per_s), 0, 1, 1000000,
	  "edits per second per local user in joined sessions and per browser, checked before signing" },
	{ "sess.rate_burst", TH_CFG_INT, F(sess_rate_burst), 0, 1, 10000000,
	  "that bucket's depth: this many edits go through at once" },
	{ "scene.checkpoint_entries", TH_CFG_INT, F(scene_ckpt_entries), 0, 1, 1000000000,
	  "a session's scene checkpoint is written after this many folded entries" },
	{ "scene.checkpoint_interval", TH_CFG_DURATION, F(scene_ckpt_interval_ns), 0, (int64_t)(100 * TH_NS_PER_MS),
	  (int64_t)(24 * 3600 * TH_NS_PER_S), "and at most this long after the first change since the last one" },
	{ "scene.checkpoint_fork_elements", TH_CFG_INT, F(scene_ckpt_fork_elements), 0, 0, 1000000000,
	  "a scene with this many elements (entities, vertices, faces) or more is checkpointed by a forked child" },
	{ "voice.frame_ms", TH_CFG_INT, F(voice_frame_ms), 0, VOICE_FRAME_MS_MIN, VOICE_FRAME_MS_MAX,
	  "Opus frame length in ms: 10 (lower latency) or 20" },
	{ "voice.complexity", TH_CFG_INT, F(voice_complexity), 0, 0, 10, "Opus encoder complexity" },
	{ "voice.bitrate", TH_CFG_INT, F(voice_bitrate), 0, VOICE_BITRATE_MIN, VOICE_BITRATE_MAX,
	  "Opus bit rate per speaker, bit/s" },
	{ "voice.fec", TH_CFG_BOOL, F(voice_fec), 0, 0, 0, "in-band forward error correction" },
	{ "voice.dtx", TH_CFG_BOOL, F(voice_dtx), 0, 0, 0, "send nothing in silence" },
	{ "voice.spatial", TH_CFG_BOOL, F(voice_spatial), 0, 0, 0, "pan and attenuate voices by where the avatars are" },
	{ "voice.vad", TH_CFG_STRING, F(voice_vad), sizeof(((struct srv_config *)0)->voice_vad), 0, 0,
	  "voice activity detector: webrtc or energy" },
	{ "presence.cell_m", TH_CFG_INT, F(pres_cell_m), 0, 1, 100, "metres: the side of the interest grid's cells" },
	{ "presence.near_cells", TH_CFG_INT, F(pres_near_cells), 0, 0, 1024,
	  "users within this many cells of a member's head are sent every tick" },
	{ "presence.view_cells", TH_CFG_INT, F(pres_view_cells), 0, 0, 1024,
	  "and those in its view cone within this many cells" },
	{ "presence.view_deg", TH_CFG_INT, F(pres_view_deg), 0, 1, 180, "the view cone's half angle, degrees" },
	{ "presence.far_cells", TH_CFG_INT, F(pres_far_cells), 0, 0, 1024,
	  "users within this many cells are sent far_hz times a second; beyond, not at all" },
	{ "presence.far_hz", TH_CFG_INT, F(pres_far_hz), 0, 1, 240, "the rate of far users, per second" },
	{ "presence.tick_hz", TH_CFG_INT, F(pres_tick_hz), 0, 10, 240, "presence frames a second, each way" },
	{ "presence.voice_cells", TH_CFG_INT, F(pres_voice_cells), 0, 0, 1024,
	  "a member does not hear speakers farther than this many cells from its users" },
	{ "web.listen", TH_CFG_STRING, F(web_listen), sizeof(((struct srv_config *)0)->web_listen), 0, 0,
	  "address:port of the web endpoint for browsers (HTTP(S) on TCP, WebRTC on UDP); empty: off" },
	{ "web.root", TH_CFG_STRING, F(web_root), sizeof(((struct srv_config *)0)->web_root), 0, 0,
	  "the folder of the browser client's files" },
	{ "web.max_peers", TH_CFG_INT, F(web_max_peers), 0, 1, SRV_WEB_MAX_PEERS_MAX,
	  "browsers connected or connecting at once" },
	{ "metrics.listen", TH_CFG_STRING, F(metrics_listen), sizeof(((struct srv_config *)0)->metrics_listen), 0, 0,
	  "address:port where GET /metrics serves the metrics in the Prometheus text format; empty: off" },
};

/* Values a key's range cannot say; one sentence naming the key. */
static int srv_config_check(const struct srv_config *c, char *msg, size_t len)
{
	if (c->voice_frame_ms != 10 && c->voice_frame_ms != 20) {
		snprintf(msg, len, "voice.frame_ms must be 10 or 20, not %" PRId64, c->voice_frame_ms);
		return -EINVAL;
	}
	if (strcmp(c->voice_vad, "webrtc") && strcmp(c->voice_vad, "energy")) {
		snprintf(msg, len, "voice.vad must be webrtc or energy, not '%s'", c->voice_vad);
		return -EINVAL;
	}
	if (!strcmp(c->voice_vad, "webrtc") && !voice_vad_built(VOICE_VAD_WEBRTC)) {
		snprintf(msg, len, "voice.vad = webrtc, but this thetad was built without webrtc-audio-processing: use energy");
		return -ENOTSUP;
	}
	if (c->metrics_listen[0]) {
		struct sockaddr_storage a;
		socklen_t alen;
		const char *why = "";
		if (web_addr_parse(c->metrics_listen, &a, &alen, &why) < 0) {
			snprintf(msg, len, "metrics.listen must be an address and port such as 127.0.0.1:9464 or [::1]:9464, not '%s': %s",
				 c->metrics_listen, why);
			return -EINVAL;
		}
	}
	struct pres_config pc;
	srv_config_presence(c, &pc);
	const char *pwhy = pres_config_check(&pc);
	if (pwhy) {
		snprintf(msg, len, "%s", pwhy);
		return -EINVAL;
	}
	if (c->web_listen[0]) {
		struct sockaddr_storage a;
		socklen_t alen;
		const char *why = "";
		if (web_addr_parse(c->web_listen, &a, &alen, &why) < 0) {
			snprintf(msg, len, "web.listen must be an address and port such as 127.0.0.1:8080 or [::1]:8443, not '%s': %s",
				 c->web_listen, why);
			return -EINVAL;
		}
		if (!c->web_root[0]) {
			snprintf(msg, len, "web.root must name the folder of the browser client's files when web.listen is set");
			return -EINVAL;
		}
	}
	return 0;
}

/* next, parsed from where (a file or a flag), replaces c if its values pass
 * srv_config_check; else msg says why, prefixed by where. */
static int srv_config_commit(struct srv_config *c, const struct srv_config *next, const char *where, char *msg,
			     size_t len)
{
	char why[200];
	int r = srv_config_check(next, why, sizeof why);
	if (r < 0) {
		snprintf(msg, len, "%s: %s", where, why);
		return r;
	}
	*c = *next;
	return 0;
}

void srv_config_defaults(struct srv_config *c)
{
	*c = (struct srv_config){
		.log_level = LOG_INFO,
		.port = SRV_DEFAULT_PORT,
		.query_group = "theta",
		.admin_group = "theta-admin",
		.control_max_conns = 256,
		.control_idle_timeout_ns = 10 * TH_NS_PER_S,
		.status_interval_ns = 10 * TH_NS_PER_S,
		.ipc_max_clients = 64,
		.net_peer_timeout_ns = 3 * TH_NS_PER_S,
		.net_max_peers = 32,
		.clog_rate_per_s = CLOG_RATE_PER_S_DEFAULT,
		.clog_rate_burst = CLOG_RATE_BURST_DEFAULT,
		.sess_rate_per_s = CLOG_RATE_PER_S_DEFAULT,
		.sess_rate_burst = CLOG_RATE_BURST_DEFAULT,
		.scene_ckpt_entries = SESS_SCENE_CKPT_ENTRIES_DEFAULT,
		.scene_ckpt_interval_ns = SESS_SCENE_CKPT_INTERVAL_DEFAULT_NS,
		.scene_ckpt_fork_elements = SESS_SCENE_FORK_ELEMENTS_DEFAULT,
		.voice_frame_ms = VOICE_FRAME_MS_DEFAULT,
		.voice_complexity = VOICE_COMPLEXITY_DEFAULT,
		.voice_bitrate = VOICE_BITRATE_DEFAULT,
		.voice_fec = true,
		.voice_dtx = true,
		.voice_spatial = true,
		.web_root = SRV_WEB_ROOT_DEFAULT,
		.web_max_peers = SRV_WEB_MAX_PEERS_DEFAULT,
	};
	struct pres_config pc;
	pres_config_default(&pc);
	c->pres_cell_m = (int64_t)pc.cell_m;
	c->pres_near_cells = pc.near_cells;
	c->pres_view_cells = pc.view_cells;
	c->pres_view_deg = (int64_t)pc.view_deg;
	c->pres_far_cells = pc.far_cells;
	c->pres_far_hz = pc.far_hz;
	c->pres_tick_hz = pc.tick_hz;
	c->pres_voice_cells = pc.voice_cells;
	/* The detector chosen by measurement (voice_vad.h, make bench-voice). */
	snprintf(c->voice_vad, sizeof c->voice_vad, "%s", VOICE_VAD_DEFAULT == VOICE_VAD_WEBRTC ? "webrtc" : "energy");
}

void srv_config_presence(const struct srv_config *c, struct pres_config *out)
{
	*out = (struct pres_config){
		.cell_m = (float)c->pres_cell_m,
		.near_cells = (unsigned)c->pres_near_cells,
		.view_cells = (unsigned)c->pres_view_cells,
		.view_deg = (float)c->pres_view_deg,
		.far_cells = (unsigned)c->pres_far_cells,
		.far_hz = (unsigned)c->pres_far_hz,
		.tick_hz = (unsigned)c->pres_tick_hz,
		.voice_cells = (unsigned)c->pres_voice_cells,
	};
}

int srv_config_load(struct srv_config *c, const char *path, bool optional, char *msg, size_t len)
{
	struct th_cfg_error err;
	struct srv_config next = *c;
	int r = th_cfg_load(srv_config_keys, sizeof(srv_config_keys) / sizeof(srv_config_keys[0]), &next,
			    sizeof(next), path, &err);
	if (r == -ENOENT) {
		if (optional)
			return 0;
		snprintf(msg, len, "%s: file not found", path);
		return r;
	}
	if (r < 0) {
		th_cfg_error_format(&err, msg, len);
		return r;
	}
	return srv_config_commit(c, &next, path, msg, len);
}

int srv_config_set(struct srv_config *c, const char *key, const char *value, const char *flag, char *msg,
		   size_t len)
{
	struct th_cfg_error err;
	char text[512];
	const char *dot = strchr(key, '.');
	int n = dot ? snprintf(text, sizeof(text), "[%.*s]\n%s = \"%s\"\n", (int)(dot - key), key, dot + 1, value)
		    : snprintf(text, sizeof(text), "%s = \"%s\"\n", key, value);
	if (n < 0 || (size_t)n >= sizeof(text) || strchr(value, '\n')) {
		snprintf(msg, len, "%s: value too long", flag);
		return -EINVAL;
	}
	struct srv_config next = *c;
	int r = th_cfg_parse(srv_config_keys, sizeof(srv_config_keys) / sizeof(srv_config_keys[0]), &next,
			     sizeof(next), text, flag, &err);
	if (r < 0) {
		snprintf(msg, len, "%s: %s", flag, err.msg);
		return r;
	}
	return srv_config_commit(c, &next, flag, msg, len);
}

static const char *srv_level_name(int lvl)
{
	static const char *const n[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	return n[lvl & 7];
}

/* A duration in the largest unit that says it exactly ("10s", "250ms"). */
static void srv_print_duration(FILE *f, uint64_t ns)
{
	static const struct { uint64_t ns; const char *unit; } units[] = {
		{ 3600 * TH_NS_PER_S, "h" }, { 60 * TH_NS_PER_S, "m" }, { TH_NS_PER_S, "s" }, { TH_NS_PER_MS, "ms" },
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ns && ns % units[i].ns == 0) {
			fprintf(f, "%" PRIu64 "%s", ns / units[i].ns, units[i].unit);
			return;
		}
	fprintf(f, "%" PRIu64 "ms", ns / TH_NS_PER_MS);
}

/* A string as the parser reads it back: bare when it is one plain word. */
static void srv_print_string(FILE *f, const char *v)
{
	bool bare = *v;
	for (const char *q = v; *q && bare; q++)
		bare = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || strchr("._-/:", *q);
	if (bare)
		fputs(v, f);
	else
		fprintf(f, "\"%s\"", v);
}

static void srv_print_value(FILE *f, const struct th_cfg_key *k, const struct srv_config *c)
{
	const char *p = (const char *)c + k->offset;
	switch (k->type) {
	case TH_CFG_INT:
		fprintf(f, "%" PRId64, *(const int64_t *)p);
		break;
	case TH_CFG_BOOL:
		fputs(*(const bool *)p ? "yes" : "no", f);
		break;
	case TH_CFG_STRING:
		srv_print_string(f, p);
		break;
	case TH_CFG_DURATION:
		srv_print_duration(f, *(const uint64_t *)p);
		break;
	case TH_CFG_LOGLEVEL:
		fputs(srv_level_name(*(const int *)p), f);
		break;
	}
}

/* The range a key takes, in the file's own units (for the example). */
static void srv_print_range(FILE *f, const struct th_cfg_key *k)
{
	if (k->type == TH_CFG_INT) {
		fprintf(f, " (%" PRId64 "..%" PRId64 ")", k->min, k->max);
	} else if (k->type == TH_CFG_DURATION) {
		fputs(" (", f);
		srv_print_duration(f, (uint64_t)k->min);
		fputs("..", f);
		srv_print_duration(f, (uint64_t)k->max);
		fputs(")", f);
	} else if (k->type == TH_CFG_BOOL) {
		fputs(" (yes or no)", f);
	}
}

/* Every key of the table in its order, "[section]" before the first key
 * of each; commented: each key's help and range above it, the key itself
 * commented out (the example file: every line says the default). */
static void srv_config_render(const struct srv_config *c, FILE *f, bool commented)
{
	const char *section = "";
	size_t section_len = 0;
	for (size_t i = 0; i < sizeof srv_config_keys / sizeof srv_config_keys[0]; i++) {
		const struct th_cfg_key *k = &srv_config_keys[i];
		const char *dot = strchr(k->name, '.');
		size_t len = dot ? (size_t)(dot - k->name) : 0;
		bool header = len != section_len || strncmp(section, k->name, len);
		if (header) {
			fprintf(f, "\n[%.*s]\n", (int)len, k->name);
			section = k->name;
			section_len = len;
		}
		if (commented) {
			fprintf(f, "%s# %s", i && !header ? "\n" : "", k->help);
			srv_print_range(f, k);
			fputs("\n#", f);
		}
		fprintf(f, "%s = ", dot ? dot + 1 : k->name);
		srv_print_value(f, k, c);
		fputc('\n', f);
	}
}

/* Keys a running daemon takes only at start: a reload that changes one
 * keeps the running value and says so. */
static const char *const srv_config_restart_only[] = { "net.port", "web.listen", "web.root", "metrics.listen" };

bool srv_config_needs_restart(const char *key)
{
	for (size_t i = 0; i < sizeof srv_config_restart_only / sizeof srv_config_restart_only[0]; i++)
		if (!strcmp(key, srv_config_restart_only[i]))
			return true;
	return false;
}

/* Bytes a key's value takes in struct srv_config. */
static size_t srv_key_size(const struct th_cfg_key *k)
{
	switch (k->type) {
	case TH_CFG_INT:
		return sizeof(int64_t);
	case TH_CFG_BOOL:
		return sizeof(bool);
	case TH_CFG_STRING:
		return k->size;
	case TH_CFG_DURATION:
		return sizeof(uint64_t);
	case TH_CFG_LOGLEVEL:
		return sizeof(int);
	}
	return 0;
}

void srv_config_keep_restart(struct srv_config *next, const struct srv_config *running)
{
	for (size_t i = 0; i < sizeof srv_config_keys / sizeof srv_config_keys[0]; i++) {
		const struct th_cfg_key *k = &srv_config_keys[i];
		if (srv_config_needs_restart(k->name))
			memcpy((char *)next + k->offset, (const char *)running + k->offset, srv_key_size(k));
	}
}

unsigned srv_config_diff(const struct srv_config *a, const struct srv_config *b,
			 void (*changed)(void *ud, const char *key, const char *was, const char *now), void *ud)
{
	unsigned n = 0;
	for (size_t i = 0; i < sizeof srv_config_keys / sizeof srv_config_keys[0]; i++) {
		const struct th_cfg_key *k = &srv_config_keys[i];
		char va[SRV_CONFIG_VALUE_MAX], vb[SRV_CONFIG_VALUE_MAX];
		FILE *fa = fmemopen(va, sizeof va, "w"), *fb = fmemopen(vb, sizeof vb, "w");
		if (!fa || !fb) {
			if (fa)
				fclose(fa);
			if (fb)
				fclose(fb);
			continue;
		}
		srv_print_value(fa, k, a);
		srv_print_value(fb, k, b);
		fclose(fa);
		fclose(fb);
		if (strcmp(va, vb)) {
			n++;
			if (changed)
				changed(ud, k->name, va, vb);
		}
	}
	return n;
}

void srv_config_print(const struct srv_config *c, void *file)
{
	srv_config_render(c, file, false);
}

void srv_config_print_example(void *file)
{
	struct srv_config c;
	srv_config_defaults(&c);
	FILE *f = file;
	fprintf(f, "# thetad.conf: the Theta daemon's configuration (thetad.conf(5), docs/operator.md).\n"
		   "# Every key is shown commented out with its default; uncomment a line to change it.\n"
		   "# Install as %s. `thetad --print-config` prints the values in effect;\n"
		   "# `systemctl reload thetad` (SIGHUP) re-reads the file.\n\n",
		SRV_CONFIG_DEFAULT_PATH);
	srv_config_render(&c, f, true);
}
