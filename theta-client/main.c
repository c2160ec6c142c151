/* theta-client: the headset client (ECS simulation, input, rendering).
 * Exit status: 0 success, 1 error, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/avatars.h"
#include "app/edits.h"
#include "app/loop.h"
#include "app/nav.h"
#include "app/scene.h"
#include "aud/aud.h"
#include "aud/aud_voice.h"
#include "edit/edit.h"
#include "edit/edit_desk.h"
#include "edit/edit_ray.h"
#include "edit/edit_reach.h"
#include "gfx/gfx.h"
#include "inp/inp_desk.h"
#include "inp/inp_xr.h"
#include "inp/script.h"
#include "ui/ui.h"
#include "link/link.h"
#include "th_err.h"
#include "th_hash.h"
#include "th_hex.h"
#include "th_logrec.h"
#include "th_log.h"
#include "th_time.h"

#ifndef THETA_VERSION
#define THETA_VERSION "0.0.0"
#endif

static volatile sig_atomic_t stop_requested;

/* The daemon link reports here. A refusal for good (protocol mismatch)
 * stops the client with status 1; an absent daemon is said once. */
#define CLIENT_START_WAIT_S_DEFAULT 5    /* a daemon that accepts must answer the hello within (--daemon-timeout) */
#define CLIENT_START_WAIT_S_MAX     3600
#define CLIENT_RUNTIME_DIR_DEFAULT  "/run/thetad" /* as thetactl: --runtime-dir, else $THETA_RUNTIME_DIR, else this */
static volatile sig_atomic_t link_refused;
static bool require_daemon;
static const char *session_arg; /* --session S: the session this client works in (NULL: the daemon's current) */

static void on_link_event(void *user_data, enum link_event ev, const char *msg)
{
	(void)user_data;
	if (ev == LINK_EV_FATAL) {
		th_err("%s", msg);
		link_refused = 1;
		stop_requested = 1;
	} else if (ev == LINK_EV_CONNECTED) {
		th_info("%s", msg);
	} else if (!require_daemon) {
		th_warn("%s%s", msg, ev == LINK_EV_UNREACHABLE ? " (is thetad running?); frames go on, retrying" : "");
	}
}

/* --edits / --print-acks: answers to our commands, counted here. */
static bool print_acks;
static uint64_t answered, rejected;
static struct proto_ipc_cmd_reject first_reject;

static const char *reject_reason_name(uint32_t r)
{
	static const char *const names[] = {
		[PROTO_IPC_REJECT_UNKNOWN_TYPE] = "unknown command type",
		[PROTO_IPC_REJECT_DENIED] = "not allowed for your role",
		[PROTO_IPC_REJECT_INVALID] = "invalid",
		[PROTO_IPC_REJECT_CONFLICT] = "conflicts with a concurrent edit",
		[PROTO_IPC_REJECT_RATE_LIMITED] = "rate limited",
		[PROTO_IPC_REJECT_NO_SESSION] = "no session",
	};
	return r <= PROTO_IPC_REJECT_MAX && names[r] ? names[r] : "rejected";
}

/* The scene mirror (app/scene.h), fed by the link, and the editor
 * (edit/edit.h) that works on it. */
static struct app_scene *scene;
static struct link *scene_link;
static struct edit *editor;
static struct app_avatars *avatars; /* the other users' heads and hands, for the renderer */

static void on_pose(void *user_data, struct sim_world *w, const struct proto_ipc_pose_update *p)
{
	(void)user_data;
	(void)w;
	if (avatars)
		app_avatars_on_pose(avatars, p, th_now_ns());
}

static void on_presence(void *user_data, struct sim_world *w, const struct proto_ipc_presence *p)
{
	(void)user_data;
	(void)w;
	if (avatars)
		app_avatars_on_presence(avatars, p, th_now_ns());
}

static void on_answer(void *user_data, const struct proto_ipc_cmd_ack *ack, const struct proto_ipc_cmd_reject *rej)
{
	(void)user_data;
	if (scene)
		app_scene_on_answer(scene, ack, rej);
	if (editor)
		edit_on_answer(editor, ack ? ack->client_seq : rej->client_seq, rej != NULL, ack ? ack->lamport : 0,
			       ack ? ack->log_index : 0);
	answered++;
	if (ack && print_acks) {
		printf("ack %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", ack->client_seq, ack->lamport, ack->log_index);
		fflush(stdout);
	}
	if (rej && rejected++ == 0)
		first_reject = *rej;
}

static void on_scene_event(void *user_data, struct sim_world *w, const struct proto_ipc_event *e)
{
	(void)user_data;
	(void)w;
	if (scene)
		app_scene_on_event(scene, e, th_now_ns());
	if (!editor)
		return;
	if (e->kind == PROTO_IPC_EVENT_LOG_ENTRY) {
		struct th_logrec_entry entry;
		int why;
		if (th_logrec_decode(e->payload, e->payload_len, &entry, &why) == 0)
			edit_on_entry(editor, &entry);
	} else if (e->kind == PROTO_IPC_EVENT_REFUSED) {
		struct proto_ipc_refused rf;
		if (proto_ipc_refused_decode(e->payload, e->payload_len, &rf) == 0)
			edit_on_refused(editor, rf.lamport, rf.seq);
	}
}

static void on_scene_resync(void *user_data, struct sim_world *w, const struct proto_ipc_resync_request *m)
{
	(void)user_data;
	(void)w;
	if (scene)
		app_scene_on_resync(scene, m);
}

static void on_scene_chunk(void *user_data, struct sim_world *w, const struct proto_ipc_scene_chunk *c)
{
	(void)user_data;
	(void)w;
	if (scene)
		app_scene_on_chunk(scene, c, th_now_ns());
}

static void scene_io_resync(void *ud)
{
	(void)ud;
	link_request_resync(scene_link);
}

static int scene_io_report(void *ud, uint64_t next_pos, const uint8_t hash[TH_SCENE_HASH_LEN], uint32_t entities)
{
	(void)ud;
	return link_scene_state(scene_link, next_pos, hash, entities, th_now_ns()) == 0 ? 0 : -EAGAIN;
}

static uint64_t scene_io_next_seq(void *ud)
{
	(void)ud;
	return link_next_seq(scene_link);
}

static void scene_io_sent(void *ud, uint64_t tag, uint64_t seq)
{
	(void)ud;
	if (editor)
		edit_on_sent(editor, tag, seq);
}

/* The editor's sink and frame hook: its commands join the frame's outbox;
 * its presence (cursor, drag preview) goes to the link as PRESENCE. */
static int editor_submit(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	return app_submit_tagged(ud, type, scope, payload, len, tag);
}

static void editor_presence(void *ud, const struct edit_presence *p)
{
	(void)ud;
	if (!scene_link)
		return;
	struct proto_ipc_presence m = {
		.flags = ((p->flags & EDIT_PRES_CURSOR) ? PROTO_IPC_PRES_F_CURSOR : 0) |
			 ((p->flags & EDIT_PRES_PREVIEW) ? PROTO_IPC_PRES_F_PREVIEW : 0),
		.tool = p->tool, .cx = p->cursor[0], .cy = p->cursor[1], .cz = p->cursor[2], .target = p->target,
		.tx = p->position[0], .ty = p->position[1], .tz = p->position[2],
		.rx = p->rotation[0], .ry = p->rotation[1], .rz = p->rotation[2], .rw = p->rotation[3],
	};
	link_set_presence(scene_link, &m, th_now_ns()); /* -EINVAL: a non-finite tip, nothing to show */
}

