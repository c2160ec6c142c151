/* The voice module (docs/voice.md, "The daemon: threads and the path of one
 * chunk"). On the loop thread it only moves copies: a client's VOICE_STATE
 * and microphone chunks (ipc voice callbacks), head poses and the current
 * session (sessions' voice hooks), frames, names and admin mutes from other
 * daemons (net's voice hooks, module_net.c) go onto the voice thread's in
 * ring; what the thread's engine makes comes back on its out ring: mixed
 * chunks to the clients' voice rings (ipc_server_send_voice), local
 * speakers' frames to the session (net_module_send_voice), who is speaking
 * (SESSION_INFO through sess_module_info_changed), `thetactl voice`
 * answers and the metrics voice_*. Encoding, decoding and mixing happen
 * on the voice thread only (voice_thread.c). */
#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ipc/module.h"
#include "ipc/server.h"
#include "sess/module.h"
#include "srv/config.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "srv/module.h"
#include "th_err.h"
#include "th_log.h"
#include "th_logrec.h"
#include "th_loop.h"
#include "th_time.h"
#include "voice/module_int.h"

_Static_assert(VOICE_THREAD_SPEAKERS_TEXT == PROTO_IPC_MAX_SPEAKERS, "SESSION_INFO.speakers fits the thread's copy");
_Static_assert(PROTO_IPC_VOICE_PCM_BYTES == VOICE_CHUNK_SAMPLES * 2, "a microphone chunk is 10 ms of mono");
_Static_assert(PROTO_IPC_VOICE_OUT_BYTES == VOICE_CHUNK_SAMPLES * 4, "a mixed chunk is 10 ms of stereo");
_Static_assert(PROTO_IPC_VOICE_F_ALL == VOICE_CL_ALL && PROTO_IPC_VINFO_F_ALL == 15 &&
		       PROTO_IPC_VINFO_F_SENDING == VOICE_INFO_SENDING && PROTO_IPC_VINFO_F_ADMIN_MUTED == VOICE_INFO_ADMIN_MUTED,
	       "VOICE_STATE and SESSION_INFO.voice flags are the engine's");

/* The engine's totals as counters (metrics voice_*), in one table. */
static const struct voice_total_def {
	const char *name, *help;
	size_t off;
} voice_totals[] = {
#define T(field, help) { "voice_" #field, help, offsetof(struct voice_engine_totals, field) }
	T(chunks_in, "microphone chunks (10 ms) from local clients"),
	T(frames_encoded, "Opus frames encoded for local speakers"),
	T(frames_dtx, "frames not sent: silence (DTX)"),
	T(packets_out, "voice frames sent to other daemons"),
	T(packets_in, "voice frames from other daemons taken by the engine"),
	T(bytes_in, "Opus bytes from other daemons"),
	T(bytes_out, "Opus bytes to other daemons"),
	T(frames_decoded, "remote frames decoded"),
	T(frames_fec, "lost remote frames recovered from the next frame's FEC"),
	T(frames_concealed, "lost remote frames concealed (PLC)"),
	T(frames_late, "remote frames that came after their playout time (dropped)"),
	T(chunks_played, "mixed chunks (10 ms stereo) for local clients"),
	T(bad_packets, "remote frames refused: malformed Opus, bad length"),
	T(flood_drops, "remote frames dropped: their speaker sent too many"),
	T(unknown_client, "chunks or states for a client the engine does not know"),
	T(fifo_overruns, "local chunks dropped: a client sent faster than the daemon's clock"),
	T(speakers_full, "speakers refused: every speaker slot in use"),
	T(echo_drops, "frames from elsewhere for a key that speaks here"),
	T(encode_errors, "frames the encoder failed on (not sent)"),
	T(samples_skipped, "decoded samples a late tick could no longer play in time"),
	T(encode_ns, "CPU time spent encoding, ns"),
	T(decode_ns, "CPU time spent decoding, ns"),
	T(mix_ns, "CPU time spent mixing, ns"),
#undef T
};
#define VOICE_N_TOTALS (sizeof voice_totals / sizeof voice_totals[0])
_Static_assert(VOICE_N_TOTALS <= sizeof(((struct voice_module *)0)->m_totals) / sizeof(uint64_t *), "room for every total");

