/* Internal to the net daemon module (module.c: I/O, loop, control commands;
 * net_link.c: the session protocol over each connection). Not for other
 * folders: they use srv_daemon_module_state(d, "net") through nothing. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/net_catchup.h"
#include "net/net_cert.h"
#include "net/net_chan.h"
#include "net/net_impair.h"
#include "net/net_peer.h"
#include "net/net_quic.h"
#include "net/net_server.h"
#include "net/net_sl.h"
#include "net/net_sl_pose.h"
#include "net/net_udp.h"
#include "sess/sessions.h"
#include "session.h"
#include "th_buf.h"

struct srv_daemon;
struct th_logrec_entry;
struct proto_ipc_pose_update;
struct clog_event;

/* Limits (each bounds something a peer controls). */
#define NET_JOINED_NAME_PREFIX   "joined-"        /* a replica's name until the host says its own */
#define NET_SESS_MAX_PEERS       32u              /* default net.max_peers: connected members per hosted session */
#define NET_CONN_PENDING_MAX     (32u << 20)      /* stream bytes we hold for a slow peer */
#define NET_RELAY_SPLIT_BYTES    (192u << 10)     /* start a new ENTRIES message past this */
#define NET_RESUME_BYTES_PER_PASS (256u << 10)    /* held commands bytes a service pass delivers (backpressure) */
#define NET_CONNECT_TIMEOUT_NS   (10ull * 1000 * 1000 * 1000)
/* RTT assumed before the first sample (ngtcp2 and RFC 9002 use 333 ms):
 * one lost Initial or Handshake packet costs three times this. 20 ms suits
 * the LAN and regional paths sessions run on (a late join under 10 % loss,
 * 20 ms each way: link up 0.21 s median instead of 0.31 s with 50 ms); a
 * longer path sends an Initial again early, a few times at most (the timer
 * doubles), then uses its own sample. */
#define NET_INITIAL_RTT_NS       (20ull * 1000 * 1000)
/* Rejoining a host that went silent: an attempt that has heard nothing from
 * the host by max(NET_REJOIN_ATTEMPT_MIN_NS, NET_REJOIN_ATTEMPT_RTTS x the
 * last RTT) is replaced by a fresh one (whose Initial goes out at once, not
 * after a doubled retransmission timer), at most NET_REJOIN_BACKOFF_MAX_NS
 * apart: a healed partition is noticed within about a second. An attempt
 * the host answers keeps NET_CONNECT_TIMEOUT_NS. */
#define NET_REJOIN_ATTEMPT_MIN_NS  (500ull * 1000 * 1000)
#define NET_REJOIN_ATTEMPT_RTTS    8u
#define NET_REJOIN_BACKOFF_MAX_NS  (250ull * 1000 * 1000)
#define NET_MAX_JOINS            SESS_MAX_SESSIONS
#define NET_REPAIR_MAX           16u              /* sessions whose cut range is watched for repair */
#define NET_ROSTER_MAX           64u              /* other members a joiner remembers from MEMBER_JOIN */
#define NET_ADMIN_REQ_MAX        16u              /* admin requests awaiting (or holding) an answer */
#define NET_ADMIN_REQ_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* no ADMIN_RESULT by then: "timeout" */
#define NET_HOSTED_MAX           SESS_MAX_SESSIONS /* hosted sessions with pose owners */
/* Largest heartbeat datagram taken (a PONG is 25 bytes): PROTO_SESS_DGRAM_MAX
 * is sized for presence frames. */
#define NET_SMALL_DGRAM_MAX      96u
/* PRES frames a host takes from one member (net_pres.c): a member sends one
 * per tick (presence.tick_hz, 90 by default) whatever its users do; room
 * for a faster tick_hz and for a loop that ran late; a flood past it is
 * dropped (net_chan_pres_over_rate). */
#define NET_PRES_RATE_PER_S      250u
#define NET_PRES_BURST           50u
#define NET_PRES_DGRAM_MAX       (3u + PROTO_SESS_PRES_FRAME_MAX) /* kind, u16 length, the frame */
/* A local speaker counts as speaking this long after its last frame with
 * speech (its voice frames are 10 or 20 ms; DTX sends nothing in silence). */