/* ---- input: the world grab or the desktop editor, the panels, haptics ----
 *
 * Per frame (docs/input.md): the source's poses (stage space) go through
 * the input filter — the desktop editor (a window: camera, mouse ray,
 * shortcuts) or the world grab (every other source) — so the entities and
 * everything after see world space; then the editor hook runs the panels
 * (which take the presses that land on them) before the tools. Haptic
 * pulses follow what happened: a snap turn, a selection the user changed,
 * an edit refused. */
enum client_input_kind { CI_NONE = 0, CI_SCRIPT, CI_XR, CI_DESKTOP };
static const char *const client_input_names[] = { "none", "script", "openxr", "desktop" };
static const uint32_t client_input_sources[] = { PROTO_IPC_INPUT_NONE, PROTO_IPC_INPUT_SCRIPT, PROTO_IPC_INPUT_OPENXR,
						 PROTO_IPC_INPUT_DESKTOP };

static struct client_input {
	enum client_input_kind kind;
	struct app *app;
	struct edit_desk *desk;
	struct edit_rays *rays;
	struct app_nav nav;
	struct edit_reach reach; /* the right controller's ray, when the tip reaches nothing */
	bool ui_hover;           /* the ray or cursor was on a panel last frame */
	bool input_refused;      /* link_set_input said no once (said once) */
	bool ui_short;           /* ui_frame could not build the panels' triangles (said once) */
	struct ui *ui;
	struct ui_status status;
	bool frames_due;       /* the overlay's frame figures are to be made (fill_status) */
	uint64_t frames_at_ns; /* when they were */
	unsigned desk_flags;  /* this frame's edit_desk_frame flags, for the editor hook (it takes them) */
	uint64_t sel_sig;     /* the selection last frame (haptic on a change) */
	uint64_t refusals;    /* edit_stats' last frame */
	uint64_t pulses, pulses_unsupported, snaps;
	uint64_t keys_dropped; /* the desktop's inp_state.desk.keys_dropped (since the source began) */
	char profile[INP_HANDS][INP_PROFILE_MAX];
} ci;

static void pulse(enum inp_hand hand, float amplitude, uint64_t duration_ns)
{
	int r = inp_haptic(app_input(ci.app), hand, amplitude, duration_ns);
	if (r == 0)
		ci.pulses++;
	else
		ci.pulses_unsupported++;
}

/* ---- voice (docs/voice.md, "The client") ----
 *
 * aud's two threads move PCM between PulseAudio and the link's voice rings
 * (link_voice_send / link_voice_recv are thread-safe); the frame loop turns
 * keys and buttons into mute and push-to-talk (aud_voice.h), closes or
 * opens the capture gate and sends the flags on change (link_set_voice,
 * which the link sends again after every welcome). */
#define CLIENT_VOICE_WHY_MAX 160u
static struct client_voice {
	struct aud *aud;      /* NULL: voice off */
	struct link *link;
	struct aud_voice ctl;
	atomic_uint_least64_t sent, refused; /* chunks the link took / did not (not connected, ring full) */
	bool admin_muted;     /* the daemon said so last (said once a change) */
	bool down[2];         /* the capture / playback stream was down when last looked at */
	char off[CLIENT_VOICE_WHY_MAX]; /* why it is off, for the summary */
} cv;

static void voice_captured(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm)
{
	(void)user;
	if (link_voice_send(cv.link, seq, t_ns, pcm) == 0)
		atomic_fetch_add_explicit(&cv.sent, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&cv.refused, 1, memory_order_relaxed);
}

static int voice_fetch(void *user, int16_t *stereo)
{
	(void)user;
	return link_voice_recv(cv.link, stereo, NULL) == 1;
}

/* The gate first: a mute closes it before the daemon hears of it. */
static void voice_publish(uint64_t now_ns)
{
	aud_set_gate(cv.aud, aud_voice_gate(&cv.ctl));
	link_set_voice(cv.link, aud_voice_flags(&cv.ctl), now_ns);
}

/* want: 1 --voice, 0 --no-voice, -1 the renderer's default (default_on).
 * 0 (voice on, or off with cv.off saying why), or -errno after saying why
 * (--voice asked and the audio could not open). */
static int voice_start(int want, bool default_on, const struct aud_config *ac, bool ptt, bool muted)
{
	if (want == 0) {
		snprintf(cv.off, sizeof cv.off, "--no-voice");
		return 0;
	}
	if (want < 0 && !default_on) {
		snprintf(cv.off, sizeof cv.off, "headless: --voice turns it on");
		return 0;
	}
	if (!scene_link) {
		snprintf(cv.off, sizeof cv.off, "no daemon link");
		return 0;
	}
	cv.link = scene_link;
	aud_voice_init(&cv.ctl, true, ptt, muted);
	char err[256];
	const struct aud_io io = { .captured = voice_captured, .fetch = voice_fetch };
	struct aud_config c = *ac;
	c.gate = aud_voice_gate(&cv.ctl); /* from the first chunk on */
	int r = aud_open(&c, &io, NULL, &cv.aud, err, sizeof err);
	if (r < 0) {
		aud_voice_init(&cv.ctl, false, false, false);
		if (want > 0) {
			th_err("voice: %s", err);
			return r;
		}
		th_warn("voice is off: %s", err);
		snprintf(cv.off, sizeof cv.off, "no audio: %s", err);
		return 0;
	}
	voice_publish(th_now_ns());
	th_info("voice on: %s%s", ptt ? "push-to-talk (hold V, or the right thumbstick in the headset)" : "open microphone",
		muted ? ", muted (M, or the right thumbstick click, unmutes)" : "");
	return 0;
}

/* Once a frame: the keys (desktop) or the right thumbstick click
 * (headset, script), and what the daemon says of an admin's mute. */
static void voice_frame(const struct inp_state *in, unsigned desk_flags)
{
	if (!cv.aud)
		return;
	struct aud_voice_input vi;
	if (ci.kind == CI_DESKTOP)
		vi = (struct aud_voice_input){ .toggle_mute = desk_flags & EDIT_DESK_TOGGLE_MUTE,
					       .talk = desk_flags & EDIT_DESK_TALK };
	else
		aud_voice_headset(&cv.ctl, in, &vi);
	bool was_muted = cv.ctl.muted;
	if (aud_voice_apply(&cv.ctl, &vi))
		voice_publish(th_now_ns());
	if (cv.ctl.muted != was_muted)
		th_info("microphone %s", cv.ctl.muted ? "muted" : "unmuted");
	/* A stream PulseAudio ended (a restart of the server, a device gone)
	 * is said once; aud opens it again on its own. */
	struct aud_stats ast;
	aud_get_stats(cv.aud, &ast);
	const bool down[2] = { ast.capture_down, ast.playback_down };
	for (int i = 0; i < 2; i++) {
		if (down[i] && !cv.down[i])
			th_warn("voice: PulseAudio ended the %s stream; opening it again every second",
				i ? "playback" : "capture");
		else if (!down[i] && cv.down[i])
			th_info("voice: the %s stream is open again", i ? "playback" : "capture");
		cv.down[i] = down[i];
	}
	struct link_session_info si;
	bool am = link_session_info(cv.link, &si) == 0 && (si.voice & PROTO_IPC_VINFO_F_ADMIN_MUTED);
	if (am != cv.admin_muted) {
		cv.admin_muted = am;
		if (am)
			th_warn("an admin of the session muted you: the others do not hear you");
		else
			th_info("an admin of the session unmuted you");
	}
}