/* ---- clients ------------------------------------------------------------------ */

static struct voice_mod_client *client_find(struct voice_module *m, uint64_t id)
{
	for (unsigned i = 0; i < m->n_clients; i++)
		if (m->clients[i].id == id)
			return &m->clients[i];
	return NULL;
}

static void count_linked(struct voice_module *m)
{
	*m->m_clients = 0;
	for (unsigned i = 0; i < m->n_clients; i++)
		*m->m_clients += m->clients[i].linked;
}

/* Tells the engine about c when it works in the current session. */
static void client_link(struct voice_module *m, struct voice_mod_client *c)
{
	struct sess_session *s;
	char name[64];
	if (c->linked || !m->cur || sess_module_client_voice(m->sess, c->id, &s, c->key, name, sizeof name) < 0 ||
	    s != m->cur)
		return;
	snprintf(c->name, sizeof c->name, "%.*s", (int)VOICE_NAME_MAX, name);
	if (voice_thread_client(m->t, c->id, c->key, c->name) < 0 || voice_thread_client_state(m->t, c->id, c->flags) < 0) {
		c->state_due = true; /* counted (in ring full); the tick tries again */
		return;
	}
	c->linked = true;
	c->state_due = false;
	voice_net_name(m, c->key, c->name);
}

static void on_voice_state(void *user, uint64_t client_id, uid_t uid, const struct proto_ipc_voice_state *st,
			   uint64_t now_ns)
{
	struct voice_module *m = user;
	struct voice_mod_client *c = client_find(m, client_id);
	(void)uid;
	(void)now_ns;
	if (!c) {
		if (m->n_clients == VOICE_LISTENERS_MAX) {
			(*m->m_too_many)++;
			return;
		}
		c = &m->clients[m->n_clients++];
		*c = (struct voice_mod_client){ .id = client_id };
	}
	c->flags = st->flags & VOICE_CL_ALL;
	if (!c->linked)
		client_link(m, c);
	else /* a mute lost to a full ring would leave the user heard: the tick tells it again */
		c->state_due = voice_thread_client_state(m->t, c->id, c->flags) < 0;
	count_linked(m);
}

static void on_voice_pcm(void *user, uint64_t client_id, const struct proto_ipc_voice_pcm *p, uint64_t now_ns)
{
	struct voice_module *m = user;
	struct voice_mod_client *c = client_find(m, client_id);
	int16_t pcm[VOICE_CHUNK_SAMPLES];
	(void)now_ns;
	if (!c || !c->linked || p->pcm_len != sizeof pcm) {
		(*m->m_unlinked)++;
		return;
	}
	memcpy(pcm, p->pcm, sizeof pcm);
	voice_thread_capture(m->t, client_id, p->seq, p->t_ns, pcm);
}

static void on_voice_disconnect(void *user, uint64_t client_id)
{
	struct voice_module *m = user;
	struct voice_mod_client *c = client_find(m, client_id);
	if (!c)
		return;
	if (c->linked)
		voice_thread_client_gone(m->t, client_id);
	*c = m->clients[--m->n_clients];
	count_linked(m);
}

static const struct ipc_voice_callbacks voice_ipc_cb = {
	.on_voice_pcm = on_voice_pcm,
	.on_voice_state = on_voice_state,
	.on_disconnect = on_voice_disconnect,
};

/* The engine forgets everyone (a session change, a new engine): the
 * clients of the current session are linked again. */
static void relink_all(struct voice_module *m)
{
	for (unsigned i = 0; i < m->n_clients; i++) {
		m->clients[i].linked = m->clients[i].state_due = false;
		client_link(m, &m->clients[i]);
	}
	count_linked(m);
	m->loss_pct = 0; /* the tick tells the engine again */
}

/* ---- sessions ---------------------------------------------------------------------- */

static void on_sess_pose(void *user, struct sess_session *s, const struct proto_ipc_pose_update *p)
{
	struct voice_module *m = user;
	if (s != m->cur || !(p->flags & PROTO_IPC_POSE_F_HEAD))
		return;
	struct voice_pose head = { .p = { p->px, p->py, p->pz }, .q = { p->qx, p->qy, p->qz, p->qw },
				   .valid = (p->flags & PROTO_IPC_POSE_F_TRACKED) != 0 };
	voice_thread_pose(m->t, p->entity, &head);
}