#define NET_PRES_SPEAKING_HOLD_NS (300ull * 1000 * 1000)

/* The channels net_link registers first (net_link_start), by their index in
 * nm->chans; the streams in the order the joiner opens them
 * (client-initiated bidirectional ids 0, 4, 8). Others register after. */
enum net_stream {
	NET_ST_CONTROL = 0,
	NET_ST_COMMANDS = 1,
	NET_ST_ASSETS = 2,
	NET_CH_HEARTBEAT = 3, /* datagrams PING / PONG */
	NET_CH_BUILTIN
};

enum net_conn_state {
	NC_HANDSHAKE,  /* QUIC/TLS handshake */
	NC_HELLO,      /* joiner: HELLO sent, waiting for ACK; host: waiting for HELLO */
	NC_ACTIVE,
	NC_CLOSED,     /* closed or ended; reaped by net_server */
};

struct net_mod;
struct net_join;
struct net_asset_conn; /* net_asset_io.c */
struct net_assets;     /* net_asset_io.c */
struct net_catchup;    /* net_catchup.c */
struct net_snap;       /* net_snapshot.h, driven by net_snapshot_io.c */
struct net_snaps;      /* net_snapshot_io.c */
struct net_voices;     /* net_voice.c */
struct net_voice_sess; /* net_voice.h */

/* One QUIC connection carrying one membership. */
struct net_conn {
	struct net_conn *next;
	struct net_mod *nm;
	struct net_quic *q;      /* NULL once net_server reaped it */
	bool incoming;           /* we host, the peer joined */
	enum net_conn_state st;
	struct sess_session *s;  /* host: set by an accepted HELLO */
	struct net_join *join;   /* joiner side */
	uint32_t peer_id;        /* host side: the member's id; joiner: ours */
	uint8_t key[32];         /* the other daemon's identity key */
	uint8_t role;            /* the member's role (host side) / granted (joiner) */
	uint64_t caps;
	uint64_t created_ns;
	struct net_sl *sl;       /* the session layer of this connection (net_sl.h) */
	char addr[64];
	struct net_chan ch[NET_CHAN_MAX]; /* one per registered channel (nm->chans) */
	unsigned n_ch;
	/* ENTRIES being built for this peer (relay of durable entries). */
	struct th_wbuf out;
	struct proto_sess_entries_build ob;
	bool ob_open;
	uint64_t entries_in, entries_out;
	uint64_t poses_refused; /* host: users in its PRES frames that are not the member's (over the rate: the pres channel's over_rate) */
	uint64_t end_code;       /* app code it ended with (either side) */
	uint64_t sync_ignored;   /* the session layer's count, as last added to the metric */
	struct net_catchup *cu;  /* the peer's catch-up (net_catchup.c); NULL before its first SYNC */
	bool lost;               /* declared lost by the heartbeat */
	bool in_run;             /* net_conn_run is executing this connection's actions */
	/* Backpressure (docs/network.md): the log of c->s could not take a
	 * group, the session layer keeps it and the commands channel holds
	 * what follows (its bytes stay charged to the QUIC window); log_room:
	 * a group commit finished since (or held bytes remain to deliver):
	 * retry in the service pass. */
	bool log_room;
	uint64_t waits;          /* times this connection's entries had to wait for the log */
	struct net_asset_conn *ax; /* asset transfers (net_asset_io.c); NULL until active */
	struct net_snap *snap;   /* the late join's checkpoint transfer (net_snapshot_io.c); NULL until asked */
	/* joiner: the other members as the host announced them */
	struct net_roster_item {
		uint32_t peer_id;
		uint8_t key[32];
		uint8_t role;
	} roster[NET_ROSTER_MAX];
	unsigned n_roster;
};

/* An admin request this member daemon sent its host (thetactl kick / role
 * on a member), answered by ADMIN_RESULT, polled by `admin_request`. */
struct net_admin_req {
	uint32_t id;             /* 0: free slot */
	struct sess_session *s;  /* only compared, never followed: the session may go */
	char sid[SESS_ID_LEN + 1];
	uint8_t op;              /* PROTO_SESS_ADMIN_* */
	uint32_t peer_id;
	uint8_t speaker[32];     /* MUTE / UNMUTE of one speaker (peer_id 0) */
	uint8_t role;            /* asked for (ROLE); the answer's role once done */
	bool done;
	uint16_t code;           /* the answer: 0 or a proto_sess_err (low 16 bits) */
	uint64_t sent_ns;
};