/* The overlay's voice row (ui.h's UI_VOICE_*); vinfo: SESSION_INFO's voice. */
static uint32_t voice_status(uint32_t vinfo)
{
	if (!cv.aud)
		return 0;
	return UI_VOICE_ON | (cv.ctl.muted ? UI_VOICE_MUTED : 0) | (cv.ctl.ptt ? UI_VOICE_PTT : 0) |
	       (cv.ctl.talk ? UI_VOICE_TALK : 0) | ((vinfo & PROTO_IPC_VINFO_F_ADMIN_MUTED) ? UI_VOICE_ADMIN_MUTED : 0) |
	       ((vinfo & PROTO_IPC_VINFO_F_SENDING) ? UI_VOICE_SENDING : 0);
}

static void print_voice(void)
{
	if (!cv.aud) {
		printf("theta-client: voice off (%s)\n", cv.off[0] ? cv.off : "not started");
		return;
	}
	struct aud_stats st;
	aud_get_stats(cv.aud, &st);
	printf("theta-client: voice: %" PRIu64 " chunks sent, %" PRIu64 " played, %" PRIu64 " underruns, %" PRIu64
	       " gated, %" PRIu64 " dropped, %" PRIu64 " not taken by the link\n",
	       (uint64_t)atomic_load(&cv.sent), st.chunks_played, st.underruns, st.chunks_gated, st.chunks_dropped,
	       (uint64_t)atomic_load(&cv.refused));
}

static void input_filter(void *ud, struct app *a, uint64_t time_ns, struct inp_state *in)
{
	(void)ud;
	(void)a;
	const struct th_scene *sc = scene ? app_scene_scene(scene) : NULL;
	if (ci.kind == CI_DESKTOP) {
		/* This frame's alone: without an editor no hook takes them, and
		 * an O typed twice in the frame is already no toggle (edit_desk.h). */
		ci.desk_flags = edit_desk_frame(ci.desk, time_ns, in, editor, ci.rays, sc);
		ci.keys_dropped = in->desk.keys_dropped;
		voice_frame(in, ci.desk_flags);
		if (ci.desk_flags & EDIT_DESK_QUIT)
			in->quit = true;
		return;
	}
	voice_frame(in, 0);
	unsigned ev = app_nav_frame(&ci.nav, time_ns, in);
	app_set_nav(ci.app, ci.nav.xf.position, ci.nav.xf.rotation, ci.nav.xf.scale);
	/* The pick radius stays the same distance from the hand at any world
	 * size (the desktop keeps 1). */
	if (editor)
		edit_set_reach_scale(editor, ci.nav.xf.scale);
	if (ev & APP_NAV_SNAPPED) {
		ci.snaps++;
		pulse(INP_LEFT, INP_PULSE_SNAP_AMPLITUDE, INP_PULSE_SNAP_NS);
	}
	/* The ray on a panel (last frame) is the panel's: no reach begins
	 * through it (one under way goes on until its release). */
	edit_reach_frame(&ci.reach, in, ci.ui_hover ? NULL : editor, ci.rays, sc);
}

/* What the user holds now, as one number: a change is a pulse. */
static uint64_t selection_signature(const struct edit_selection *s)
{
	uint64_t h = th_mix64(s->entity ^ ((uint64_t)s->mode << 56) ^ s->n);
	for (unsigned i = 0; i < s->n; i++)
		h = th_mix64(h ^ s->el[i].id);
	return s->entity ? h : 0;
}

/* The overlay's frame figures: app_frame_stats sorts the whole stats
 * window (APP_STATS_WINDOW frames, about 70 us here), so they are made
 * only while the overlay is shown, at most this often (at once when it
 * has just been shown again). */
#define CLIENT_STATUS_FRAMES_EVERY_NS 250000000ull

static void fill_status(struct app *a, uint64_t time_ns)
{
	if (!ui_visible(ci.ui, UI_PANEL_OVERLAY)) {
		ci.frames_due = true;
	} else if (ci.frames_due || time_ns - ci.frames_at_ns >= CLIENT_STATUS_FRAMES_EVERY_NS) {
		struct app_frame_stats fs;
		app_frame_stats(a, &fs);
		ci.status.frame_p50_ms = fs.frame_p50_ns / 1e6;
		ci.status.frame_p99_ms = fs.frame_p99_ns / 1e6;
		ci.frames_at_ns = time_ns;
		ci.frames_due = false;
	}
	ci.status.log_pos = scene ? app_scene_next_pos(scene) : 0;
	ci.status.linked = scene_link && link_get_state(scene_link) == LINK_ACTIVE;
	struct link_session_info si;
	if (!scene_link || link_session_info(scene_link, &si) < 0) {
		ci.status.voice = voice_status(0);
		ci.status.rtt_us = -1;
		ci.status.peers = -1;
		ci.status.nspeaking = 0;
		return;
	}
	ci.status.voice = voice_status(si.voice);
	ci.status.rtt_us = si.rtt_us;
	ci.status.peers = si.peers > INT32_MAX ? INT32_MAX : (int32_t)si.peers;
	_Static_assert(LINK_SPEAKERS_MAX <= UI_SPEAKERS_MAX && LINK_SPEAKER_NAME_MAX <= UI_NAME_MAX,
		       "the overlay holds what the link keeps");
	ci.status.nspeaking = si.nspeakers;
	memcpy(ci.status.speaking, si.speakers, sizeof si.speakers);
}