static void on_sess_current(void *user, struct sess_session *s)
{
	struct voice_module *m = user;
	if (s == m->cur)
		return;
	m->cur = s;
	voice_thread_reset(m->t);
	voice_net_forget(m);
	relink_all(m);
	/* SESSION_INFO follows when the thread's fields for the new session come back. */
}

static void on_sess_info(void *user, uint64_t client_id, uint32_t *speaking, char *speakers, size_t cap,
			 uint32_t *voice)
{
	struct voice_module *m = user;
	*speaking = m->info.speaking;
	snprintf(speakers, cap, "%s", m->info.speakers);
	*voice = 0;
	for (unsigned i = 0; i < m->info.n_clients; i++)
		if (m->info.client[i].client_id == client_id)
			*voice = m->info.client[i].info & PROTO_IPC_VINFO_F_ALL;
}

static const struct sess_voice_hooks voice_sess_hooks = {
	.pose = on_sess_pose,
	.current = on_sess_current,
	.info = on_sess_info,
};

/* ---- what the voice thread sends back -------------------------------------------------- */

static void sink_play(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns)
{
	struct voice_module *m = user;
	struct voice_mod_client *c = client_find(m, client_id);
	if (!c || !c->linked)
		return; /* gone meanwhile */
	struct proto_ipc_voice_out o = { .seq = ++c->out_seq, .t_ns = t_ns, .pcm = (const uint8_t *)stereo,
					 .pcm_len = PROTO_IPC_VOICE_OUT_BYTES };
	if (ipc_server_send_voice(m->ipc, client_id, &o) == -ENOBUFS)
		(*m->m_play_drops)++;
}

static void sink_packet(void *user, const struct voice_packet *p)
{
	voice_net_send(user, p);
}

static void sink_info(void *user, const struct voice_thread_info *info)
{
	struct voice_module *m = user;
	m->info = *info;
	*m->m_speaking = info->speaking;
	sess_module_info_changed(m->sess);
}

static struct json_object *speaker_json(const struct voice_speaker_stats *s)
{
	struct json_object *o = json_object_new_object();
	char fpr[TH_KEY_FPR_LEN];
	th_key_fingerprint(s->speaker, fpr, sizeof fpr);
	json_object_object_add(o, "key", json_object_new_string(fpr));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "local", json_object_new_boolean(s->local));
	json_object_object_add(o, "speaking", json_object_new_boolean(s->speaking));
	json_object_object_add(o, "muted", json_object_new_boolean(s->muted));
	json_object_object_add(o, "admin_muted", json_object_new_boolean(s->admin_muted));
	json_object_object_add(o, "packets", json_object_new_uint64(s->packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(s->bytes));
	json_object_object_add(o, "bitrate_bps", json_object_new_uint64(s->bitrate_bps));
	json_object_object_add(o, "loss_pct", json_object_new_double(s->loss_permille / 10.0));
	json_object_object_add(o, "frames_lost", json_object_new_uint64(s->frames_lost));
	json_object_object_add(o, "late", json_object_new_uint64(s->late));
	json_object_object_add(o, "concealed", json_object_new_uint64(s->concealed));
	json_object_object_add(o, "fec_recovered", json_object_new_uint64(s->fec_recovered));
	json_object_object_add(o, "dropped", json_object_new_uint64(s->dropped));
	json_object_object_add(o, "jb_depth_ms", json_object_new_uint64(s->jb_depth_ms));
	json_object_object_add(o, "jb_target_ms", json_object_new_uint64(s->jb_target_ms));
	json_object_object_add(o, "jitter_ms", json_object_new_double(s->jitter_us / 1000.0));
	return o;
}

