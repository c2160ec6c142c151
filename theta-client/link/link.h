/* The client's link to its local thetad (docs/ipc.md): client.sock
 * (SOCK_SEQPACKET) for the hello/welcome handshake and liveness, a sealed
 * memfd with a ring pair for everything else. This is the real
 * `struct app_transport` (app/transport.h): the frame loop calls drain and
 * publish once per frame and the link never blocks it.
 *
 * Connection state machine (driven from drain, with the frame's now_ns):
 *
 *   IDLE --(backoff deadline: non-blocking connect + HELLO)--> HELLO_SENT
 *   HELLO_SENT --WELCOME (validated, rings mapped)--> ACTIVE
 *   HELLO_SENT --REFUSE version/hash/bad hello/not a member--> FATAL (the owner stops)
 *   HELLO_SENT --REFUSE other, timeout, hang-up--> IDLE (backoff)
 *   ACTIVE --hang-up, broken ring, protocol violation--> IDLE (backoff)
 *
 * Backoff runs LINK_BACKOFF_MIN_NS, doubling to LINK_BACKOFF_MAX_NS, and
 * resets after each welcome. On every welcome the link sends CLIENT_INFO,
 * RESYNC_REQUEST (the session and position of the events it has: none at
 * first, RECONNECTED after a reconnect), then every command not yet
 * acknowledged or rejected, in submission order.
 *
 * Events: the daemon answers each RESYNC_REQUEST with where its stream
 * starts (RESYNC FROM/SESSION: a session and a position), then sends that
 * session's log entries in position order. The link delivers each position
 * once, in order, across reconnects and restarts of either side: events
 * before the answer or below the next position are counted as stale and
 * dropped, a gap makes it ask again from what it has.
 *
 * Commands are reliable: publish takes all of a frame's commands or none
 * (-EAGAIN: the loop offers them again), keeps each until the daemon acks
 * or rejects it, and resends it after a reconnect (a command too large for
 * the wire can never be sent: it is counted in cmds_invalid and skipped).
 * Every CMD_SUBMIT carries the link's random nonce; a resend keeps nonce and
 * client sequence number, so the daemon acks an edit it already logged
 * (before a crash, say) with its existing id instead of logging it twice.
 * Poses and frame stats are
 * ephemeral: one pending slot each (head, left hand, right hand, stats); a
 * newer value replaces an unsent one (counted as coalesced).
 *
 * Everything the daemon sends is validated like any peer input: the
 * welcome's descriptors (count, kinds, seals, size), ring offsets and
 * geometry, every ring index and record (th_ring) and every message
 * (proto/ipc decoders, direction). A violation drops the mapping and the
 * link reconnects; the frame loop carries on.
 *
 * Voice (docs/ipc.md "Voice rings"): the memfd holds a second ring pair for
 * 10 ms PCM chunks, written and read by the client's audio threads through
 * link_voice_send / link_voice_recv while the frame loop runs the link.
 * Those two take the link's voice lock, which the frame loop takes too
 * whenever it maps or unmaps the rings, so an audio thread never touches a
 * mapping that is gone; while there is none they answer -ENOTCONN.
 * VOICE_STATE (link_set_voice) is kept and sent again after every welcome.
 *
 * Library code: it does not log. It reports state changes through
 * link_callbacks; link_last_error() holds the latest one-line reason. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/transport.h"
#include "ipc.h" /* proto/ipc.h */

#define LINK_SOCKET_NAME        "client.sock"
#define LINK_BACKOFF_MIN_NS     (50ull * 1000 * 1000)         /* first retry after a failure */
#define LINK_BACKOFF_MAX_NS     (2ull * 1000 * 1000 * 1000)   /* retries never wait longer */
#define LINK_HELLO_TIMEOUT_NS   (2ull * 1000 * 1000 * 1000)   /* welcome or refusal within */
#define LINK_SOCK_CHECK_NS      (10ull * 1000 * 1000)         /* hang-up check interval */
#define LINK_PING_INTERVAL_NS   (1ull * 1000 * 1000 * 1000)   /* liveness/RTT probe */
#define LINK_MAX_PENDING_CMDS   1024u                         /* unacknowledged commands kept */
#define LINK_MAX_PENDING_BYTES  (8u * 1024u * 1024u)          /* their payload bytes */
#define LINK_MAX_DRAIN_RECORDS  4096u                         /* records handled per frame */
#define LINK_MAX_SHM_SIZE       ((size_t)64 << 20)            /* largest memfd we map */
#define LINK_RING_ALIGN         64u                           /* ring offsets in the memfd */
#define LINK_POSE_ENTITY_SELF   0u                            /* POSE_UPDATE.entity: this client's user */
#define LINK_POSE_PARTS         3u                            /* head, left hand, right hand */
#define LINK_ERROR_MAX          384u

