/* The signed, durable command log of one session (thetad). See
 * thetad/clog/README.md and docs/command-log.md.
 *
 * Flow: the event loop hands commands in with clog_submit_local() (a local
 * user's command; the log signs it with that user's key) or
 * clog_integrate_remote() (entries authored and signed elsewhere). Both check
 * the registry, roles, guards and conflicts at once and either queue the
 * entry, returning its id, or refuse it with a reason. clog_flush() writes
 * everything queued as one batch, fdatasyncs once, and only then reports
 * each entry durable (done callback, on_durable). With a clog_worker the
 * write and fdatasync (and cursor reads) run on its threads and the
 * results come back on the caller's thread through clog_worker_poll();
 * the log itself is single-threaded. Nothing here reads a clock: every
 * call that needs time takes now_ns.
 *
 * Exactly once: a local command may carry a request id (clog_submit.req,
 * stored in the entry). A submit whose id is among the author's last
 * CLOG_DEDUPE_WINDOW ids gets the existing entry's id instead of a new
 * entry (CLOG_SUBMIT_DUPLICATE when durable, CLOG_SUBMIT_JOINED when still
 * queued); recovery rebuilds the index from the files.
 *
 * Durability contract: a done(status 0) or on_durable for an entry happens
 * only after the batch holding it reached stable storage. After a write or
 * sync failure the log refuses all further work (-EIO); the owner closes and
 * reopens it, and recovery decides from the files what survived. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_cmd.h"
#include "th_logfile.h"
#include "th_logrec.h"

/* Defaults (struct clog_config fields left 0). Documented in
 * docs/command-log.md; every one bounds something a client or peer controls. */
#define CLOG_SEGMENT_BYTES_DEFAULT (64ull << 20) /* rotate segments at 64 MiB */
#define CLOG_RATE_PER_S_DEFAULT 200u             /* commands per second per author */
#define CLOG_RATE_BURST_DEFAULT 1000u            /* token bucket depth per author */
#define CLOG_PENDING_PER_SOURCE_DEFAULT 1024u    /* queued, not yet durable, per source */
#define CLOG_PENDING_MAX 65536u                  /* queued entries, all sources */
#define CLOG_PENDING_BYTES_MAX (64u << 20)       /* queued record bytes, all sources */
#define CLOG_AUTHORS_MAX 65536u                  /* distinct authors per session */
#define CLOG_SOURCES_MAX 4096u                   /* distinct sources with queued entries */
#define CLOG_REMOTE_BATCH_MAX 4096u              /* entries per clog_integrate_remote call */
#define CLOG_LAMPORT_SKEW_MAX (1ull << 32)       /* a remote lamport at most this far ahead */
#define CLOG_SCOPES_MAX (1u << 24)               /* conflict-tracked (type, scope) keys */
/* Exactly once: request ids (struct clog_submit.req) remembered per author,
 * its latest entries that carry one (durable or queued). A resend whose
 * original is among them is answered with the original's id. 4096 covers
 * theta-client's whole resend queue (LINK_MAX_PENDING_CMDS, 1024) four
 * times over: a resend is recognised while fewer than 4096 later entries
 * of the same user (all its clients together) were logged in between. */
#define CLOG_DEDUPE_WINDOW 4096u
/* Remote entries verified on the worker (clog_integrate_remote_async): one
 * part of a group copied for the verify thread holds at most this many
 * payload bytes (a larger group is verified part by part, one part per
 * call), so a call copies at most this much on the loop. */
#define CLOG_VERIFY_BYTES_MAX (1u << 20)
/* A verified group is admitted at most this many entries per call (whole
 * signature groups: one larger than this goes in one call), so the loop's
 * work per wake-up stays bounded; the rest follows after on_verified. */
#define CLOG_ADMIT_PER_CALL 256u
/* Groups being verified or verified and not yet taken, per log (one per
 * source at a time). */
#define CLOG_VERIFY_JOBS_MAX 4u
/* A verified group whose source did not come back for it within this long
 * after another source wanted its slot is dropped (that source's next call
 * verifies it again). */
#define CLOG_VERIFY_CLAIM_NS 1000000000ull