enum net_join_state {
	NJ_WAIT,       /* backoff before the next attempt */
	NJ_CONNECTING, /* QUIC + HELLO in progress */
	NJ_ACTIVE,
	NJ_FAILED,     /* refused for good: see code/error */
	NJ_LEFT,
	NJ_RESOLVING,  /* the host's name is being looked up (net_resolve.h) */
};

/* A member session's link to its host: reconnects with backoff. */
struct net_join {
	struct sess_session *s;
	struct net_conn *conn;
	enum net_join_state st;
	struct net_backoff bo;
	uint64_t code;           /* last end code (0: none) */
	char error[256];         /* last failure, one sentence */
	uint64_t attempts, joins;
	uint64_t last_attempt_ns;
	uint64_t srtt_ns;        /* the last connection's smoothed RTT (0: none yet) */
	bool stopping;           /* this daemon is stopping: the end of the link is ours, not lost */
	/* the host name's lookup (module.c net_join_address) */
	uint64_t lookup_id;            /* outstanding lookup, 0: none */
	bool looked_up;                /* a result waits for the next attempt */
	int lookup_err;
	char lookup_why[160];
	struct sockaddr_storage lookup_addr;
	socklen_t lookup_addr_len;
};

/* Host-side state of one hosted session that outlives its connections. */
struct net_hosted {
	char id[SESS_ID_LEN + 1];
	struct net_pose_owners owners;
};

struct net_mod {
	struct srv_daemon *d;
	uint64_t now; /* now_ns of the callback, hook or service pass being handled */
	struct net_chans chans;  /* registered channels (net_link_start first) */
	uint64_t wall_off_ns; /* wall clock - monotonic clock, as of the last service pass */
	void *sess;              /* the sessions module's state */
	const struct th_keypair *host_key;
	struct net_cert *cert;
	struct net_udp *udp;
	struct net_server *srv;
	int timer_fd;
	bool kick;               /* work queued from outside the loop pass */
	bool in_service;
	struct net_impair *imp_in, *imp_out;
	char impair_spec[NET_IMPAIR_SPEC_MAX + 1];
	uint64_t lost_after_ns;
	unsigned max_peers; /* net.max_peers */
	struct net_conn *conns;
	struct net_join *joins[NET_MAX_JOINS];
	unsigned n_joins;
	struct net_resolver *resolver; /* host names of joins, off the loop */
	/* tests only (THETAD_TEST_*): provoke refusals */
	uint16_t test_version;
	uint64_t test_schema_xor;
	bool test_bad_sig;
	uint64_t test_queue_fail, test_queued; /* the test_queue_fail-th frame queued fails as if out of memory */
	uint8_t txbuf[NET_QUIC_MAX_PKT * 32];
	uint64_t *m_refusals, *m_peers_lost, *m_joins, *m_rejoins, *m_join_unreachable, *m_entries_in, *m_entries_out;
	uint64_t *m_udp_drops, *m_protocol, *m_sync_ignored;
	uint64_t *m_refused[PROTO_SESS_ERR_MAX_ - 0x100 + 1];
	struct net_assets *assets; /* stores, counters (net_asset_io.c) */
	struct net_admin_req reqs[NET_ADMIN_REQ_MAX];
	uint32_t next_req_id;
	uint64_t *m_admin_applied, *m_admin_refused, *m_rejects_fwd, *m_rejects_delivered;
	uint64_t *m_send_failed;
	struct srv_hist *h_rtt;      /* every heartbeat RTT sample (metrics) */
	struct srv_hist *h_catchup;  /* host: how long each catch-up round took */
	struct net_hosted *hosted[NET_HOSTED_MAX];
	uint64_t *m_catchup_rounds, *m_catchup_entries, *m_sync_divergent, *m_cut_repaired;
	/* sessions whose recovery cut records a peer may send back */
	struct net_repair_slot {
		struct sess_session *s; /* compared only; cleared when repaired */
		struct net_repair r;
	} repairs[NET_REPAIR_MAX];
	unsigned n_repairs;
	uint64_t *m_backpressure; /* times a peer's entries waited for the log (net_backpressure) */
	uint64_t *m_member_leaves; /* member side: MEMBER_LEAVE announcements from the host */
	struct net_snaps *snaps;   /* late join: the snapshot channel, counters, member progress (net_snapshot_io.c) */
	struct net_voices *voice;  /* the voice channel, speaker tables, hooks (net_voice.c) */
	struct net_pres *pres;     /* the pres channel, relays and links, counters (net_pres.c) */
};