static void editor_frame(void *ud, struct app *a, uint64_t time_ns, const struct inp_state *in_)
{
	struct edit *ed = ud;
	if (avatars)
		app_avatars_frame(avatars, th_now_ns());
	const struct th_scene *sc = scene ? app_scene_scene(scene) : NULL;
	struct inp_state in = *in_; /* the panels take what lands on them */
	unsigned desk_flags = ci.desk_flags; /* taken: a toggle acts once */
	ci.desk_flags = 0;
	if (ci.ui) {
		if (desk_flags & EDIT_DESK_TOGGLE_OVERLAY)
			ui_set_visible(ci.ui, UI_PANEL_OVERLAY, !ui_visible(ci.ui, UI_PANEL_OVERLAY));
		fill_status(a, time_ns);
		struct ui_frame_out uo = { .hover_panel = -1 };
		const struct ui_frame_in fi = { .sc = sc,
						.status = &ci.status,
						.desktop = ci.kind == CI_DESKTOP,
						.world_scale = ci.kind == CI_DESKTOP ? 1.0f : ci.nav.xf.scale };
		/* A refused press (nothing to undo) is also the editor's refusal:
		 * one pulse, from the count below. */
		/* -ENOMEM still hit-tested and applied the press (ui.h): the
		 * hover holds; only the panels' drawing is short, said once. */
		int ur = ui_frame(ci.ui, time_ns, &in, ed, &fi, &uo);
		ci.ui_hover = uo.hover;
		if (ur < 0 && !ci.ui_short) {
			ci.ui_short = true;
			th_warn("the panels could not be drawn in full (%s): some of them are missing", strerror(-ur));
		}
	}
	edit_frame(ed, time_ns, &in, sc);
	const char *msg = edit_take_message(ed);
	if (msg)
		th_warn("%s", msg);
	const struct edit_stats *st = edit_stats(ed);
	if (st->refusals > ci.refusals)
		pulse(INP_RIGHT, INP_PULSE_REFUSED_AMPLITUDE, INP_PULSE_REFUSED_NS);
	ci.refusals = st->refusals;
	uint64_t sig = selection_signature(edit_selection(ed));
	if (sig != ci.sel_sig && sig)
		pulse(INP_RIGHT, INP_PULSE_SELECT_AMPLITUDE, INP_PULSE_SELECT_NS);
	ci.sel_sig = sig;
	if (scene_link &&
	    link_set_input(scene_link, client_input_sources[ci.kind], in_->profile[INP_LEFT], in_->profile[INP_RIGHT],
			   th_now_ns()) < 0 &&
	    !ci.input_refused) {
		ci.input_refused = true;
		th_warn("the input's interaction profiles cannot be sent to thetad (not OpenXR paths): "
			"thetactl clients will not show them");
	}
	/* The summary names the last profile each hand had (a session that
	 * ended leaves none). */
	for (int h = 0; h < INP_HANDS; h++)
		if (in_->profile[h][0] && strcmp(ci.profile[h], in_->profile[h]) != 0) {
			memcpy(ci.profile[h], in_->profile[h], sizeof ci.profile[h]);
			th_info("%s hand: %s", h == INP_LEFT ? "left" : "right", ci.profile[h]);
		}
}

/* After the renderer is chosen: the source that goes with it. xr is the
 * unbound OpenXR source handed to the renderer (NULL when none was). A
 * source is the app's as soon as it is chosen or made, so a failure after
 * it leaves nothing for the caller to free but what it still holds. */
static int choose_input(struct app *a, struct app_renderer *r, struct inp_source **script, struct inp_source **xr,
			bool camera_given)
{
	ci.app = a;
	app_nav_init(&ci.nav);
	edit_reach_init(&ci.reach);
	int e = edit_rays_create(&ci.rays);
	if (e < 0)
		return e;
	struct GLFWwindow *win = gfx_renderer_glfw(r);
	if (*script) {
		app_attach(a, *script, NULL, NULL);
		*script = NULL;
		ci.kind = CI_SCRIPT;
	} else if (strcmp(gfx_renderer_backend(r), "xr") == 0 && *xr) {
		app_attach(a, *xr, NULL, NULL);
		*xr = NULL;
		ci.kind = CI_XR;
	} else if (win) {
		struct inp_source *desk;
		if ((e = inp_desk_create(win, &desk)) < 0)
			return e;
		app_attach(a, desk, NULL, NULL);
		ci.kind = CI_DESKTOP;
		if ((e = edit_desk_create(&(struct edit_desk_config){ 0 }, &ci.desk)) < 0)
			return e;
		if (!camera_given)
			gfx_renderer_follow_head(r);
	}
	app_set_input_filter(a, input_filter, NULL);
	return 0;
}

/* Before app_destroy, which destroys the renderer before the input (the
 * OpenXR source must outlive the renderer): the desktop source's callbacks
 * are on the renderer's window, which must outlive it (inp/inp_desk.h), so
 * it goes first, replaced by a null source. Without the memory for one it
 * goes after the window as before (GLFW is terminated by then, and its
 * calls on the window return at once). */
static void client_input_release_window(struct app *a)
{
	struct inp_source *none;
	if (ci.kind == CI_DESKTOP && inp_null_create(&none) == 0)
		app_attach(a, none, NULL, NULL);
}

static void client_input_destroy(void)
{
	edit_desk_destroy(&ci.desk);
	edit_rays_destroy(&ci.rays);
	ui_destroy(&ci.ui);
}

static void print_input(void)
{
	printf("theta-client: input %s, profiles %s %s, %" PRIu64 " haptic pulses (%" PRIu64
	       " the source could not give), %" PRIu64 " snap turns, world scale %.2f",
	       client_input_names[ci.kind], ci.profile[INP_LEFT][0] ? ci.profile[INP_LEFT] : "-",
	       ci.profile[INP_RIGHT][0] ? ci.profile[INP_RIGHT] : "-", ci.pulses, ci.pulses_unsupported, ci.snaps,
	       ci.kind == CI_DESKTOP ? 1.0 : ci.nav.xf.scale);
	/* Keys past INP_DESK_KEYS_MAX in one frame, which no shortcut saw. */
	if (ci.kind == CI_DESKTOP)
		printf(", %" PRIu64 " keys dropped", ci.keys_dropped);
	printf("\n");
}

static void print_history(const struct edit *ed, const struct th_scene *sc, bool all)
{
	const struct edit_history *h = edit_history(ed);
	unsigned edits = 0, undos = 0, redos = 0;
	for (unsigned i = 0; i < h->n; i++) {
		const struct edit_hist_entry *e = &h->e[i];
		edits += e->kind == EDIT_H_EDIT;
		undos += e->kind == EDIT_H_UNDO;
		redos += e->kind == EDIT_H_REDO;
	}
	const struct edit_stats *st = edit_stats(ed);
	unsigned others, sels = edit_selections(ed, sc, &others);
	printf("theta-client: editor: tool %s, %u edits, %u undos, %u redos, %" PRIu64 " commands, %" PRIu64
	       " previews, %" PRIu64 " refusals, %u selections (%u held by others)\n",
	       edit_tool_name(edit_tool(ed)), edits, undos, redos, st->commands, st->previews, st->refusals, sels,
	       others);
	if (!all)
		return;
	for (unsigned i = 0; i < h->n; i++) {
		char line[256];
		if (h->e[i].kind == EDIT_H_STATE)
			continue;
		edit_hist_format(&h->e[i], line, sizeof line);
		printf("theta-client: history %s\n", line);
	}
}

/* One line about the renderer at the end (stdout, like the others). */
static void print_renderer(struct app_renderer *r)
{
	struct gfx_renderer_stats st;
	if (gfx_renderer_stats(r, &st) < 0)
		return;
	printf("theta-client: renderer %s, %" PRIu64 " frames drawn, %" PRIu64 " skipped, %" PRIu64
	       " rebuilds, %" PRIu64 " validation messages, %" PRIu64 " full and %" PRIu64 " incremental mesh uploads (%"
	       PRIu64 " bytes), %" PRIu64 " triangles in the last frame\n",
	       gfx_renderer_backend(r), st.frames, st.skipped, st.rebuilds, st.validation_messages, st.uploads_full,
	       st.uploads_incremental, st.bytes_uploaded, st.triangles);
}

#define CLIENT_SIZE_MAX 16384u
static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	errno = 0;
	unsigned long a = strtoul(s, &end, 10);
	if (errno || end == s || (*end != 'x' && *end != 'X'))
		return -EINVAL;
	const char *t = end + 1;
	unsigned long b = strtoul(t, &end, 10);
	if (errno || end == t || *end || a < 16 || b < 16 || a > CLIENT_SIZE_MAX || b > CLIENT_SIZE_MAX)
		return -EINVAL;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int parse_vec3(const char *s, float v[3], const char **rest)
{
	char *end;
	for (int i = 0; i < 3; i++) {
		errno = 0;
		double d = strtod(s, &end);
		if (errno || end == s || !isfinite(d) || fabs(d) > 1e4)
			return -EINVAL;
		v[i] = (float)d;
		s = end;
		if (i < 2) {
			if (*s != ',')
				return -EINVAL;
			s++;
		}
	}
	*rest = s;
	return 0;
}