static void sink_stats(void *user, uint64_t conn, const struct voice_speaker_stats *sp, unsigned n,
		       const struct voice_engine_totals *t, uint64_t now_ns)
{
	struct voice_module *m = user;
	unsigned k;
	(void)now_ns;
	for (k = 0; k < m->n_pending && m->pending[k] != conn; k++)
		;
	if (k == m->n_pending)
		return; /* answered already (the module restarted its thread) */
	m->pending[k] = m->pending[--m->n_pending];
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array(), *tot = json_object_new_object();
	json_object_object_add(o, "session", m->cur ? json_object_new_string(m->cur->id) : NULL);
	json_object_object_add(o, "frame_ms", json_object_new_int((int)m->cfg.enc.frame_ms));
	json_object_object_add(o, "complexity", json_object_new_int(m->cfg.enc.complexity));
	json_object_object_add(o, "bitrate", json_object_new_int(m->cfg.enc.bitrate));
	json_object_object_add(o, "fec", json_object_new_boolean(m->cfg.enc.fec));
	json_object_object_add(o, "dtx", json_object_new_boolean(m->cfg.enc.dtx));
	json_object_object_add(o, "vad", json_object_new_string(voice_vad_name(m->cfg.vad)));
	json_object_object_add(o, "spatial", json_object_new_boolean(m->cfg.spatial));
	json_object_object_add(o, "link_loss_pct", json_object_new_int((int)m->loss_pct));
	json_object_object_add(o, "clients", json_object_new_int((int)*m->m_clients));
	json_object_object_add(o, "speaking", json_object_new_int((int)m->info.speaking));
	for (unsigned i = 0; i < n; i++)
		json_object_array_add(arr, speaker_json(&sp[i]));
	json_object_object_add(o, "speakers", arr);
	for (unsigned i = 0; i < VOICE_N_TOTALS; i++)
		json_object_object_add(tot, voice_totals[i].name + strlen("voice_"),
				       json_object_new_uint64(*(const uint64_t *)((const char *)t + voice_totals[i].off)));
	json_object_object_add(o, "totals", tot);
	srv_control_answer(srv_daemon_control(m->d), conn, 0, o, NULL);
}

/* Counters never run back: a new engine (reload) starts its totals at 0. */
static void add_delta(uint64_t *counter, uint64_t now, uint64_t last)
{
	*counter += now >= last ? now - last : now;
}

static void sink_totals(void *user, const struct voice_engine_totals *t, const struct voice_thread_stats *ts)
{
	struct voice_module *m = user;
	for (unsigned i = 0; i < VOICE_N_TOTALS; i++)
		add_delta(m->m_totals[i], *(const uint64_t *)((const char *)t + voice_totals[i].off),
			  *(const uint64_t *)((const char *)&m->last_totals + voice_totals[i].off));
	add_delta(m->m_ticks, ts->ticks, m->last_ts.ticks);
	add_delta(m->m_late_ticks, ts->late_ticks, m->last_ts.late_ticks);
	add_delta(m->m_skipped_ticks, ts->skipped_ticks, m->last_ts.skipped_ticks);
	add_delta(m->m_out_drops, ts->out_drops, m->last_ts.out_drops);
	*m->m_tick_max_us = ts->tick_max_ns / 1000;
	*m->m_in_drops = m->in_drops_before + voice_thread_in_drops(m->t);
	m->last_totals = *t;
	m->last_ts = *ts;
}

static const struct voice_thread_sink voice_sink = {
	.play = sink_play,
	.packet = sink_packet,
	.info = sink_info,
	.stats = sink_stats,
	.totals = sink_totals,
};

static void on_thread_out(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct voice_module *m = user;
	(void)loop;
	(void)fd;
	(void)events;
	voice_thread_poll(m->t, &voice_sink, m);
}

/* ---- `voice` ------------------------------------------------------------------------- */

static int voice_cmd(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		     char *err, size_t errlen)
{
	struct voice_module *m = u;
	(void)args;
	(void)res;
	if (m->n_pending == VOICE_CTL_PENDING_MAX) {
		snprintf(err, errlen, "too many voice requests are waiting for the voice thread; try again");
		return -EAGAIN;
	}
	if (voice_thread_stats_request(m->t, caller->conn) < 0) {
		snprintf(err, errlen, "the voice thread is not keeping up; try again");
		return -EAGAIN;
	}
	m->pending[m->n_pending++] = caller->conn;
	return SRV_CTL_LATER;
}

/* ---- module ------------------------------------------------------------------------ */