/* module.c: the metric that counts refusals with this code
 * (net_refused_<reason>); NULL outside the refusal codes. */
const char *net_refusal_metric_name(uint64_t code);
/* module.c: the host's address for a join attempt. 0 and the address (a
 * numeric host, or a lookup that finished); -EINPROGRESS: a lookup runs,
 * the join waits in NJ_RESOLVING and is attempted again when it ends; other
 * negative errno with one sentence in why (the name does not resolve, too
 * many lookups at once). Never blocks. */
int net_join_address(struct net_mod *nm, struct net_join *j, struct sockaddr_storage *ss, socklen_t *sl, char *why,
		     size_t whylen);
/* Control-command helpers: a string argument (NULL if absent or not a
 * string); the session args.session names (by id or unique name), else the
 * current one; NULL with one sentence in err. */
struct json_object;
const char *net_jarg(struct json_object *args, const char *k);
struct sess_session *net_pick(struct net_mod *nm, struct json_object *args, char *err, size_t errlen);

#define NET_OUR_CAPS (PROTO_SESS_CAP_DATAGRAMS | PROTO_SESS_CAP_VOICE | PROTO_SESS_CAP_ASSETS) /* offered / granted at most */

/* Shared by net_link.c (the glue) and net_link_join.c (the member side). */
struct net_conn *net_conn_new(struct net_mod *nm, bool incoming, uint64_t now);
void net_conn_unlink(struct net_mod *nm, struct net_conn *c);
int net_conn_open(struct net_conn *c, enum net_stream st);
void net_conn_send_msg(struct net_conn *c, enum net_stream st, const struct proto_sess_msg *m);
void net_conn_run(struct net_conn *c); /* executes the session layer's actions */
void net_join_attempt(struct net_mod *nm, struct net_join *j, uint64_t now);
void net_join_failed(struct net_join *j, uint64_t code, const char *desc, uint64_t now);
/* An ICMP error about a datagram to icmp->to (net_udp_recv_error): a join
 * still connecting there fails at once, with a sentence naming the
 * address; a first join (never admitted) for good, a rejoin to try again. */
struct net_udp_icmp;
void net_join_on_icmp(struct net_mod *nm, const struct net_udp_icmp *icmp, uint64_t now);
/* A joined session's link as the `sessions` row shows it: link_note (what
 * it is doing, one sentence), link_where (HOST:PORT, and the address when
 * it differs), link_answered (the host sent anything on this attempt),
 * link_attempt_s. */
void net_join_describe(const struct net_join *j, uint64_t now, struct json_object *row);
/* How long j's current connect attempt may take (NET_REJOIN_ATTEMPT_*). */
uint64_t net_join_attempt_limit(const struct net_join *j);
void net_joiner_on_joined(struct net_conn *c, const struct proto_sess_ack *a, uint64_t now);
void net_roster_set(struct net_conn *c, uint32_t peer_id, const uint8_t *key, uint8_t role);
void net_roster_drop(struct net_conn *c, uint32_t peer_id);
void net_joiner_on_admin_result(struct net_conn *c, const struct proto_sess_admin_result *a);
void net_joiner_on_rejected(struct net_conn *c, const struct proto_sess_rejected *r);