enum link_state {
	LINK_IDLE,       /* not connected; next attempt at the backoff deadline */
	LINK_HELLO_SENT, /* connected, waiting for WELCOME or REFUSE */
	LINK_ACTIVE,     /* rings mapped */
	LINK_FATAL,      /* refused for good (protocol mismatch): the owner should stop */
};

enum link_event {
	LINK_EV_CONNECTED,   /* a welcome was accepted (first time or after a loss) */
	LINK_EV_UNREACHABLE, /* a connect attempt failed; once per outage */
	LINK_EV_LOST,        /* an active link went down (hang-up, broken ring, violation) */
	LINK_EV_FATAL,       /* refused: version/hash mismatch, a hello the daemon rejects, or
			      * the user is not a member of the daemon's session */
};

struct link;

/* The newest SESSION_INFO (docs/ipc.md), checked and unpacked for the
 * overlay (ui_status in ui/ui.h has the same bounds). */
#define LINK_SPEAKERS_MAX     8u  /* speaker names kept; speaking counts them all */
#define LINK_SPEAKER_NAME_MAX 32u /* bytes of a name with its NUL (cut to fit) */
struct link_session_info {
	uint64_t session;      /* the session's tag (RESYNC_REQUEST.session); 0: none open */
	char name[PROTO_IPC_MAX_NAME + 1]; /* the session's name; "" when none */
	uint32_t host;         /* PROTO_IPC_SINFO_HOST_*: where the session's host is */
	int64_t rtt_us;        /* to the host: 0 when this daemon hosts it, -1 unknown
				* (no session, not linked to the host, no sample yet) */
	uint32_t peers;        /* daemons connected to this one for the session */
	uint64_t log_pos;      /* entries in this daemon's log of the session */
	uint32_t speaking;     /* users speaking now */
	unsigned nspeakers;    /* names in speakers[], at most LINK_SPEAKERS_MAX and speaking */
	char speakers[LINK_SPEAKERS_MAX][LINK_SPEAKER_NAME_MAX];
	uint32_t voice;        /* PROTO_IPC_VINFO_F_*: this client's voice as the daemon sees it */
	uint64_t received_ns;  /* now_ns of the drain that took it */
	uint64_t seq;          /* SESSION_INFO records this link took so far: a new value
				* when a newer one arrived */
};

/* How the link reports to its owner (main prints, tests count). msg is one
 * line without a trailing newline, valid during the call. */
struct link_callbacks {
	void (*event)(void *user_data, enum link_event ev, const char *msg);
	/* Optional: a validated EVENT record (kind PROTO_IPC_EVENT_*; for
	 * LOG_ENTRY the payload is a th_logrec encoding of a durable entry),
	 * called from drain with the world the frame loop passed. payload
	 * is valid during the call. Without it events are only counted. */
	void (*on_event)(void *user_data, struct sim_world *w, const struct proto_ipc_event *e);
	/* Optional: another user's validated POSE_UPDATE (entity set by the
	 * daemon). Without it remote poses are only counted. */
	void (*on_pose)(void *user_data, struct sim_world *w, const struct proto_ipc_pose_update *p);
	/* Optional: another user's validated PRESENCE (cursor, drag preview,
	 * speaking; entity set by the daemon). Without it they are only
	 * counted. */
	void (*on_presence)(void *user_data, struct sim_world *w, const struct proto_ipc_presence *p);
	/* Optional: the daemon said where the events that follow start
	 * (m->reason FROM or SESSION, m->session, m->next_pos). Entries the
	 * owner applied at or above m->next_pos, or of another session, are
	 * no longer in this stream (the daemon's log lost them, or the
	 * session changed): the owner drops them. */
	void (*on_resync)(void *user_data, struct sim_world *w, const struct proto_ipc_resync_request *m);
	/* Optional: the daemon answered one of our commands: exactly one of
	 * ack / rej is non-NULL. Called from drain. */
	void (*on_answer)(void *user_data, const struct proto_ipc_cmd_ack *ack, const struct proto_ipc_cmd_reject *rej);
	/* Optional: a SCENE_CHUNK of the snapshot the last RESYNC answer (with
	 * the SCENE flag) announced; chunks that arrive before that answer
	 * are counted as stale and dropped. */
	void (*on_scene_chunk)(void *user_data, struct sim_world *w, const struct proto_ipc_scene_chunk *c);
	/* Optional: a validated SESSION_INFO arrived (the same as
	 * link_session_info answers from now on). Called from drain. */
	void (*on_session_info)(void *user_data, const struct link_session_info *si);
};

