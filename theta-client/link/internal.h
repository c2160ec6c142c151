/* Private to theta-client/link/: the link object shared by link.c
 * (connection, handshake, liveness) and io.c (ring records both ways). */
#pragma once
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "link/link.h"
#include "th_ring.h"
#include "th_shm.h"

/* One command kept until the daemon acknowledges or rejects it. */
struct link_cmd {
	uint64_t seq;
	uint64_t scope;
	uint32_t type;
	uint32_t len;
	uint8_t *payload; /* malloc'd copy; NULL when len == 0 */
	uint64_t sent_gen; /* connection generation it was written in; 0: never */
	bool done;         /* answered; freed when it reaches the queue's front */
};

struct link {
	struct app_transport base; /* first: the frame loop's view */
	struct link_config cfg;
	char name[PROTO_IPC_MAX_NAME + 1];
	char hello_session[PROTO_IPC_MAX_NAME + 1]; /* the hello's session ("": the current one) */
	char version[PROTO_IPC_MAX_VERSION_STR + 1];
	struct sockaddr_un addr;
	enum link_state state;
	int sock;                 /* client.sock connection; -1 when absent */
	struct th_shm shm;        /* mapping of the daemon's memfd */
	int bell_c2d, bell_d2c;   /* c2d: we ring it; d2c: the daemon's for us */
	struct th_ring_prod out;  /* client -> daemon */
	struct th_ring_cons in;   /* daemon -> client */
	uint64_t gen;             /* welcomes so far: the connection generation */
	uint64_t hello_hash;      /* hash the last hello announced */
	uint64_t backoff_ns, next_attempt_ns, hello_deadline_ns;
	uint64_t next_sock_check_ns, next_ping_ns;
	bool started;             /* first attempt scheduled */
	bool outage_reported;     /* UNREACHABLE/LOST said once for this outage */
	int last_err;             /* negative errno of the last failed attempt */
	int fatal_err;            /* why the link is FATAL */

	/* Commands, oldest first, in a circular array of LINK_MAX_PENDING_CMDS. */
	struct link_cmd *cmds;
	uint32_t cmd_head, cmd_count, cmd_live;
	size_t cmd_bytes;
	uint64_t next_seq;
	uint64_t nonce;           /* this link instance's CMD_SUBMIT nonce, never 0 */

	/* Ephemeral slots (newest value wins) and one-shot reliable messages. */
	struct proto_ipc_pose_update pose[LINK_POSE_PARTS];
	bool pose_pending[LINK_POSE_PARTS];
	struct proto_ipc_frame_stats fstats;
	bool fstats_pending;
	struct proto_ipc_scene_state sstate;
	uint8_t sstate_hash[PROTO_IPC_SCENE_HASH_LEN];
	bool sstate_pending;
	bool info_pending;
	/* INPUT_INFO: the newest value the owner set (input_set: ever), and
	 * whether this connection still lacks it. */
	struct proto_ipc_input_info input;
	bool input_set, input_pending;
	/* SESSION_INFO: the newest one taken on this connection. */
	struct link_session_info sinfo;
	bool sinfo_valid;
	/* PRESENCE: the newest value the owner set (pres_set: ever), whether
	 * it is still to be written, and the last one written. */
	struct proto_ipc_presence pres, pres_sent;
	bool pres_set, pres_pending, pres_written;
	bool resync_pending;
	uint32_t resync_reason;
	/* Events: every LOG_ENTRY of session `session` below next_pos was
	 * delivered. synced: the daemon said on this connection where its
	 * stream starts (RESYNC FROM/SESSION); events before that are stale. */
	uint64_t session, next_pos;
	bool synced;
	bool ping_pending;
	bool unflushed;           /* records written since the last flush */
	uint64_t ping_seq;

	/* VOICE_STATE: the newest flags the owner set (voice_set: ever), and
	 * whether this connection still lacks them. Main thread only. */
	uint32_t voice_flags;
	bool voice_set, voice_pending;

	/* Voice rings: used by the audio threads and (un)mapped by the frame
	 * loop, all under vlock. voice_on: the rings below are attached to
	 * the current mapping. voice_fault (atomic): an audio thread found the
	 * daemon breaking a voice ring; the frame loop's next poll drops the
	 * connection. */
	pthread_mutex_t vlock;
	bool voice_on;
	struct th_ring_prod vout;  /* client -> daemon: VOICE_PCM */
	struct th_ring_cons vin;   /* daemon -> client: VOICE_OUT */
	struct link_voice_stats vst;
	uint8_t venc[PROTO_IPC_VOICE_MAX_RECORD];
	uint8_t vrec[PROTO_IPC_VOICE_MAX_RECORD];
	int voice_fault;

	struct link_stats st;
	char error[LINK_ERROR_MAX];
	uint8_t enc[PROTO_IPC_MAX_MSG];
	uint8_t rec[PROTO_IPC_MAX_MSG];
};

/* link.c */
/* Drops the connection and mapping, schedules the next attempt; reports
 * LOST (once per outage) with the formatted reason. */
void link_lose(struct link *l, uint64_t now_ns, bool violation, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Checks one ring of a welcome (offset aligned and inside the mapping,
 * geometry valid and equal to the ring's header): 0 or -EPROTO with
 * l->error set. */
int link_check_ring(struct link *l, const char *which, uint32_t off, uint32_t capacity, uint32_t max_record,
		    struct th_ring_geom *g);

/* io.c */
extern const struct app_transport_ops link_ops;
/* A welcome was accepted: queue CLIENT_INFO (and a resync after a
 * reconnect); every pending command will be (re)sent. */
void link_io_connected(struct link *l, bool reconnect);
/* Writes what is pending (info, resync, commands, poses, stats, ping) while
 * the ring has room, then publishes with one flush. 0 or -TH_ECORRUPT
 * (the link was lost). */
int link_io_pump(struct link *l, uint64_t now_ns);
/* Frees every queued command. */
void link_io_fini(struct link *l);
/* Encodes and writes one record (published by the next flush). 0, -EAGAIN
 * (ring full), -EINVAL (the message breaks a rule), -TH_ECORRUPT (the link
 * was lost). */
int link_io_send(struct link *l, uint16_t type, const void *msg, uint64_t now_ns);

/* voice.c */
/* Attaches the voice rings of an accepted welcome (l->shm mapped): 0 or
 * -EPROTO with l->error set. Takes the voice lock. */
int link_voice_attach(struct link *l, const struct proto_ipc_welcome *w);
/* Detaches them (before the mapping goes); takes the voice lock, so no
 * audio thread is inside a voice ring when it returns. */
void link_voice_detach(struct link *l);
/* Writes VOICE_STATE when this connection lacks the newest flags. 0,
 * -EAGAIN (ring full: pending still), -TH_ECORRUPT. */
int link_voice_pump(struct link *l, uint64_t now_ns);
/* Frame loop: an audio thread found a voice ring broken: drops the
 * connection (a violation). */
void link_voice_poll(struct link *l, uint64_t now_ns);

/* info.c: INPUT_INFO out, SESSION_INFO in. */
/* Writes INPUT_INFO when this connection lacks the newest value. 0,
 * -EAGAIN (ring full: pending still), -TH_ECORRUPT. */
int link_info_pump(struct link *l, uint64_t now_ns);
/* A decoded SESSION_INFO: checked (-EPROTO with l->error set when its
 * fields contradict each other), unpacked, kept, told to the owner. */
int link_info_on_session(struct link *l, const struct proto_ipc_session_info *m, uint64_t now_ns);