/* net_link.c */
extern const struct net_server_callbacks net_link_server_cb;
void net_link_service(struct net_mod *nm, uint64_t now_ns);   /* timers: heartbeats, joins, syncs */
uint64_t net_link_next(struct net_mod *nm);                    /* earliest deadline of the above */
int net_join_start(struct net_mod *nm, struct sess_session *s, struct net_join **out);
void net_join_leave(struct net_mod *nm, struct net_join *j);
struct net_join *net_join_of(struct net_mod *nm, struct sess_session *s);
void net_host_end(struct net_mod *nm, struct sess_session *s, uint64_t code);
int net_conn_close(struct net_conn *c, uint64_t code, const char *why, uint64_t now_ns);
void net_conn_free(struct net_conn *c);
int net_link_start(struct net_mod *nm); /* registers the built-in channels and their metrics */
void net_link_stop(struct net_mod *nm); /* after every connection is gone */
unsigned net_peers_of(struct net_mod *nm, struct sess_session *s);
/* sessions-module hooks */
void net_link_on_durable(struct net_mod *nm, struct sess_session *s, const struct clog_event *ev);
void net_link_on_flushed(struct net_mod *nm, struct sess_session *s);
/* s's log can take remote entries again (a group commit finished, or the
 * log was reopened): connections whose entries wait retry in the service pass. */
void net_link_on_log_room(struct net_mod *nm, struct sess_session *s);
/* Sends a ROLE / KICK decision for a member of a hosted session. */
void net_host_role_changed(struct net_mod *nm, struct sess_session *s, struct sess_member *mb);
void net_host_kick(struct net_mod *nm, struct sess_session *s, struct sess_member *mb);
/* Sets a member's role (un-kicks it), stores the table, tells everyone. */
int net_host_set_role(struct net_mod *nm, struct sess_session *s, struct sess_member *mb, uint8_t role);
/* Member side: sends ADMIN_REQ over s's link; *out is the request slot.
 * speaker: the key a MUTE / UNMUTE names (NULL: none, all zero). */
int net_admin_request(struct net_mod *nm, struct sess_session *s, uint8_t op, uint32_t peer_id, uint8_t role,
		      const uint8_t *speaker, struct net_admin_req **out);
/* The host-side state of hosted session s (pose owners), made when create. */
struct net_hosted *net_hosted_of(struct net_mod *nm, const struct sess_session *s, bool create);
/* The host refused an entry source sent (sessions-module hook). */
void net_link_on_rejected(struct net_mod *nm, struct sess_session *s, uint32_t source, const struct th_logrec_entry *e,
			  int reason);

/* For net_asset_io.c: queue bytes on a stream (bounded by
 * NET_CONN_PENDING_MAX), and whether the connection still carries traffic. */
void net_conn_send(struct net_conn *c, enum net_stream st, const uint8_t *p, size_t n);
bool net_conn_live(const struct net_conn *c);

/* net_asset_io.c: asset stores, transfers per connection, control commands */
int net_assets_start(struct net_mod *nm);
void net_assets_stop(struct net_mod *nm);
void net_assets_conn_active(struct net_conn *c, uint64_t now_ns); /* sends our LIST */
void net_assets_conn_free(struct net_conn *c);
/* One assets-stream payload: 0, -EBADMSG malformed, -EPROTO a violation. */
int net_assets_on_msg(struct net_conn *c, const uint8_t *p, size_t len, uint64_t now_ns);
void net_assets_service(struct net_conn *c, uint64_t now_ns);
uint64_t net_assets_next(struct net_conn *c, uint64_t now_ns);

/* net_snapshot_io.c: the verified late join (docs/network.md "Late join") */
int net_snaps_register(struct net_mod *nm); /* the snapshot channel and counters (net_link_start) */
void net_snaps_stop(struct net_mod *nm);
void net_snaps_conn_active(struct net_conn *c, uint64_t now_ns); /* member: asks for the host's checkpoint */
void net_snaps_conn_free(struct net_conn *c);
void net_snaps_service(struct net_conn *c, uint64_t now_ns);
uint64_t net_snaps_next(struct net_conn *c);
/* host: c's catch-up waits while its checkpoint transfer runs (bounded). */
bool net_snaps_hold(const struct net_conn *c, uint64_t now_ns);
/* `sessions`: "sync" (and "state": "syncing N%") of a member session. */
void net_snaps_describe(struct net_mod *nm, struct sess_session *s, struct json_object *row);
void net_snaps_session_gone(struct net_mod *nm, struct sess_session *s);