struct link_config {
	const char *runtime_dir; /* required: where client.sock lives */
	const char *name;        /* HELLO/CLIENT_INFO name; NULL: "theta-client" */
	/* HELLO session: the session to work in (name, id or id prefix), NULL:
	 * the daemon's current one; refused (link_wait_active: -ENOENT) when the
	 * daemon has no such session. */
	const char *session;
	const char *version;     /* CLIENT_INFO version; NULL: THETA_VERSION */
	uint32_t mode;           /* PROTO_IPC_MODE_* */
	uint64_t backoff_min_ns; /* 0: LINK_BACKOFF_MIN_NS */
	uint64_t backoff_max_ns; /* 0: LINK_BACKOFF_MAX_NS */
	uint64_t ping_interval_ns; /* 0: LINK_PING_INTERVAL_NS */
	/* Tests only: XORed into the protocol hash the hello announces, to
	 * provoke a refusal. 0 in production. */
	uint64_t test_hash_xor;
	/* The owner mirrors the scene: every RESYNC_REQUEST carries the SCENE
	 * flag, so the daemon answers with a snapshot and the events after it. */
	bool scene;
	struct link_callbacks cb;
	void *user_data;
};

/* Cumulative over every connection of this link. */
struct link_stats {
	uint64_t attempts;       /* connect() attempts */
	uint64_t connects;       /* welcomes accepted */
	uint64_t reconnects;     /* welcomes after a lost link */
	uint64_t losses;         /* active or handshaking links dropped */
	uint64_t refusals;       /* REFUSE received */
	uint64_t violations;     /* daemon broke the protocol (ring, message, welcome) */
	uint64_t tx_records, tx_bytes; /* client -> daemon ring payload */
	uint64_t rx_records, rx_bytes; /* daemon -> client ring payload */
	uint64_t wakeups;        /* doorbell writes to the daemon */
	uint64_t drops;          /* ephemeral messages replaced before sending (coalesced) */
	uint64_t poses_sent;     /* POSE_UPDATE records written */
	uint64_t cmds_submitted; /* commands taken from the frame loop */
	uint64_t cmds_sent;      /* CMD_SUBMIT records written (resends included) */
	uint64_t cmds_resent;    /* of those, resends after a reconnect */
	uint64_t cmds_invalid;   /* commands refused locally (too large) */
	uint64_t acks, rejects;  /* CMD_ACK / CMD_REJECT for a pending command */
	uint64_t last_ack_lamport, last_ack_index; /* from the latest CMD_ACK */
	uint64_t stray_replies;  /* ACK/REJECT for no pending command (ignored) */
	uint64_t pings, pongs;   /* our probes and their answers */
	uint64_t events;         /* EVENT records */
	uint64_t log_events;     /* LOG_ENTRY events delivered (each position once, in order) */
	uint64_t events_stale;   /* LOG_ENTRY events dropped: before the daemon's answer, or had */
	uint64_t events_gaps;    /* LOG_ENTRY events past a gap (dropped; the link asked again) */
	uint64_t resyncs_sent;   /* RESYNC_REQUEST records written */
	uint64_t scene_chunks;   /* SCENE_CHUNK records delivered */
	uint64_t scene_stale;    /* SCENE_CHUNK records before the daemon's answer (dropped) */
	uint64_t scene_states;   /* SCENE_STATE records written */
	uint64_t inputs_sent;    /* INPUT_INFO records written */
	uint64_t session_infos;  /* SESSION_INFO records taken */
	uint64_t remote_poses;   /* POSE_UPDATE from the daemon (other users) */
	uint64_t remote_presences; /* PRESENCE from the daemon (other users) */
	uint64_t presences_sent; /* PRESENCE records written (this user's) */
	uint64_t resync_requests; /* RESYNC_REQUEST from the daemon */
	uint64_t last_rtt_ns;    /* latest ping round trip */
	uint64_t client_id;      /* from the latest welcome */
	uint32_t uid;            /* the user the daemon saw (SO_PEERCRED) */
	uint32_t last_reject_reason; /* PROTO_IPC_REJECT_* */
	char last_reject_detail[PROTO_IPC_MAX_DETAIL + 1];
};