/* Why an entry was refused. Counted per reason (clog_stats.rejected). */
enum clog_reason {
	CLOG_OK = 0,
	CLOG_R_UNKNOWN_TYPE, /* not in schemas/commands.def */
	CLOG_R_SCOPE,        /* scope kind or id wrong for the type */
	CLOG_R_PAYLOAD,      /* above the type's cap or the 64 KiB cap */
	CLOG_R_MALFORMED,    /* an entry field out of range */
	CLOG_R_ROLE,         /* author's role below the type's */
	CLOG_R_REPLAY,       /* sequence number at or below the author's last */
	CLOG_R_RATE,         /* author's token bucket empty */
	CLOG_R_PENDING,      /* source (or the whole log) has too much queued */
	CLOG_R_CONFLICT,     /* reject-strategy type, concurrent entry on the scope */
	CLOG_R_BAD_SIGNATURE,
	CLOG_R_UNSIGNED,     /* no signature in the batch covers the entry */
	CLOG_R_CHAIN,        /* prev link or sequence gap */
	CLOG_R_ORDER,        /* lamport not above the author's previous */
	CLOG_R_SKEW,         /* lamport implausibly far ahead */
	CLOG_R_AUTHORS,      /* too many authors */
	CLOG_R_GROUP,        /* another entry its signature vouches for was refused */
	CLOG_R_FAILED,       /* the log had an I/O failure and must be reopened */
	CLOG_R_INVALID,      /* payload refused by clog_config.validate */
	CLOG_R_COUNT
};
const char *clog_reason_str(int reason);

/* How an accepted entry relates to what was already there. */
enum clog_apply {
	CLOG_APPLY = 0,       /* no concurrent entry on its (type, scope) */
	CLOG_APPLY_LWW,       /* concurrent; it is the latest (wins) */
	CLOG_APPLY_SUPERSEDED,/* concurrent; a later entry already wins (LWW) */
	CLOG_APPLY_MERGED,    /* concurrent; both apply (merge) */
};

struct clog_id {
	uint64_t lamport;
	uint8_t author[TH_LOGREC_KEY_LEN];
	uint64_t seq;
};

/* A durable entry, as reported to the owner. */
struct clog_event {
	const struct th_logrec_entry *entry;
	const uint8_t *hash; /* entry hash */
	uint32_t source;     /* who handed it in */
	uint8_t apply;       /* enum clog_apply */
	bool remote;
	uint64_t pos;        /* the entry's durable position: 0-based append index in
			      * this log, survives restarts (recovery rebuilds it) */
};

struct clog_callbacks {
	/* Every entry (local or remote) once durable, in log order. */
	void (*on_durable)(void *user, const struct clog_event *ev);
	/* A remote entry was refused (local refusals are returned directly). */
	void (*on_reject)(void *user, uint32_t source, const struct th_logrec_entry *e, int reason);
	/* Role of a remote author in this session (enum th_role); NULL: none. */
	int (*role_of)(void *user, const uint8_t author[TH_LOGREC_KEY_LEN]);
	/* A batch of n entries became durable and all its on_durable / done
	 * callbacks ran (one group commit: every author's signature of the
	 * batch is in it). Optional. */
	void (*on_batch)(void *user, size_t n);
	/* clog_integrate_remote_async: a verification of source's group made
	 * progress on the worker, or a verification slot came free: a call
	 * that answered -EINPROGRESS may now get further (call again from
	 * the loop, not inside this callback). Optional. */
	void (*on_verified)(void *user, uint32_t source);
};

/* The I/O worker: threads that run group commits (write + fdatasync,
 * segment creation) and cursor reads off the event loop. One serves any
 * number of logs (clog_config.worker); it reports finished work through an
 * eventfd that the owner's loop polls, and every completion (acks,
 * on_durable, on_batch, cursor ready) runs on the loop thread inside
 * clog_worker_poll(). Commits and reads have a thread each, so a catch-up
 * read never waits behind an fdatasync or delays one. */
struct clog_worker;
int clog_worker_create(struct clog_worker **out);
/* Every log using it must be closed first. */
void clog_worker_destroy(struct clog_worker **w);
/* Readable (EPOLLIN) when finished work waits for clog_worker_poll(). */
int clog_worker_fd(const struct clog_worker *w);
/* Runs the completions of the work finished so far, in the order it
 * finished (per log: batches in order). Returns how many, or a negative
 * errno from reading the fd. */
int clog_worker_poll(struct clog_worker *w);