static int parse_camera(const char *s, struct gfx_options *o)
{
	if (strcmp(s, "auto") == 0) {
		o->camera = GFX_CAMERA_AUTO;
		return 0;
	}
	if (strcmp(s, "head") == 0) {
		o->camera = GFX_CAMERA_HEAD;
		return 0;
	}
	const char *rest;
	if (parse_vec3(s, o->eye, &rest) < 0 || *rest != ':' || parse_vec3(rest + 1, o->target, &rest) < 0 || *rest)
		return -EINVAL;
	if (o->eye[0] == o->target[0] && o->eye[1] == o->target[1] && o->eye[2] == o->target[2])
		return -EINVAL;
	o->camera = GFX_CAMERA_FIXED;
	return 0;
}

/* The screenshot is written when the client stops: a path it could never
 * be written to is said now, before any frame, not after the run. 0 or
 * -errno with the sentence's reason in *why. */
static int check_screenshot_path(const char *path, const char **why)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		*why = "it is a directory";
		return -EISDIR;
	}
	char copy[PATH_MAX];
	if ((size_t)snprintf(copy, sizeof copy, "%s", path) >= sizeof copy) {
		*why = strerror(ENAMETOOLONG);
		return -ENAMETOOLONG;
	}
	const char *d = dirname(copy);
	if (access(d, W_OK | X_OK) < 0) {
		int e = errno;
		*why = strerror(e);
		return -e;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: theta-client [OPTION]...\n"
		"Runs the Theta client: ECS simulation, input, rendering, linked to the local thetad.\n"
		"\n"
		"  --headless          no window or headset: render offscreen (--renderer headless)\n"
		"  --renderer NAME     auto (default: OpenXR, else a window), xr, window, headless,\n"
		"                      or null (simulation only, nothing drawn)\n"
		"  --screenshot FILE   write the last frame (headless, window) as a PNG\n"
		"  --shot-frame N      headless: write frame N instead of the last\n"
		"  --size WxH          window or image size in pixels (default 1280x720; headless 640x360)\n"
		"  --camera SPEC       auto (frame the scene), head (the tracked head), or\n"
		"                      EX,EY,EZ:TX,TY,TZ (an eye looking at a target, metres)\n"
		"  --stereo            headless: two eyes side by side (--ipd M, default 0.063)\n"
		"  --no-grid           do not draw the ground grid\n"
		"  --no-ui             no panels (tools, colours, inspector, history, overlay)\n"
		"  --shading MODE      flat, smooth, or mesh (each object's own setting; default)\n"
		"  --validation        enable the Vulkan validation layer (THETA_GFX_VALIDATION=1)\n"
		"  --script FILE       drive input from a script (docs/scripted-input.md)\n"
		"  --frames N          stop after N frames (default: run until quit)\n"
		"  --no-pacing         run frames back to back instead of at the frame rate\n"
		"  --rate HZ           frame rate, %.0f..%.0f (default %.0f)\n"
		"  --runtime-dir DIR   where thetad's client socket lives (default: $THETA_RUNTIME_DIR,\n"
		"                      else " CLIENT_RUNTIME_DIR_DEFAULT "); without a daemon the client runs on, retrying\n"
		"  --session S         work in session S (name or id; see thetactl sessions) instead of\n"
		"                      the daemon's current one (thetactl session use)\n"
		"  --require-daemon    exit 1 with one sentence if thetad does not answer at start\n"
		"  --daemon-timeout S  how long a daemon that accepts may take to answer at start\n"
		"                      (with --edits: also how long to wait for one to come),\n"
		"                      1..3600 seconds (default 5)\n"
		"  --edits N           make N edits (moves of a demo entity), wait until each is\n"
		"                      answered; exit 0, or 1 naming the first rejection (needs the\n"
		"                      daemon at start: waits --daemon-timeout for it, then one\n"
		"                      sentence; Ctrl-C stops, exit 0)\n"
		"  --print-acks        print 'ack CLIENT_SEQ LAMPORT AUTHOR_SEQ' for each acknowledged edit\n"
		"  --history           print the editor's history (your edits, undos, redos) at exit\n"
		"  --voice, --no-voice voice on or off (default: on with a headset or a window,\n"
		"                      off for --headless and --renderer null; docs/voice.md)\n"
		"  --voice-source NAME the PulseAudio source to capture (default: the default one)\n"
		"  --voice-sink NAME   the PulseAudio sink to play to (default: the default one)\n"
		"  --ptt               push-to-talk: heard only while V (or the right thumbstick) is held\n"
		"  --mute              start with the microphone muted (M, or the right thumbstick, unmutes)\n"
		"  --lose-device-at N  testing: act as if the GPU device were lost at frame N\n"
		"  --help              show this help and exit\n"
		"  --version           show the version and exit\n",
		APP_MIN_RATE_HZ, APP_MAX_RATE_HZ, APP_DEFAULT_RATE_HZ);
	fprintf(f, "\nIn a window (no headset), the desktop editor (docs/desktop.md):\n");
	for (unsigned i = 0; i < edit_desk_nkeys; i++)
		fprintf(f, "  %-18s  %s\n", edit_desk_keys[i].keys, edit_desk_keys[i].what);
	fprintf(f, "\nIn the headset: docs/input.md (controllers, panels, moving the world).\n");
}

/* The session the daemon put this client in, once per new session:
 * "editing studio (3bfc0a12…)" (the id's first 8 hex digits). */
static void on_session_info(void *user_data, const struct link_session_info *si)
{
	static uint64_t said;
	(void)user_data;
	if (!si->session || si->session == said)
		return;
	said = si->session;
	uint64_t t = si->session; /* the id's first 8 bytes, little-endian */
	th_info("editing %s (%02x%02x%02x%02x\u2026)", si->name, (unsigned)(t & 0xff), (unsigned)(t >> 8 & 0xff),
		(unsigned)(t >> 16 & 0xff), (unsigned)(t >> 24 & 0xff));
}

/* Where the daemon is, as thetactl finds it: --runtime-dir, else
 * $THETA_RUNTIME_DIR, else /run/thetad. */
static const char *runtime_dir_of(const struct app_config *cfg)
{
	const char *env = getenv("THETA_RUNTIME_DIR");
	if (cfg->runtime_dir && *cfg->runtime_dir)
		return cfg->runtime_dir;
	return env && *env ? env : CLIENT_RUNTIME_DIR_DEFAULT;
}