/* Creates the link (no I/O: the first connect attempt happens at the first
 * drain, or in link_wait_active). -EINVAL (no runtime dir, bad mode),
 * -ENAMETOOLONG (socket path), -ENOMEM. */
int link_create(const struct link_config *cfg, struct link **out);
/* NULL-safe; closes everything. Normally called through
 * app_transport_destroy once the app owns the transport. */
void link_destroy(struct link **p);
/* The link as the frame loop's transport (same object: ownership moves with
 * app_attach, after which the app destroys it). */
struct app_transport *link_transport(struct link *l);

/* Advances the connection state machine (connect attempts, handshake,
 * hang-up checks) without blocking. drain calls it; tests may too. */
void link_poll(struct link *l, uint64_t now_ns);
/* Blocks up to timeout_ms for the link to become active (start-up only,
 * never from the frame loop): 0, -TH_EPROTOHASH/-TH_EVERSION/-EPROTO/-EACCES
 * (refused for good; -EACCES: the user is not a member of the session), -ETIMEDOUT, or the connect error of the last attempt
 * (-ENOENT, -ECONNREFUSED, ...) when the daemon is not there. With
 * fail_fast, the first failed connect attempt returns at once. */
int link_wait_active(struct link *l, int timeout_ms, bool fail_fast);

/* The owner wants the daemon's stream again from a fresh start (its
 * scene mirror cannot go on): a RESYNC_REQUEST goes out with the next
 * pump; events until the answer are stale. */
void link_request_resync(struct link *l);
/* The scene mirror's state for SCENE_STATE (ephemeral: a newer value
 * replaces an unsent one). 0, -ENOTCONN (not connected: nothing kept). */
int link_scene_state(struct link *l, uint64_t next_pos, const uint8_t hash[PROTO_IPC_SCENE_HASH_LEN],
		     uint32_t entities, uint64_t now_ns);

/* Where this client's input comes from and the active OpenXR interaction
 * profile of each hand, for the daemon (INPUT_INFO; `thetactl clients`
 * shows it). source: PROTO_IPC_INPUT_*; left, right: "" or NULL while no
 * profile is active, else a path such as
 * "/interaction_profiles/oculus/touch_controller" (inp_state.profile[]).
 * The link keeps the newest value and sends it after every welcome and
 * whenever it changes; the same value again sends nothing, so calling this
 * every frame costs a comparison. Works in any state (kept until the next
 * welcome). 0, or -EINVAL (source out of range, a profile that is not a
 * path or longer than PROTO_IPC_MAX_PROFILE bytes: nothing changes). */
int link_set_input(struct link *l, uint32_t source, const char *left, const char *right, uint64_t now_ns);
/* This user's presence (PRESENCE, docs/presence.md): flags
 * PROTO_IPC_PRES_F_CURSOR (cx cy cz, tool) and PREVIEW (target, tx..rw)
 * as the editor reports them; entity and t_ns are the link's (0 and
 * now_ns). Ephemeral: the newest value replaces an unsent one (counted in
 * drops); the same value as the last one written sends nothing, so
 * calling this every frame costs a comparison. Kept across reconnects:
 * after a welcome the newest value is sent again when it shows anything.
 * 0, or -EINVAL (SPEAKING or unknown flags, a field that is not finite:
 * nothing changes). */