/* A payload check (th_cmd_payload_check has this shape): 0 when the
 * payload is well formed for the command type, a negative errno when not,
 * with *why set to a static text saying what is wrong. A pure function of
 * its arguments, safe on any thread: clog_integrate_remote_async runs it
 * on the worker's verify thread. */
typedef int (*clog_validate_fn)(uint16_t type, const uint8_t *payload, size_t len, const char **why);

struct clog_config {
	uint64_t segment_bytes;      /* 0: CLOG_SEGMENT_BYTES_DEFAULT */
	uint32_t rate_per_s;         /* 0: CLOG_RATE_PER_S_DEFAULT */
	uint32_t rate_burst;         /* 0: CLOG_RATE_BURST_DEFAULT */
	uint32_t pending_per_source; /* 0: CLOG_PENDING_PER_SOURCE_DEFAULT */
	bool sign_each;              /* sign every entry, not once per author and batch */
	struct clog_worker *worker;  /* NULL: clog_flush writes and syncs in the call */
	uint32_t authors_max;        /* remote authors admitted while the log holds fewer
				      * authors than this; 0 (or above): CLOG_AUTHORS_MAX */
	clog_validate_fn validate;   /* every entry's payload, local and remote, once its
				      * type and cap passed (CLOG_R_INVALID); NULL: payloads
				      * are only capped, not decoded */
};

/* A local user's command. */
struct clog_submit {
	uint32_t source;            /* connection it came from (pending bound) */
	uint8_t role;               /* the author's role in this session */
	const struct th_keypair *key; /* the author's keys (copied) */
	uint64_t req_seq;           /* daemon's request number, increasing per author */
	uint64_t req;               /* request id (entry field req), stable across
				     * resends of one command; 0: none, never deduplicated */
	uint16_t type;
	uint8_t scope_kind;
	uint64_t scope_id;
	uint64_t base;              /* lamport the client had integrated */
	uint64_t time_ns;           /* wall clock to record */
	const void *payload;
	uint32_t payload_len;
	/* Called once: status 0 when durable, negative errno when the log
	 * failed before it was. */
	void (*done)(void *ctx, int status, const struct clog_id *id);
	void *ctx;
};

/* What recovery found when opening. */
struct clog_recovery {
	uint64_t records, segments, authors, batches;
	uint64_t lamport;
	/* The final batch was damaged or torn and was cut (truncated). Locally
	 * the two cannot be told apart: a crash while it was written (never
	 * acknowledged) and a byte damaged after it was acknowledged leave the
	 * same picture. So the cut records MAY have been acknowledged: a
	 * replica that holds them is the only way back (the author chains say
	 * what they must hash to). */
	bool repaired;
	uint64_t cut_bytes;     /* bytes removed */
	uint64_t cut_segment, cut_offset;
	/* The cut range: the records that would have had positions cut_pos ..
	 * cut_pos + cut_records - 1 (cut_pos == records == clog_count() after
	 * the open, so entries appended now take those positions again). Per
	 * author (as far as the bytes could be trusted): the seqs that were
	 * cut; the author's durable head is now seq_first - 1. */
	uint64_t cut_pos;
	uint32_t cut_records;   /* records found in the cut bytes */
	uint32_t cut_damaged;   /* of which failed their CRC or did not decode */
	uint32_t cut_unknown;   /* of which the author/seq could not be read */
	uint32_t cut_nauthors;
	bool cut_authors_more;  /* more authors than TH_LOGSCAN_CUT_AUTHORS_MAX */
	struct th_logscan_cut_author cut_authors[TH_LOGSCAN_CUT_AUTHORS_MAX];
	/* clog_reopen only: the cut lies wholly past what this log had made
	 * durable, so it is the write that failed, and was never acknowledged. */
	bool cut_never_acked;
	/* When clog_open fails with -TH_ECORRUPT: the first bad record. */
	uint64_t bad_index, bad_segment, bad_offset;
	int bad_reason;         /* enum th_logrec_fault */
};

struct clog_stats {
	uint64_t lamport;
	uint64_t entries;         /* durable entries in the log */
	uint64_t appended_local, appended_remote;
	uint64_t batches, syncs, bytes_written, signatures, verifies;
	uint64_t pending, pending_bytes;
	uint64_t segments, authors;
	uint64_t rejected[CLOG_R_COUNT];
	uint64_t conflicts_lww, conflicts_merged, conflicts_rejected, superseded;
	uint64_t dup_durable;     /* resubmits answered with a durable entry's id */
	uint64_t dup_joined;      /* resubmits joined to a queued entry */
	uint64_t dedupe_ids;      /* request ids remembered (all authors) */
	uint64_t last_sync_ns;    /* duration of the last fdatasync, as measured by caller time */
};