static void engine_config(const struct srv_config *c, struct voice_engine_config *out)
{
	memset(out, 0, sizeof *out); /* padding too: reload compares with memcmp */
	out->enc.frame_ms = (unsigned)c->voice_frame_ms;
	out->enc.complexity = (int)c->voice_complexity;
	out->enc.bitrate = (int)c->voice_bitrate;
	out->enc.fec = c->voice_fec;
	out->enc.dtx = c->voice_dtx;
	out->vad = strcmp(c->voice_vad, "energy") ? VOICE_VAD_WEBRTC : VOICE_VAD_ENERGY;
	out->spatial = c->voice_spatial;
}

/* A thread with cfg, its doorbell on the loop. */
static int thread_start(struct voice_module *m, const struct voice_engine_config *cfg, struct voice_thread **out,
			char *msg, size_t len)
{
	int r = voice_thread_create(cfg, out);
	if (r < 0) {
		snprintf(msg, len, "cannot start the voice pipeline (frame_ms %u, complexity %d, bitrate %d, vad %s): %s",
			 cfg->enc.frame_ms, cfg->enc.complexity, cfg->enc.bitrate, voice_vad_name(cfg->vad), th_strerror(r));
		return r;
	}
	if ((r = th_loop_add(srv_daemon_loop(m->d), voice_thread_fd(*out), EPOLLIN, on_thread_out, m)) < 0) {
		snprintf(msg, len, "cannot watch the voice thread: %s", th_strerror(r));
		voice_thread_destroy(out);
		return r;
	}
	return 0;
}

static void answer_pending(struct voice_module *m, const char *why)
{
	while (m->n_pending)
		srv_control_answer(srv_daemon_control(m->d), m->pending[--m->n_pending], -ESHUTDOWN, NULL, why);
}

static void thread_stop(struct voice_module *m)
{
	if (!m->t)
		return;
	th_loop_del(srv_daemon_loop(m->d), voice_thread_fd(m->t));
	m->in_drops_before += voice_thread_in_drops(m->t);
	voice_thread_destroy(&m->t);
}

static void voice_module_stop(void *state);

static int voice_module_start(struct srv_daemon *d, void **state, char *msg, unsigned len)
{
	struct voice_module *m = calloc(1, sizeof *m);
	int r;
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->ipc = ipc_module_server(srv_daemon_module_state(d, "ipc"));
	m->sess = srv_daemon_module_state(d, "sessions");
	m->net = srv_daemon_module_state(d, "net");
	if (!m->ipc || !m->sess) {
		snprintf(msg, len, "voice needs the ipc and sessions modules");
		free(m);
		return -ENOENT;
	}
	struct srv_metrics *mx = srv_daemon_metrics(d);
	for (unsigned i = 0; i < VOICE_N_TOTALS; i++)
		m->m_totals[i] = srv_counter(mx, voice_totals[i].name, voice_totals[i].help);
	m->m_in_drops = srv_counter(mx, "voice_in_drops", "records for the voice thread dropped: its ring was full");
	m->m_out_drops = srv_counter(mx, "voice_out_drops", "records from the voice thread dropped: its ring was full");
	m->m_play_drops = srv_counter(mx, "voice_play_drops", "mixed chunks dropped: the client's voice ring was full");
	m->m_unlinked = srv_counter(mx, "voice_unlinked_chunks",
				    "microphone chunks from a client with no VOICE_STATE or outside the session");
	m->m_too_many = srv_counter(mx, "voice_clients_refused", "clients past the voice listener limit");
	m->m_send_fail = srv_counter(mx, "voice_send_failures", "local frames the net module refused");
	m->m_send_muted = srv_counter(mx, "voice_send_admin_muted", "local frames not sent: an admin muted the speaker");
	m->m_remote_in = srv_counter(mx, "voice_remote_frames", "voice frames the net module handed in");
	m->m_remote_other = srv_counter(mx, "voice_remote_other_session", "voice frames for a session not current here");
	m->m_ticks = srv_counter(mx, "voice_ticks", "10 ms ticks of the voice thread (playout and mix)");
	m->m_late_ticks = srv_counter(mx, "voice_late_ticks", "ticks run late to catch up (the thread was held up)");
	m->m_skipped_ticks = srv_counter(mx, "voice_skipped_ticks", "ticks skipped: the thread was held up too long");
	m->m_tick_max_us = srv_gauge(mx, "voice_tick_max_us", "longest tick in the last quarter second, µs");
	m->m_clients = srv_gauge(mx, "voice_clients", "local clients in the voice session");
	m->m_speaking = srv_gauge(mx, "voice_speaking", "speakers speaking now");
	engine_config(srv_daemon_config(d), &m->cfg);
	if ((r = thread_start(m, &m->cfg, &m->t, msg, len)) < 0) {
		free(m);
		return r;
	}
	m->cur = sess_module_current(m->sess);
	ipc_server_set_voice(m->ipc, &voice_ipc_cb, m);
	sess_module_set_voice(m->sess, &voice_sess_hooks, m);
	voice_net_attach(m, true);
	srv_control_register(srv_daemon_control(d), "voice", SRV_CTL_QUERY, voice_cmd, m);
	*state = m;
	return 0;
}

