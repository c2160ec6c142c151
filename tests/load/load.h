/* theta-load: one process that is N member daemons of one hosted session
 * (tests/load/README.md). Each member is a real QUIC connection from its
 * own UDP socket (thetad/net: net_udp, net_server/net_quic, net_sl for the
 * session layer, net_chan for the channels), with its own Ed25519 daemon
 * identity and one local user (its own key, which signs its log entries),
 * joined through an invite link the host made. One epoll loop drives all
 * of them.
 *
 * What a member sends: PRES frames at pres_hz (proto/pres.h over its user's
 * th_walk state, acking the host's frames), VOICE datagrams at voice_hz (a
 * real Opus packet train encoded once), a signed tool.state entry every
 * entry_s on the commands stream, SYNC when the session layer asks.
 * What it checks: the host's PRES frames decoded (proto/pres.h), per peer
 * the age of the newest pose (now - its t_ns: one machine, one
 * CLOCK_MONOTONIC), inter-arrival gaps, lost host frames; every author's
 * entries arriving whole and chained (nothing reliable lost).
 *
 * Files: theta_load.c (options, phases, JSON), load_member.c (a member's
 * connection: QUIC callbacks, channels, the session layer's actions),
 * load_traffic.c (presence, voice, entries), load_stats.c (figures). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "invite.h"
#include "net/net_chan.h"
#include "net/net_server.h"
#include "net/net_sl.h"
#include "net/net_udp.h"
#include "pres.h"
#include "th_hist.h"
#include "th_logrec.h"
#include "th_walk.h"

#define LOAD_MEMBERS_MAX 128u          /* members one process plays */
#define LOAD_LINKS_MAX LOAD_MEMBERS_MAX
#define LOAD_HANDSHAKES_MAX 8u         /* connections in their handshake at once (the host takes 16) */
#define LOAD_CONNECT_TIMEOUT_NS (60ull * 1000000000ull) /* every member active by then, or the run fails */
#define LOAD_REJOIN_MAX 3u             /* new connections a member may open after its first ended */
#define LOAD_OWN_ENTRIES_MAX 4096u     /* entries one member keeps to send again (a SYNC says the host lacks them) */
#define LOAD_AUTHORS_MAX (2u * LOAD_MEMBERS_MAX) /* authors one member follows */
#define LOAD_VOICE_PKTS 50u            /* Opus packets encoded once (1 s at 20 ms) and sent round */
#define LOAD_VOICE_FRAME_SAMPLES 960u  /* 20 ms at 48 kHz */
#define LOAD_GAP_NS (250ull * 1000000ull) /* a peer unheard this long while it is heard at all: a gap */
#define LOAD_FAR_M 400.0f              /* how far --far members are moved away from everyone (x, metres) */
/* What one datagram costs on the wire beyond its payload, on IPv4: IP 20 +
 * UDP 8 + QUIC short header (1 + NET_QUIC_CID_LEN + a 4-byte packet number)
 * + the AEAD tag 16 + the DATAGRAM frame's type and length (1 + 2). The
 * figures count it once per PRES datagram, and once per pose for the raw
 * baseline (one datagram per pose, as before issue 16). */
#define LOAD_DGRAM_OVERHEAD (20u + 8u + 1u + NET_QUIC_CID_LEN + 4u + 16u + 3u)

/* The channels of a member's connection (indices; streams in id order). */
enum { LOAD_CH_CONTROL = NET_SL_CONTROL, LOAD_CH_COMMANDS = NET_SL_COMMANDS, LOAD_CH_HEARTBEAT, LOAD_CH_PRES,
       LOAD_CH_VOICE, LOAD_CH_N };

struct load_opts {
	unsigned n;             /* members */
	unsigned far;           /* the last `far` members stand LOAD_FAR_M away from the others */
	double seconds;         /* measured window */
	double warmup_s;        /* after every member is active, before the window */
	double drain_s;         /* after the window, at most this long for entries still travelling */
	float spread_m;         /* th_walk's spread */
	uint64_t seed;
	unsigned pres_hz, voice_hz;
	unsigned voice_pct;     /* percentage of members that speak (0..100) */
	double entry_s;         /* one entry per member about this often (0: none) */
	int host_pid;           /* > 0: the host's CPU and RSS from /proc */
	const char *links[LOAD_LINKS_MAX];
	unsigned n_links;
	const char *json_path;  /* NULL: stdout */
	bool verbose;
};

/* What one member knows of one author's chain (its own or another's). */
struct load_chain {
	uint8_t key[32];
	struct th_logrec_chain c;
	uint64_t dups, gaps, bad;
};

/* One of the member's own entries, kept to send again. */
struct load_own {
	struct th_logrec_entry e;
	uint8_t payload[48];
};

/* What a member hears of one peer's user. */
struct load_peer {
	uint64_t updates, poses;  /* records / pose parts, in the window */
	uint64_t last_rx_ns;      /* any time */
	uint64_t max_gap_ns, gaps;
};

enum load_mstate { LM_IDLE, LM_CONNECTING, LM_HELLO, LM_ACTIVE, LM_ENDED, LM_LEFT };

struct load;