struct clog;

/* Opens (creating when empty) the log in dir, recovering it: a damaged or
 * torn final batch is truncated (what it held is described in *rep: its
 * records may have been acknowledged); any other damage fails with
 * -TH_ECORRUPT and the first bad record in *rep. */
int clog_open(const char *dir, const struct clog_config *cfg, const struct clog_callbacks *cb, void *user,
	      struct clog **out, struct clog_recovery *rep);
/* Reopens the log in place after a failure (clog_error()): the batch in
 * flight ends as in clog_close, queued entries get done(-ECANCELED), open
 * cursors fail with -EPIPE, and recovery runs again on the files; c stays
 * the same pointer, so whoever holds it keeps a valid log. Fails with
 * clog_open's errors (*rep says why), leaving c failed (-EIO to all work)
 * but readable. */
int clog_reopen(struct clog *c, struct clog_recovery *rep);
/* One line (no newline) saying what recovery found and, when it cut the
 * last batch, which records and that they may have been acknowledged.
 * Returns its length (truncated to cap - 1). */
int clog_recovery_describe(const struct clog_recovery *r, char *out, size_t cap);
/* Closes. A batch in flight is waited for and completes as it ends
 * (durable: done(0) and on_durable; failed: done(-EIO)); queued entries
 * that were not flushed get done(-ECANCELED). */
void clog_close(struct clog **c);

/* What clog_submit_local did with a command it accepted (*id set). */
enum clog_submit_result {
	CLOG_SUBMIT_QUEUED = 0,    /* a new entry; done() once it is durable */
	CLOG_SUBMIT_JOINED = 1,    /* its request id names a queued entry: no new
				    * entry; done() with that entry's id once it is durable */
	CLOG_SUBMIT_DUPLICATE = 2, /* its request id names a durable entry: *id is
				    * that entry's; done() is not called */
};

/* Checks and queues a local command, assigning its id. A command whose
 * request id (s->req != 0) the author used for a remembered entry is
 * answered with that entry instead (JOINED, DUPLICATE above), before any
 * other guard: it was admitted once. Returns an enum clog_submit_result
 * and *id, or a negative errno and *why (enum clog_reason): -TH_EDENIED
 * (role), -EINVAL (type, scope), -EMSGSIZE (payload), -EALREADY (replay),
 * -EAGAIN (rate, pending), -ESTALE (conflict), -ENOSPC (authors), -EIO,
 * -EBADMSG (payload refused by clog_config.validate). */
int clog_submit_local(struct clog *c, const struct clog_submit *s, uint64_t now_ns, struct clog_id *id,
		      int *why);
/* The validate hook's text for the latest CLOG_R_INVALID refusal: after
 * clog_submit_local refused with it, and inside on_reject for the entry
 * reported (static text, or NULL for any other reason). */
const char *clog_reject_detail(const struct clog *c);

/* Checks and queues entries authored elsewhere (decoded with
 * th_logrec_decode, signatures attached). Each author's entries must be in
 * chain order, and each unsigned one covered by a later signed entry of its
 * author in the same call. Refused entries go to on_reject. Returns the
 * number queued, or -E2BIG / -EIO for the whole call. */
int clog_integrate_remote(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
			  uint64_t now_ns);

/* clog_integrate_remote with the expensive, pure part off the loop: with
 * a worker, the entry hashes and signature checks run on its verify thread
 * and the loop keeps only the cheap, ordered checks (chains, order, roles,
 * guards, conflicts) and the queueing. The first call for a group copies
 * it (at most CLOG_VERIFY_BYTES_MAX of payload per call: a larger group
 * goes part by part) and answers -EINPROGRESS: nothing was taken; call
 * again with the same entries, unchanged, after on_verified (an entry that
 * differs from the copy verified makes the call start over with the new
 * group). Once the
 * whole group is verified, the calls admit it as clog_integrate_remote
 * would (a forged signature refuses its whole group, on_reject for each
 * entry), at most CLOG_ADMIT_PER_CALL entries per call, cut between
 * signature groups (-EINPROGRESS while more remain; entries are queued as
 * they are admitted); the last one returns the number queued in all. One
 * group per source at a time (the caller keeps a source's later groups
 * until this one is taken, which keeps per-author chain order), at most
 * CLOG_VERIFY_JOBS_MAX sources at once (-EINPROGRESS too: call again
 * after an on_verified). A different group from a source whose group is
 * verified replaces it. Without a worker it is clog_integrate_remote.
 * Returns the number queued, -EINPROGRESS, or -E2BIG / -EIO / -ENOMEM
 * for the whole call. */