/* The daemon link (theta-client/link/). */
static int open_transport(const struct app_config *cfg, bool headless, struct link **link,
			  struct app_transport **out)
{
	const char *dir = runtime_dir_of(cfg);
	struct link_config lc = { .runtime_dir = dir, .version = THETA_VERSION, .cb.event = on_link_event,
				  .cb.on_answer = on_answer, .cb.on_event = on_scene_event,
				  .cb.on_resync = on_scene_resync, .cb.on_scene_chunk = on_scene_chunk,
				  .cb.on_pose = on_pose, .cb.on_presence = on_presence, .cb.on_session_info = on_session_info,
				  .scene = true, .session = session_arg,
				  .mode = headless ? PROTO_IPC_MODE_HEADLESS : PROTO_IPC_MODE_DESKTOP };
	int r = link_create(&lc, link);
	if (r == 0)
		*out = link_transport(*link);
	return r;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_HEADLESS = 256, OPT_SCRIPT, OPT_FRAMES, OPT_NO_PACING, OPT_RATE, OPT_RUNTIME_DIR, OPT_HELP, OPT_VERSION,
	       OPT_REQUIRE_DAEMON, OPT_EDITS, OPT_PRINT_ACKS, OPT_HISTORY, OPT_RENDERER, OPT_SCREENSHOT, OPT_SHOT_FRAME,
	       OPT_SIZE, OPT_CAMERA, OPT_STEREO, OPT_IPD, OPT_NO_GRID, OPT_SHADING, OPT_VALIDATION, OPT_LOSE_DEVICE_AT, OPT_NO_UI,
	       OPT_VOICE, OPT_NO_VOICE, OPT_VOICE_SOURCE, OPT_VOICE_SINK, OPT_PTT, OPT_MUTE, OPT_SESSION, OPT_DAEMON_TIMEOUT };
	static const struct option opts[] = {
		{ "headless", no_argument, NULL, OPT_HEADLESS },
		{ "script", required_argument, NULL, OPT_SCRIPT },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "no-pacing", no_argument, NULL, OPT_NO_PACING },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "require-daemon", no_argument, NULL, OPT_REQUIRE_DAEMON },
		{ "daemon-timeout", required_argument, NULL, OPT_DAEMON_TIMEOUT },
		{ "edits", required_argument, NULL, OPT_EDITS },
		{ "print-acks", no_argument, NULL, OPT_PRINT_ACKS },
		{ "history", no_argument, NULL, OPT_HISTORY },
		{ "renderer", required_argument, NULL, OPT_RENDERER },
		{ "screenshot", required_argument, NULL, OPT_SCREENSHOT },
		{ "shot-frame", required_argument, NULL, OPT_SHOT_FRAME },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "camera", required_argument, NULL, OPT_CAMERA },
		{ "stereo", no_argument, NULL, OPT_STEREO },
		{ "ipd", required_argument, NULL, OPT_IPD },
		{ "no-grid", no_argument, NULL, OPT_NO_GRID },
		{ "no-ui", no_argument, NULL, OPT_NO_UI },
		{ "shading", required_argument, NULL, OPT_SHADING },
		{ "validation", no_argument, NULL, OPT_VALIDATION },
		{ "lose-device-at", required_argument, NULL, OPT_LOSE_DEVICE_AT },
		{ "voice", no_argument, NULL, OPT_VOICE },
		{ "no-voice", no_argument, NULL, OPT_NO_VOICE },
		{ "voice-source", required_argument, NULL, OPT_VOICE_SOURCE },
		{ "voice-sink", required_argument, NULL, OPT_VOICE_SINK },
		{ "ptt", no_argument, NULL, OPT_PTT },
		{ "mute", no_argument, NULL, OPT_MUTE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct app_config cfg = { 0 };
	const char *script_path = NULL;
	bool headless = false, history = false, renderer_given = false, camera_given = false, no_ui = false;
	struct gfx_options go = { 0 };
	uint64_t n_edits = 0;
	int voice = -1; /* --voice 1, --no-voice 0, neither -1 */
	struct aud_config voice_cfg = { 0 };
	bool ptt = false, start_muted = false;
	const char *voice_opt = NULL; /* the first option that needs the voice */
	uint64_t start_wait_s = CLIENT_START_WAIT_S_DEFAULT;
	int c;
	th_log_init("theta-client");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HEADLESS: headless = true; break;
		case OPT_SCRIPT: script_path = optarg; break;
		case OPT_FRAMES:
			if (parse_u64(optarg, &cfg.max_frames) < 0 || cfg.max_frames == 0) {
				fprintf(stderr, "theta-client: --frames wants a positive integer, not '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_NO_PACING: cfg.no_pacing = true; break;
		case OPT_RATE: {
			char *end;
			errno = 0;
			cfg.rate_hz = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(cfg.rate_hz >= APP_MIN_RATE_HZ && cfg.rate_hz <= APP_MAX_RATE_HZ)) {
				fprintf(stderr, "theta-client: --rate wants a number of Hz in %.0f..%.0f, not '%s'\n",
					APP_MIN_RATE_HZ, APP_MAX_RATE_HZ, optarg);
				return 2;
			}
			break;
		}
		case OPT_RUNTIME_DIR: cfg.runtime_dir = optarg; break;
		case OPT_SESSION:
			if (!*optarg || strlen(optarg) > PROTO_IPC_MAX_NAME) {
				fprintf(stderr, "theta-client: --session needs a session name or id (1 to %u characters)\n",
					PROTO_IPC_MAX_NAME);
				return 2;
			}
			session_arg = optarg;
			break;
		case OPT_REQUIRE_DAEMON: require_daemon = true; break;
		case OPT_DAEMON_TIMEOUT:
			if (parse_u64(optarg, &start_wait_s) < 0 || start_wait_s < 1 || start_wait_s > CLIENT_START_WAIT_S_MAX) {
				fprintf(stderr, "theta-client: --daemon-timeout wants whole seconds from 1 to %u, not '%s'\n",
					CLIENT_START_WAIT_S_MAX, optarg);
				return 2;
			}
			break;
		case OPT_EDITS:
			if (parse_u64(optarg, &n_edits) < 0 || n_edits == 0 || n_edits > 100000000) {
				fprintf(stderr, "theta-client: --edits wants a positive integer, not '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_PRINT_ACKS: print_acks = true; break;
		case OPT_HISTORY: history = true; break;
		case OPT_RENDERER:
			if (gfx_renderer_parse(optarg, &go.kind) < 0) {
				fprintf(stderr, "theta-client: --renderer wants auto, xr, window, headless or null, not '%s'\n",
					optarg);
				return 2;
			}
			renderer_given = true;
			break;
		case OPT_SCREENSHOT: go.screenshot = optarg; break;
		case OPT_SHOT_FRAME:
			if (parse_u64(optarg, &go.shot_frame) < 0 || go.shot_frame == 0) {
				fprintf(stderr, "theta-client: --shot-frame wants a positive frame number, not '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_SIZE:
			if (parse_size(optarg, &go.width, &go.height) < 0) {
				fprintf(stderr, "theta-client: --size wants WIDTHxHEIGHT in pixels (16..%u each), not '%s'\n",
					CLIENT_SIZE_MAX, optarg);
				return 2;
			}
			break;
		case OPT_CAMERA:
			camera_given = true;
			if (parse_camera(optarg, &go) < 0) {
				fprintf(stderr, "theta-client: --camera wants auto, head or EX,EY,EZ:TX,TY,TZ (an eye and a "
						"different target, metres), not '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_STEREO: go.stereo_views = 2; break;
		case OPT_IPD: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (errno || *end || !*optarg || !(v > 0.0 && v <= 0.2)) {
				fprintf(stderr, "theta-client: --ipd wants metres in (0, 0.2], not '%s'\n", optarg);
				return 2;
			}
			go.ipd = (float)v;
			break;
		}
		case OPT_NO_GRID: go.no_grid = true; break;
		case OPT_NO_UI: no_ui = true; break;
		case OPT_SHADING:
			if (strcmp(optarg, "flat") == 0)
				go.shading = GFX_SHADING_FLAT;
			else if (strcmp(optarg, "smooth") == 0)
				go.shading = GFX_SHADING_SMOOTH;
			else if (strcmp(optarg, "mesh") == 0)
				go.shading = GFX_SHADING_MESH;
			else {
				fprintf(stderr, "theta-client: --shading wants flat, smooth or mesh, not '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_VALIDATION: go.validation = true; break;
		case OPT_LOSE_DEVICE_AT:
			if (parse_u64(optarg, &go.lose_device_at) < 0 || go.lose_device_at == 0) {
				fprintf(stderr, "theta-client: --lose-device-at wants a positive frame number, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_VOICE: voice = 1; break;
		case OPT_NO_VOICE: voice = 0; break;
		case OPT_VOICE_SOURCE:
		case OPT_VOICE_SINK:
			if (!*optarg) {
				fprintf(stderr, "theta-client: --voice-%s wants a PulseAudio %s name\n",
					c == OPT_VOICE_SOURCE ? "source" : "sink", c == OPT_VOICE_SOURCE ? "source" : "sink");
				return 2;
			}
			if (c == OPT_VOICE_SOURCE)
				voice_cfg.source = optarg;
			else
				voice_cfg.sink = optarg;
			voice_opt = voice_opt ? voice_opt : c == OPT_VOICE_SOURCE ? "--voice-source" : "--voice-sink";
			break;
		case OPT_PTT:
			ptt = true;
			voice_opt = voice_opt ? voice_opt : "--ptt";
			break;
		case OPT_MUTE:
			start_muted = true;
			voice_opt = voice_opt ? voice_opt : "--mute";
			break;
		case OPT_HELP: usage(stdout); return 0;
		case OPT_VERSION: printf("theta-client %s\n", THETA_VERSION); return 0;
		case ':':
			fprintf(stderr, "theta-client: option '%s' needs a value (see 'theta-client --help')\n",
				argv[optind - 1]);
			return 2;
		default: {
			const char *a = argv[optind - 1], *eq = strchr(a, '=');
			if (optopt && eq && !strncmp(a, "--", 2))
				fprintf(stderr, "theta-client: option '%.*s' takes no value (see 'theta-client --help')\n",
					(int)(eq - a), a);
			else
				fprintf(stderr, "theta-client: unknown option '%s' (see 'theta-client --help')\n", a);
			return 2;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "theta-client: unexpected argument '%s'\nTry 'theta-client --help'.\n", argv[optind]);
		return 2;
	}
	/* --edits needs the daemon from the start: no answer is one sentence. */
	if (n_edits)
		require_daemon = true;

	if (!renderer_given)
		go.kind = headless ? GFX_RENDERER_HEADLESS : GFX_RENDERER_AUTO;
	/* Voice: on with a headset or a window (auto is one of them). */
	const bool voice_default = go.kind != GFX_RENDERER_HEADLESS && go.kind != GFX_RENDERER_NULL;
	if (voice_opt && (voice == 0 || (voice < 0 && !voice_default))) {
		fprintf(stderr, "theta-client: %s is for the voice, which is off %s: %s\n", voice_opt,
			voice == 0 ? "(--no-voice)" : "with this renderer", voice == 0 ? "drop --no-voice" : "add --voice");
		return 2;
	}

	struct inp_source *input = NULL;
	if (script_path) {
		struct inp_script *script;
		struct inp_script_error err;
		int r = inp_script_load(script_path, &script, &err);
		if (r < 0) {
			char msg[256];
			inp_script_error_format(&err, msg, sizeof msg);
			if (err.line)
				th_err("%s: %s", script_path, msg);
			else
				th_err("%s", msg);
			return 1;
		}
		r = inp_script_source_create(script, &input);
		if (r < 0) {
			th_err("scripted input: %s", th_strerror(r));
			return 1;
		}
	}
	if (go.screenshot && (go.kind == GFX_RENDERER_NULL || go.kind == GFX_RENDERER_XR)) {
		fprintf(stderr, "theta-client: --screenshot needs the headless or window renderer, not %s\n",
			gfx_renderer_kind_name(go.kind));
		return 2;
	}
	if (go.kind != GFX_RENDERER_HEADLESS && (go.shot_frame || go.stereo_views)) {
		fprintf(stderr, "theta-client: %s is for the headless renderer (--headless), not %s\n",
			go.shot_frame ? "--shot-frame" : "--stereo", gfx_renderer_kind_name(go.kind));
		return 2;
	}
	if (go.shot_frame && !go.screenshot) {
		fprintf(stderr, "theta-client: --shot-frame picks the frame --screenshot FILE writes: give --screenshot\n");
		return 2;
	}
	if (go.ipd > 0 && go.stereo_views != 2) {
		fprintf(stderr, "theta-client: --ipd sets the eyes' distance of --stereo: give --stereo\n");
		return 2;
	}
	const char *shot_why;
	if (go.screenshot && check_screenshot_path(go.screenshot, &shot_why) < 0) {
		fprintf(stderr, "theta-client: --screenshot %s cannot be written: %s\n", go.screenshot, shot_why);
		return 2;
	}

	/* Ctrl-C or SIGTERM from here on ends the run cleanly (exit 0). */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct app *app;
	int r = app_create(&cfg, &app);
	if (r < 0) {
		th_err("cannot start the client: %s", th_strerror(r));
		inp_destroy(&input);
		return 1;
	}
	struct app_transport *transport = NULL;
	struct link *link = NULL;
	r = open_transport(&cfg, headless, &link, &transport);
	if (r < 0) {
		th_err("cannot open the daemon link: %s", th_strerror(r));
		inp_destroy(&input);
		app_destroy(&app);
		return 1;
	}
	/* Start connected when the daemon is there: no wait when it is not,
	 * but --edits (a script that needs it) waits up to --daemon-timeout for
	 * one to come (a daemon restarting, socket activation). */
	if (link && (r = link_wait_active(link, (int)start_wait_s * 1000, n_edits == 0)) < 0 &&
	    (require_daemon || link_refused || stop_requested)) {
		if (link_refused)
			r = 1; /* said (on_link_event) */
		else if (stop_requested)
			r = 0; /* Ctrl-C while waiting: nothing went wrong */
		else if (r == -ETIMEDOUT)
			th_err("thetad at %s did not answer within %" PRIu64 " s; it may be stuck (see journalctl -u thetad) "
			       "or busy (try --daemon-timeout)", link_socket_path(link), start_wait_s);
		else if (r == -ENOENT || r == -ECONNREFUSED)
			th_err("thetad is not running (no daemon at %s); start it with: systemctl start thetad%s",
			       link_socket_path(link), cfg.runtime_dir ? "" : ", or give --runtime-dir DIR");
		else if (r == -EACCES)
			th_err("permission denied on %s; ask to be added to the 'theta' group", link_socket_path(link));
		else
			th_err("cannot reach thetad at %s: %s", link_socket_path(link), th_strerror(r));
		link_destroy(&link);
		inp_destroy(&input);
		app_destroy(&app);
		return r == 0 ? 0 : 1;
	}
	require_daemon = false; /* from now on an outage is reported, and survived */
	if (link) {
		/* The scene mirror sits between the link and the frame loop. */
		const struct app_scene_io io = { .resync = scene_io_resync, .report = scene_io_report,
						 .next_seq = scene_io_next_seq, .sent = scene_io_sent };
		struct app_transport *wrapped;
		scene_link = link;
		const struct edit_config ec = { .sink = { .submit = editor_submit, .presence = editor_presence, .ud = app } };
		if ((r = app_scene_create(app_world(app), &io, &scene)) < 0 || (r = app_avatars_create(&avatars)) < 0 ||
		    (r = app_scene_transport(scene, transport, &wrapped)) < 0 || (r = edit_create(&ec, &editor)) < 0) {
			th_err("cannot start the scene mirror: %s", th_strerror(r));
			app_scene_destroy(&scene);
			app_avatars_destroy(&avatars);
			link_destroy(&link);
			inp_destroy(&input);
			app_destroy(&app);
			return 1;
		}
		transport = wrapped;
		app_set_editor(app, editor_frame, editor);
	}
	app_attach(app, NULL, transport, NULL);
	/* The OpenXR input goes with an OpenXR renderer: the backend binds it
	 * to its instance and session (inp/inp_xr.h). */
	struct inp_source *xr_input = NULL;
	if (!input && (go.kind == GFX_RENDERER_AUTO || go.kind == GFX_RENDERER_XR) &&
	    (r = inp_xr_create(&xr_input)) < 0) {
		th_err("cannot start the OpenXR input: %s", th_strerror(r));
		goto fail;
	}
	go.xr_input = xr_input;
	if (editor && !no_ui && (r = ui_create(&ci.ui)) < 0) {
		th_err("cannot start the panels: %s", th_strerror(r));
		goto fail;
	}
	/* The renderer reads the scene mirror, the editor and the panels: they
	 * outlive it (app_destroy destroys it first). */
	struct app_renderer *renderer = NULL;
	const struct gfx_sources gs = { .scene = scene, .ed = editor, .avatars = avatars, .ui = ci.ui,
				       .reach = &ci.reach };
	if ((r = gfx_renderer_create(&go, app_world(app), &gs, &renderer)) < 0) {
		if (r != -ENXIO && r != -ENODEV)
			th_err("cannot start the renderer: %s", th_strerror(r));
		goto fail;
	}
	app_attach(app, NULL, NULL, renderer);
	if ((r = choose_input(app, renderer, &input, &xr_input, camera_given)) < 0) {
		th_err("cannot start the input: %s", th_strerror(r));
		goto fail;
	}
	inp_destroy(&xr_input); /* the renderer is not OpenXR: its source goes unused */
	if ((r = voice_start(voice, voice_default, &voice_cfg, ptt, start_muted)) < 0)
		goto fail;

	const time_t started = time(NULL); /* a screenshot older than this is not this run's */
	bool edits_short = false;
	if (n_edits) {
		/* Edits go out as fast as the window allows; frames keep running
		 * through daemon outages (the link resends what was not answered). */
		struct app_edits ed;
		app_edits_init(&ed, n_edits, 0, 0);
		r = 0;
		while (!stop_requested && !app_edits_done(&ed, answered)) {
			if ((r = app_edits_pump(&ed, app, answered)) < 0)
				break;
			if ((r = app_step(app)) != 0)
				break;
		}
		if (r > 0 && !app_edits_done(&ed, answered))
			th_err("stopped after %" PRIu64 " frames with %" PRIu64 " of %" PRIu64 " edits answered",
			       app_frames(app), answered, n_edits);
		r = r > 0 ? 0 : r;
		if (!app_edits_done(&ed, answered) && r == 0 && stop_requested)
			printf("theta-client: stopped (signal) with %" PRIu64 " of %" PRIu64 " edits answered\n", answered,
			       n_edits);
		else if (!app_edits_done(&ed, answered) && r == 0)
			edits_short = true; /* --frames ran out first: said above */
	} else {
		r = app_run(app, &stop_requested);
	}
	struct app_frame_stats fs;
	app_frame_stats(app, &fs);
	printf("theta-client: %" PRIu64 " frames, frame time p50 %.1f us, p99 %.1f us, max %.1f us\n", fs.frames,
	       fs.frame_p50_ns / 1e3, fs.frame_p99_ns / 1e3, fs.frame_max_ns / 1e3);
	if (link) {
		char line[512];
		link_format_summary(link, line, sizeof line);
		printf("theta-client: link %s\n", line);
	}
	if (scene) {
		/* The final state goes to the daemon too (the end of a scripted run). */
		app_scene_sync(scene, th_now_ns(), true);
		uint8_t h[TH_SCENE_HASH_LEN];
		char hex[2 * TH_SCENE_HASH_LEN + 1] = "-";
		if (app_scene_world_hash(scene, h) == 0)
			th_hex_encode(h, sizeof h, hex);
		const struct app_scene_stats *ss = app_scene_stats(scene);
		printf("theta-client: scene position %" PRIu64 ", world hash %s, %" PRIu32 " entities, %" PRIu64
		       " snapshots (%" PRIu64 " bytes), %" PRIu64 " entries, %" PRIu64 " refused, %" PRIu64 " resyncs\n",
		       app_scene_next_pos(scene), hex, app_scene_entities(scene), ss->snapshots, ss->snapshot_bytes,
		       ss->entries, ss->refused, ss->resyncs);
	}
	if (editor)
		print_history(editor, scene ? app_scene_scene(scene) : NULL, history);
	print_renderer(renderer);
	if (r == -EACCES) {
		struct sim_violation v;
		if (sim_sched_last_violation(app_sched(app), &v) == 0)
			th_err("system '%s' %s component '%s' without declaring it", v.system,
			       v.write ? "wrote" : "read", sim_component_name(app_world(app), v.comp));
	} else if (r < 0) {
		th_err("frame loop failed: %s", th_strerror(r));
	}
	if (n_edits) {
		printf("theta-client: edits %" PRIu64 ", answered %" PRIu64 ", rejected %" PRIu64 "\n", n_edits, answered,
		       rejected);
		if (rejected)
			th_err("edit with request %" PRIu64 " was rejected: %s: %s", first_reject.client_seq,
			       reject_reason_name(first_reject.reason), first_reject.detail);
	}
	print_input();
	print_voice();
	aud_close(&cv.aud); /* its threads use the link, which goes with the app */
	client_input_release_window(app);
	app_destroy(&app); /* the renderer writes the screenshot here */
	client_input_destroy();
	app_scene_destroy(&scene);
	app_avatars_destroy(&avatars);
	edit_destroy(&editor);
	bool shot_missing = false;
	if (go.screenshot) {
		struct stat st;
		if (stat(go.screenshot, &st) < 0 || st.st_mtime < started) {
			th_err("the screenshot %s was not written (no frame was drawn, or the lines above say why)",
			       go.screenshot);
			shot_missing = true;
		}
	}
	return r < 0 || link_refused || rejected || shot_missing || edits_short ? 1 : 0;

fail:
	aud_close(&cv.aud);
	client_input_release_window(app);
	app_destroy(&app); /* the renderer first: the OpenXR source must outlive it */
	inp_destroy(&xr_input);
	inp_destroy(&input);
	client_input_destroy();
	app_scene_destroy(&scene);
	app_avatars_destroy(&avatars);
	edit_destroy(&editor);
	return 1;
}