/* net_pres.c: presence between daemons (docs/presence.md "In the daemon") */
struct proto_ipc_presence;
int net_pres_register(struct net_mod *nm); /* the pres channel, counters, `presence` (net_link_start) */
void net_pres_stop(struct net_mod *nm);
void net_pres_configure(struct net_mod *nm); /* [presence] as loaded (start, reload) */
void net_pres_conn_active(struct net_conn *c); /* host: a receiver; member: a new link to the host */
void net_pres_conn_gone(struct net_conn *c);   /* host: the member's receiver and users go */
void net_pres_role(struct net_conn *c);        /* host: the member's role changed */
void net_pres_session_gone(struct net_mod *nm, const struct sess_session *s);
void net_pres_service(struct net_mod *nm, uint64_t now_ns); /* ticks due */
uint64_t net_pres_next(struct net_mod *nm);
/* Local clients (the sessions module's hooks): a pose part, a PRESENCE, the last one left. */
void net_pres_local_pose(struct net_mod *nm, struct sess_session *s, const uint8_t author[32],
			 const struct proto_ipc_pose_update *p);
void net_pres_local_presence(struct net_mod *nm, struct sess_session *s, const uint8_t author[32],
			     const struct proto_ipc_presence *p);
void net_pres_local_gone(struct net_mod *nm, struct sess_session *s, const uint8_t author[32]);
/* A local speaker's voice frame went out (speech: the detector heard speech in it). */
void net_pres_local_speech(struct net_mod *nm, struct sess_session *s, const uint8_t speaker[32], bool speech);
/* Host: whether member peer hears speaker (pres_relay_audible; true without a relay). */
bool net_pres_audible(struct net_mod *nm, struct sess_session *s, const uint8_t speaker[32], uint32_t peer);

/* net_voice.c: voice between daemons (docs/network.md "Voice"; net/module.h for the voice module) */
int net_voice_register(struct net_mod *nm); /* the voice channel and counters (net_link_start) */
void net_voice_stop(struct net_mod *nm);
void net_voice_conn_active(struct net_conn *c); /* names and mutes for a new member / our host */
void net_voice_session_gone(struct net_mod *nm, const struct sess_session *s);
void net_voice_on_name(struct net_conn *c, const struct proto_sess_voice_name *m);
void net_voice_on_mute(struct net_conn *c, const struct proto_sess_voice_mute *m);
int net_voice_host_mute(struct net_mod *nm, struct sess_session *s, const uint8_t *key, uint32_t peer, bool muted,
			unsigned *n);
struct net_voice_sess *net_voice_table(struct net_mod *nm, const struct sess_session *s); /* NULL: none yet */
bool net_voice_test_on(const struct net_mod *nm);
size_t net_voice_test_log(const struct net_mod *nm, uint64_t *total, const uint8_t **speaker, uint32_t *seq,
			  uint16_t *len, uint8_t *first, size_t i);
unsigned net_voice_test_raw(struct net_mod *nm, struct sess_session *s, const uint8_t *b, size_t n);
/* net_voice_ctl.c: mute / unmute and (tests) voice_test */
void net_voice_ctl_register(struct net_mod *nm);
/* net_invite.c: the control commands invite, invite_list, invite_revoke. */
void net_invite_ctl_register(struct net_mod *nm);
/* Host: an admin member's MUTE / UNMUTE (its role was checked); answers it
 * with res (ADMIN_RESULT). member_known: a peer_id it names is a member. */
void net_voice_admin_req(struct net_conn *c, const struct proto_sess_admin_req *a, struct proto_sess_msg *res,
			 bool member_known);

/* module.c */
void net_mod_kick(struct net_mod *nm); /* run a service pass soon */
/* PEER (a peer id or key fingerprint prefix) in a session this daemon hosts. */
struct sess_member *net_find_member(struct net_mod *nm, const char *peer, struct sess_session **sout, char *err,
				    size_t errlen);
/* On a member daemon: PEER among the members its host announced in the named
 * or current session; the peer id, or -ENOENT (with *sout NULL: not a member
 * session), -ENOTCONN. */
int net_find_remote_peer(struct net_mod *nm, struct json_object *args, const char *peer, struct sess_session **sout,
			 char *err, size_t errlen);
/* Whether str names key: "SHA256:..." of at least 15 characters or the part
 * after "SHA256:" of at least 8 (as kick's PEER). */
bool net_fpr_match(const uint8_t key[32], const char *str);