int clog_integrate_remote_async(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
				uint64_t now_ns);

/* Whether entries wait for clog_flush. */
bool clog_has_pending(const struct clog *c);
/* Group commit: all queued entries as one batch, one write, one fdatasync,
 * then the callbacks. Without a worker it happens in the call: returns the
 * number made durable, or a negative errno (the log is then failed: every
 * queued entry got done(-EIO)). With a worker it hands the batch over and
 * returns 0 at once (also when a batch is already in flight: entries queued
 * meanwhile form the next batch, which starts as soon as that one is
 * durable); the callbacks come from clog_worker_poll(), and a failure there
 * fails the log the same way (clog_error()). -EIO once failed. */
int clog_flush(struct clog *c, uint64_t now_ns);
/* Writes everything queued and waits for it, running the callbacks in this
 * call (shutdown, tests, and back-pressure when a queue bound is near).
 * Blocks the caller; 0 or -EIO. */
int clog_drain(struct clog *c);
/* 0, or the negative errno that failed the log (it must be reopened). */
int clog_error(const struct clog *c);
/* Whether a batch is with the worker. */
bool clog_busy(const struct clog *c);

/* Durable entries with lamport > since, in total order (lamport, author),
 * at most max (0: all); cb's negative return stops and is returned.
 * Returns the number delivered. */
int clog_entries_since(struct clog *c, uint64_t since, size_t max,
		       int (*cb)(void *user, const struct th_logrec_entry *e), void *user);

uint64_t clog_lamport(const struct clog *c);
void clog_get_stats(const struct clog *c, struct clog_stats *out);

/* ---- positions ------------------------------------------------------------
 * Every durable entry has a position: its 0-based index in append order in
 * this log (the order batches were written). Positions never change and
 * survive restarts; another daemon's log of the same session orders the
 * same entries differently (compare by per-author seq there). */

/* Durable entries = the next entry's position. */
uint64_t clog_count(const struct clog *c);
/* Last durable seq of the author and its entry hash (the chain head);
 * -ENOENT: no durable entry of that author. Either output may be NULL. */
int clog_author_head(const struct clog *c, const uint8_t key[32], uint64_t *seq, uint8_t hash[32]);
/* Position of that author's durable entry seq (>= 1); -ENOENT. */
int clog_pos_of(const struct clog *c, const uint8_t key[32], uint64_t seq, uint64_t *pos);
/* cb for every author with a durable entry (last durable seq, its hash),
 * in no particular order; cb's negative return stops and is returned. */
int clog_authors_each(const struct clog *c,
		      int (*cb)(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32]), void *user);

/* Read-ahead window of a cursor: one read brings in at most this many bytes
 * of consecutive records (at least one record), and a cursor holds one
 * window. */
#define CLOG_CURSOR_WINDOW (1u << 20)

struct clog_cursor;
/* A reader over durable entries in append order from position pos
 * (0 .. clog_count(c); -ERANGE above). ready(user) is called on the loop
 * thread (from the clog's poll) when a next() that returned -EAGAIN can make
 * progress; ready may be NULL when the log has no worker (next() never
 * returns -EAGAIN then). Close cursors before the log; a cursor outlives
 * clog_close only to be closed (next() returns -EPIPE). */
int clog_cursor_open(struct clog *c, uint64_t pos, void (*ready)(void *user), void *user,
		     struct clog_cursor **out);
/* 1: *pos and *e set (e's pointers valid until the next call or close); 0:
 * at the end of the durable log for now (call again after new entries);
 * -EAGAIN: being read ahead, wait for ready(); -TH_ECORRUPT: the record on
 * disk is damaged (the cursor stays on it); other negative errno: failure. */
int clog_cursor_next(struct clog_cursor *cur, uint64_t *pos, struct th_logrec_entry *e);
void clog_cursor_close(struct clog_cursor **cur);