static void voice_module_stop(void *state)
{
	struct voice_module *m = state;
	if (!m)
		return;
	ipc_server_set_voice(m->ipc, NULL, NULL);
	sess_module_set_voice(m->sess, NULL, NULL);
	voice_net_attach(m, false);
	thread_stop(m);
	answer_pending(m, "the daemon is stopping");
	free(m);
}

static void voice_module_tick(void *state, unsigned long long now_ns)
{
	struct voice_module *m = state;
	(void)now_ns;
	unsigned loss = voice_net_loss(m);
	if (loss != m->loss_pct && voice_thread_set_loss(m->t, loss) == 0)
		m->loss_pct = loss;
	/* What a full in ring refused (VOICE_STATE is sent only on change). */
	bool relinked = false;
	for (unsigned i = 0; i < m->n_clients; i++) {
		struct voice_mod_client *c = &m->clients[i];
		if (!c->state_due)
			continue;
		if (c->linked) {
			c->state_due = voice_thread_client_state(m->t, c->id, c->flags) < 0;
		} else {
			client_link(m, c);
			relinked = true;
		}
	}
	if (relinked)
		count_linked(m);
}

/* SIGHUP: a changed [voice] takes a new engine (the clients are linked to
 * it again: a moment of silence; the session's speaker names and admin
 * mutes are told again); an unchanged one keeps the running one, and so
 * does a new one that cannot start. */
static void voice_module_reload(void *state)
{
	struct voice_module *m = state;
	struct voice_engine_config next;
	struct voice_thread *t;
	char msg[256];
	engine_config(srv_daemon_config(m->d), &next);
	if (!memcmp(&next, &m->cfg, sizeof next))
		return;
	if (thread_start(m, &next, &t, msg, sizeof msg) < 0) {
		th_err("reload: %s; keeping the old voice settings", msg);
		return;
	}
	thread_stop(m);
	answer_pending(m, "the voice pipeline restarted with a new configuration; ask again");
	m->t = t;
	m->cfg = next;
	memset(&m->last_totals, 0, sizeof m->last_totals);
	memset(&m->last_ts, 0, sizeof m->last_ts);
	th_notice("reload: voice now uses %u ms frames, complexity %d, %d bit/s", m->cfg.enc.frame_ms,
		  m->cfg.enc.complexity, m->cfg.enc.bitrate);
	memset(&m->info, 0, sizeof m->info);
	relink_all(m);
	voice_net_retell(m); /* after the clients: an admin mute holds for local speakers too */
	sess_module_info_changed(m->sess);
}

static void voice_module_status(void *state, struct json_object *status)
{
	struct voice_module *m = state;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "clients", json_object_new_int((int)*m->m_clients));
	json_object_object_add(o, "speaking", json_object_new_int((int)m->info.speaking));
	json_object_object_add(o, "frame_ms", json_object_new_int((int)m->cfg.enc.frame_ms));
	json_object_object_add(status, "voice", o);
}

const struct srv_module voice_module = {
	.name = "voice",
	.start = voice_module_start,
	.stop = voice_module_stop,
	.tick = voice_module_tick,
	.status = voice_module_status,
	.reload = voice_module_reload,
};