int link_set_presence(struct link *l, const struct proto_ipc_presence *p, uint64_t now_ns);
/* The newest SESSION_INFO the daemon sent on this connection (it sends one
 * soon after the welcome, then on change, at most about once a second).
 * 0 with *out filled, or -ENODATA (not connected, or none yet on this
 * connection: the overlay shows "unknown"). */
int link_session_info(const struct link *l, struct link_session_info *out);

/* ---- voice ---------------------------------------------------------------
 * Thread-safe: called from the audio threads while the frame loop runs the
 * link (one capture thread may send while one playback thread receives).
 * The audio threads must be stopped before link_destroy. */

/* One 10 ms microphone chunk (PROTO_IPC_VOICE_SAMPLES mono samples at
 * 48 kHz; t_ns: CLOCK_MONOTONIC capture time of its first sample) onto the
 * voice ring, published at once (the daemon's doorbell rung if it sleeps).
 * 0, -ENOTCONN (not connected: dropped, counted in link_voice_stats'
 * not_conn), -ENOBUFS (ring full: dropped, counted in its drops). */
int link_voice_send(struct link *l, uint32_t seq, uint64_t t_ns, const int16_t pcm[480]);
/* The next chunk for the speakers (PROTO_IPC_VOICE_SAMPLES stereo frames,
 * L R interleaved; *t_ns the daemon's time of the mix, may be NULL). 1: one
 * chunk, 0: none waiting, -ENOTCONN (not connected). A chunk that breaks the
 * protocol (wrong type or size, a broken ring) counts a violation, answers
 * -ENOTCONN, and the frame loop's next link_poll drops the connection
 * (it reconnects after the backoff). */
int link_voice_recv(struct link *l, int16_t stereo[960], uint64_t *t_ns);
/* Main thread: the client's VOICE_STATE flags (PROTO_IPC_VOICE_F_*; ON
 * while its audio is open). Kept; sent on change and again after every
 * welcome (never before the first call). 0, -EINVAL (unknown bits: nothing
 * changes). */
int link_set_voice(struct link *l, uint32_t flags, uint64_t now_ns);

/* Voice counters, copied under the voice lock (any thread). */
struct link_voice_stats {
	uint64_t sent;        /* VOICE_PCM chunks written */
	uint64_t drops;       /* chunks dropped on a full voice ring */
	uint64_t not_conn;    /* chunks offered while not connected */
	uint64_t received;    /* VOICE_OUT chunks taken */
	uint64_t violations;  /* voice records that broke the protocol */
	uint64_t states_sent; /* VOICE_STATE records written */
	uint64_t maps;        /* times the voice rings were mapped (welcomes) */
};
void link_voice_stats(struct link *l, struct link_voice_stats *out);

/* Queues a PING now (tests; the link also pings every ping_interval). 0,
 * -ENOTCONN, -EAGAIN (ring full). */
int link_ping(struct link *l, uint64_t now_ns);

enum link_state link_get_state(const struct link *l);
const struct link_stats *link_get_stats(const struct link *l);
/* Commands taken but not yet acknowledged or rejected. */
size_t link_pending_commands(const struct link *l);
/* The position after the last log entry event delivered, and the session
 * (RESYNC_REQUEST.session) it belongs to: what the link resumes from. */
uint64_t link_next_pos(const struct link *l);
uint64_t link_session(const struct link *l);
/* Client sequence number the next submitted command gets. */
uint64_t link_next_seq(const struct link *l);
/* This link's CMD_SUBMIT nonce (random at link_create, never 0): with the
 * client sequence number it names a command for the daemon's
 * exactly-once check, on every resend too. */
uint64_t link_nonce(const struct link *l);
const char *link_socket_path(const struct link *l);
/* The latest one-line reason (connect error, refusal, loss); "" if none. */
const char *link_last_error(const struct link *l);
/* One summary line of the counters (no trailing newline); the length
 * snprintf would write. */
int link_format_summary(const struct link *l, char *buf, size_t len);
const char *link_state_name(enum link_state s);