struct load_member {
	struct load *L;
	unsigned i;
	enum load_mstate st;
	unsigned joins, connects;
	bool active_end;          /* active when the window ended */
	uint64_t ended_ns;        /* when its connection ended (a rejoin waits a little) */
	struct net_udp *udp;
	struct net_server *srv;
	struct net_quic *q;
	struct net_sl *sl;
	struct net_chan ch[LOAD_CH_N];
	bool chans_init;
	struct th_keypair daemon, user;
	const struct proto_invite_link *link;
	uint32_t peer_id;
	uint8_t role;
	uint64_t close_code;
	char end_why[160];
	bool in_run;
	/* presence */
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	uint64_t next_pres_ns, next_voice_ns, next_entry_ns, next_due_ns;
	uint64_t pres_frames_out, pres_bytes_out, pres_frames_in, pres_bytes_in, pres_refused, pres_seq_gaps;
	uint64_t last_host_seq;
	uint64_t poses_out;
	struct load_peer *peers;  /* [L->o.n] */
	/* voice */
	bool speaks;
	uint32_t voice_seq;
	uint64_t voice_out, voice_in;
	/* the log */
	struct load_chain authors[LOAD_AUTHORS_MAX];
	unsigned n_authors;
	struct load_own *own;     /* [LOAD_OWN_ENTRIES_MAX] */
	unsigned n_own;
	uint64_t lamport;         /* highest seen */
	uint64_t entries_in, rejected, resent;
	uint64_t syncs_out;
};

/* Figures of the whole run. */
struct load_stats {
	struct th_hist age;       /* ns, every pose record in the window */
	uint64_t win_start_ns, win_end_ns;
	uint64_t pres_bytes_in, pres_dgrams_in, poses_in, records_in; /* in the window */
	uint64_t gen_cpu0_ns, gen_cpu1_ns;
	uint64_t host_cpu0_ticks, host_cpu1_ticks;
	uint64_t host_rss_warm_kb, host_rss_end_kb, host_rss_max_kb;
	uint64_t next_rss_ns;
};

struct load {
	struct load_opts o;
	int epfd, tfd;
	struct net_cert *cert;     /* the members' servers present it (they accept nobody) */
	struct net_chans chans;
	struct proto_invite_link links[LOAD_LINKS_MAX];
	struct load_member m[LOAD_MEMBERS_MAX];
	struct th_walk walk;
	uint64_t walk_ns;
	uint64_t t0_ns, wall_off_ns;
	bool in_window, making_entries;
	/* voice */
	uint8_t voice[LOAD_VOICE_PKTS][PROTO_SESS_VOICE_OPUS_MAX];
	uint16_t voice_len[LOAD_VOICE_PKTS];
	/* key -> member index (users' keys), open addressing */
	int32_t key_ix[4 * LOAD_MEMBERS_MAX];
	struct load_stats s;
	unsigned glue_errors;
	char glue_what[200];
};

/* load_member.c */
int load_chans_register(struct load *L);
int load_member_connect(struct load_member *m, uint64_t now);
void load_member_service(struct load_member *m, uint64_t now);
void load_member_readable(struct load_member *m, uint64_t now);
void load_member_flush(struct load_member *m, uint64_t now);
void load_member_run(struct load_member *m, uint64_t now);
void load_member_send_stream(struct load_member *m, unsigned chan, const uint8_t *p, size_t n);
bool load_member_dgram(struct load_member *m, unsigned chan, const uint8_t *p, size_t n);
void load_member_leave(struct load_member *m, uint64_t now);
void load_member_free(struct load_member *m);
void load_glue_fail(struct load *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* load_traffic.c */
int load_voice_prepare(struct load *L);
void load_keys_index(struct load *L);
int load_member_find(const struct load *L, const uint8_t key[32]);
int load_traffic_init(struct load_member *m);
void load_traffic_fini(struct load_member *m);
void load_traffic_joined(struct load_member *m, uint64_t now);
void load_traffic_due(struct load_member *m, uint64_t now);
uint64_t load_traffic_next(const struct load_member *m);
int load_on_pres(void *conn, const uint8_t *msg, size_t len, uint64_t now);
int load_on_voice(void *conn, const uint8_t *msg, size_t len, uint64_t now);
void load_on_entries(struct load_member *m, const uint8_t *recs, size_t len, uint32_t count);
void load_on_sync_due(struct load_member *m);
void load_on_sync(struct load_member *m, const struct proto_sess_sync *v);
/* Entries author k made that member m holds in its chain of k: the
 * chain's seq (0 when it has none). */
uint64_t load_member_holds(const struct load_member *m, const uint8_t key[32]);

/* load_stats.c */
uint64_t load_cpu_self_ns(void);
int load_proc_cpu_ticks(int pid, uint64_t *ticks);
int load_proc_rss_kb(int pid, uint64_t *kb);
void load_window_begin(struct load *L, uint64_t now);
void load_window_end(struct load *L, uint64_t now);
void load_sample_rss(struct load *L, uint64_t now);
/* Writes the run's JSON document (tests/load/README.md) to f; returns
 * whether every check the run makes held (all members active, nothing
 * reliable lost, no glue error). */
bool load_report(struct load *L, FILE *f, bool completed);
