/* Private to the voice module: its state on the loop thread, shared by
 * module.c (life cycle, clients, sessions, the thread's output, `voice`,
 * metrics) and module_net.c (the glue to the net module's voice hooks). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "voice/voice.h"
#include "voice/voice_engine.h"
#include "voice/voice_thread.h"

struct srv_daemon;
struct ipc_server;
struct sess_session;

/* `voice` control requests waiting for the thread's answer: no more than
 * the thread will owe (voice_thread_stats_request). */
#define VOICE_CTL_PENDING_MAX VOICE_THREAD_STATS_OWED

/* A local client that said VOICE_STATE. */
struct voice_mod_client {
	uint64_t id;
	uint32_t flags;   /* its last VOICE_STATE (VOICE_CL_*) */
	uint32_t out_seq; /* VOICE_OUT sent to it */
	bool linked;      /* the engine knows it (it works in the current session) */
	bool state_due;   /* the in ring was full: link it / tell its flags again (the tick) */
	uint8_t key[VOICE_KEY_LEN];
	char name[VOICE_NAME_MAX + 1];
};

/* What the session said about a speaker (VOICE_NAME, admin mutes): the
 * engine keeps it too, but a new engine (reload) must be told again. */
struct voice_mod_speaker {
	uint8_t key[VOICE_KEY_LEN];
	char name[VOICE_NAME_MAX + 1]; /* "" until named */
	bool admin_muted;
};

struct voice_module {
	struct srv_daemon *d;
	struct ipc_server *ipc;
	void *sess; /* the sessions module's state */
	void *net;  /* the net module's state; NULL without one */
	struct voice_engine_config cfg;
	struct voice_thread *t;
	struct sess_session *cur; /* the session voice works in */
	struct voice_mod_client clients[VOICE_LISTENERS_MAX];
	unsigned n_clients;
	struct voice_mod_speaker said[VOICE_SPEAKERS_MAX]; /* of the current session (module_net.c) */
	unsigned n_said;
	struct voice_thread_info info; /* SESSION_INFO's voice fields, last from the thread */
	uint64_t pending[VOICE_CTL_PENDING_MAX]; /* control connections waiting */
	unsigned n_pending;
	unsigned loss_pct;
	uint64_t in_drops_before; /* voice_thread_in_drops of the threads reloads replaced */
	struct voice_engine_totals last_totals;
	struct voice_thread_stats last_ts;
	uint64_t *m_totals[32];
	uint64_t *m_in_drops, *m_out_drops, *m_play_drops, *m_unlinked, *m_send_fail, *m_send_muted;
	uint64_t *m_ticks, *m_late_ticks, *m_skipped_ticks, *m_tick_max_us, *m_clients, *m_speaking, *m_too_many;
	uint64_t *m_remote_in, *m_remote_other;
};

/* module_net.c */
/* Hooks the module into the net module (m->net), or out (NULL hooks). */
void voice_net_attach(struct voice_module *m, bool on);
/* A local speaker's frame to the session's other daemons. */
void voice_net_send(struct voice_module *m, const struct voice_packet *p);
/* A local speaker's name to the session. */
void voice_net_name(struct voice_module *m, const uint8_t key[VOICE_KEY_LEN], const char *name);
/* The worst loss on the current session's links now, percent. */
unsigned voice_net_loss(struct voice_module *m);
/* Tells the engine again every speaker name and admin mute the session
 * gave (a new engine); forget: the session changed, they are void. */
void voice_net_retell(struct voice_module *m);
void voice_net_forget(struct voice_module *m);
