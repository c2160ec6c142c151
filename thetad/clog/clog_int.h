/* Internals shared by clog.c (storage, flush, recovery, catch-up) and
 * clog_admit.c (registry, roles, guards, conflicts, remote verification).
 * Only thetad/clog/ includes this. */
#pragma once
#include <sodium.h>

#include "clog/clog.h"
#include "th_buf.h"

struct clog_author {
	uint8_t pk[TH_LOGREC_KEY_LEN];
	struct th_logrec_chain chain; /* includes queued entries */
	uint64_t req_seq;             /* last client request number (local) */
	uint64_t tokens_milli;        /* token bucket, thousandths of a command */
	uint64_t tokens_ns;           /* when the bucket was last refilled */
	uint64_t sign_mark;           /* flush: batch in which it was last signed */
	bool has_sk;
	uint8_t sk[TH_LOGREC_SECKEY_LEN];
	uint64_t durable_seq;         /* last seq known durable (recovered or flushed) */
	uint8_t durable_hash[TH_LOGREC_HASH_LEN]; /* hash of entry durable_seq */
	/* Position of each durable entry: spos[seq - 1] (chains start at 1
	 * with no gaps, so durable_seq entries are filled). */
	uint64_t *spos;
	uint64_t spcap;
	/* Request ids of its latest entries (clog_dedupe.c): a ring, oldest at
	 * req_head, grown up to CLOG_DEDUPE_WINDOW; never wraps before full. */
	struct clog_req *reqs;
	uint32_t req_head, req_count, req_cap;
};

/* One remembered request id and the entry it produced. */
struct clog_req {
	uint64_t req;
	uint64_t lamport;
	uint64_t seq;
};

/* Request-id table slot: (author, req) -> position in the author's ring. */
struct clog_rslot {
	uint64_t req; /* 0: empty (0 is never indexed) */
	uint32_t author;
	uint32_t pos;
};

/* A resubmit joined to a queued entry: told when that entry is. */
struct clog_waiter {
	uint64_t seq;
	uint32_t author;
	uint32_t source;
	void (*done)(void *ctx, int status, const struct clog_id *id);
	void *ctx;
};

/* A queued entry: its body lives in clog.pbuf at body_off. */
struct clog_pend {
	struct th_logrec_entry e; /* e.payload fixed up from pbuf when used */
	size_t body_off;
	uint32_t author;
	uint32_t source;
	uint8_t hash[TH_LOGREC_HASH_LEN];
	uint8_t apply;
	bool remote;
	void (*done)(void *ctx, int status, const struct clog_id *id);
	void *ctx;
};

/* Catch-up index, sorted by (lamport, author key). */
struct clog_ix {
	uint64_t lamport;
	uint32_t author;
	uint32_t seg; /* position in clog.segs */
	uint32_t off;
	uint32_t len;
};

/* Append-order index: position -> where the record lies (12 bytes). */
struct clog_pix {
	uint32_t seg; /* position in clog.segs */
	uint32_t off;
	uint32_t len;
};

/* An author named in one clog_integrate_remote call. Unknown ones get no
 * struct clog_author until a signature of theirs verified and their group
 * passed every check. */
struct clog_rauth {
	int32_t ai;        /* index in clog.authors, -1 while not admitted */
	int32_t e0;        /* an entry of the call carrying its key */
	int32_t last;      /* pass 1: its latest entry so far */
	int16_t first_why; /* report: the reason of its first refusal, -1 none */
	const char *first_detail; /* and its clog_reject_detail() */
};

struct clog_seg {
	uint64_t index;
	int fd; /* read-only, opened on first use; -1 when closed */
};

/* Conflict key: (type, scope kind, scope id) -> latest entry on it. */
struct clog_scope {
	uint64_t scope_id;
	uint64_t lamport; /* 0: empty slot */
	uint32_t author;
	uint16_t type;
	uint8_t kind;
};

struct clog_srcslot {
	uint32_t source;
	uint32_t pending; /* 0 with used: free for reuse after flush */
	bool used;
};

/* A unit of work for the worker (clog_worker.c): run() does the I/O on a
 * worker thread and touches only the job; finish() runs on the loop thread
 * from clog_worker_poll() (or from whoever waited for the job). */
enum { CLOG_JOB_IDLE, CLOG_JOB_QUEUED, CLOG_JOB_RUNNING, CLOG_JOB_DONE };
struct clog_job {
	struct clog_job *next;
	void (*run)(struct clog_job *j);
	void (*finish)(struct clog_job *j);
	int state; /* guarded by the worker's lock */
};

/* One group commit: what the worker writes, and what it reports. */
struct clog_commit {
	struct clog_job job;
	struct clog *c;
	/* In: */
	int fd;              /* the active segment; ignored when rotating */
	uint64_t off;        /* where the batch goes */
	const uint8_t *data; /* clog.wbuf, untouched while in flight */
	size_t len;
	bool rotate;         /* create segment new_index first, write there */
	uint64_t new_index;
	const char *dir;
	/* Out: */
	int new_fd;          /* the created segment, read-write; -1 */
	int result;          /* 0 or negative errno */
	/* Loop side: */
	size_t n;            /* entries of clog.pend in the batch */
	uint64_t batch;
};

/* One group of remote entries verified on the worker (clog_verify.c),
 * part by part: run() hashes the part's entries and checks the signatures
 * among them, touching only the part (ents[first .. first + count), buf,
 * hash and sig there). */
enum { CLOG_V_FREE, CLOG_V_RUNNING, CLOG_V_PART, CLOG_V_DONE };
struct clog_verify {
	struct clog_job job;
	struct clog *c;
	int state;            /* RUNNING: a part is with the worker; PART: it
			       * came back, more to copy; DONE: all verified */
	uint32_t source;
	size_t n;             /* entries of the group */
	size_t first, count;  /* the part last handed to the worker */
	uint64_t unclaimed_ns;/* PART / DONE: when another source first wanted
			       * the slot (0: not yet) */
	struct th_logrec_entry *ents; /* the group's fixed fields and signatures */
	uint8_t *buf;         /* the part's payloads, CLOG_VERIFY_BYTES_MAX */
	uint8_t (*hash)[TH_LOGREC_HASH_LEN]; /* per entry of the group */
	int8_t *sig;          /* per entry: 0 unsigned or not checked, 1 good, -1 bad */
	int8_t *valid;        /* per entry: the payload check (struct clog_pre) */
	const char **vdetail;
	clog_validate_fn validate; /* clog_config.validate, pure: run on the thread */
	uint8_t *cut;         /* per entry: 1 when every author's last entry up to
			       * it is signed (admission may stop after it) */
	uint32_t checked;     /* signatures the part checked (run) */
	/* run: the group's authors whose latest entry so far is unsigned
	 * (2 * CLOG_REMOTE_BATCH_MAX slots, keyed by hkey) */
	struct clog_vopen { uint32_t e1; bool open; } *open;
	uint32_t nopen;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	bool yield;           /* a job that only brings the next admission slice
			       * back through the fd */
	size_t admitted;      /* DONE: entries admitted so far */
	int accepted;         /* and queued of them */
};

struct clog {
	char *dir;
	struct clog_config cfg;
	struct clog_callbacks cb;
	void *user;
	int failed; /* negative errno once a write or sync failed */
	uint8_t hkey[crypto_shorthash_KEYBYTES];

	struct clog_author *authors;
	uint32_t nauthors, acap;
	uint32_t *aslots; /* author index + 1 */
	uint32_t naslots;

	struct clog_scope *scopes;
	uint32_t nscopes, nsslots;

	struct clog_srcslot *srcs; /* CLOG_SOURCES_MAX slots, open addressing */

	struct clog_rslot *rslots; /* request ids of every author, linear probing */
	uint32_t nrslots, nreqs;
	struct clog_waiter *waiters;
	uint32_t nwaiters, wcap;

	struct clog_pend *pend;
	size_t npend, pcap;
	struct th_wbuf pbuf; /* queued bodies */
	uint64_t pending_bytes;

	struct th_wbuf wbuf; /* flush: the batch's records */
	struct clog_worker *worker; /* NULL: flush writes and syncs in the call */
	struct clog_commit commit;  /* the batch in flight */
	bool inflight;              /* commit is with the worker */
	bool closing;               /* clog_close: start no new batch */

	struct clog_ix *ix;
	size_t nix, ixcap;

	struct clog_pix *pix; /* one per durable entry, by position */
	uint64_t npix, pixcap;
	struct clog_cursor *cursors; /* open cursors (detached by close) */

	struct clog_seg *segs;
	size_t nsegs, segcap;
	int wfd;           /* active (last) segment, read-write */
	uint64_t wsize;    /* its size */
	uint64_t last_batch;
	uint64_t lamport;

	/* integrate_remote scratch, CLOG_REMOTE_BATCH_MAX each */
	uint8_t (*r_hash)[TH_LOGREC_HASH_LEN];
	int32_t *r_author; /* the entry's slot in r_slots */
	int32_t *r_next, *r_cover;
	struct clog_rauth *r_slots; /* the call's distinct authors */
	uint32_t *r_ht;             /* 2 * CLOG_REMOTE_BATCH_MAX: slot + 1 by key */
	int8_t *r_sig;  /* 0 unknown, 1 good, -1 bad */
	struct clog_verify *verify[CLOG_VERIFY_JOBS_MAX]; /* allocated when first used */
	bool verify_starved; /* a source found every verify slot busy */
	uint8_t *r_why; /* 0 pending, else reason; 255 accepted */
	const char **r_detail; /* the validate hook's text where r_why is CLOG_R_INVALID */
	const char *detail;    /* clog_reject_detail() */

	struct clog_stats st;
};

/* clog_admit.c */
/* Keyed SipHash (the log's random key: peers cannot aim at one bucket). */
uint32_t clog_hash(const struct clog *c, const void *p, size_t n);
/* The author's entry, created when new (NULL past CLOG_AUTHORS_MAX). */
struct clog_author *clog_author_get(struct clog *c, const uint8_t *pk, uint32_t *idx);
/* Lookup only: NULL when the author has no entry here. */
struct clog_author *clog_author_find(struct clog *c, const uint8_t *pk, uint32_t *idx);
struct clog_scope *clog_scope_find(struct clog *c, uint16_t type, uint8_t kind, uint64_t id);
/* Records an accepted entry as the latest on its key when it is. 0 or -ENOMEM. */
int clog_scope_note(struct clog *c, uint16_t type, uint8_t kind, uint64_t id, uint64_t lamport, uint32_t author);
int clog_id_cmp(const struct clog *c, uint64_t la, uint32_t aa, uint64_t lb, uint32_t ab);
/* Room for n more queued entries with body_bytes of bodies, so that
 * clog_queue cannot fail for them (all-or-nothing groups). 0 or -ENOMEM. */
int clog_queue_room(struct clog *c, size_t n, size_t body_bytes);

/* What the verify thread computed from exactly the entries of a call
 * (clog_verify.c), one element per entry. */
struct clog_pre {
	const uint8_t (*hash)[TH_LOGREC_HASH_LEN];
	const int8_t *sig;         /* 1 good, -1 bad (every entry with has_sig) */
	const int8_t *valid;       /* clog_config.validate: 1 passed, -1 refused, 0 not run */
	const char *const *detail; /* its text where valid is -1 */
};
/* Admits remote entries (clog_integrate_remote); pre: NULL, or what the
 * verify thread computed for them. */
int clog_admit_remote(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
		      uint64_t now_ns, const struct clog_pre *pre);

/* clog_verify.c */
/* Waits for the verifications in flight and frees every slot (close,
 * reopen): no on_verified after. */
void clog_verify_free(struct clog *c);

/* clog_dedupe.c */
/* Room to remember one more request id of author ai without allocating
 * in clog_req_note. 0 or -ENOMEM. */
int clog_req_reserve(struct clog *c, uint32_t ai);
/* Remembers (req -> lamport, seq) for author ai (req != 0, after a
 * successful clog_req_reserve), forgetting its oldest past the window. */
void clog_req_note(struct clog *c, uint32_t ai, uint64_t req, uint64_t lamport, uint64_t seq);
const struct clog_req *clog_req_find(const struct clog *c, uint32_t ai, uint64_t req);
/* Attaches a resubmit to the queued entry (ai, seq). 0, -EAGAIN (bounds),
 * -ENOMEM. */
int clog_waiter_add(struct clog *c, uint32_t ai, uint64_t seq, uint32_t source,
		    void (*done)(void *, int, const struct clog_id *), void *ctx);
/* Tells the waiters of entry (ai, seq) its outcome and drops them. */
void clog_waiters_fire(struct clog *c, uint32_t ai, uint64_t seq, int status, const struct clog_id *id);
/* Frees the index (clog_free). */
void clog_dedupe_free(struct clog *c);

/* clog.c */
/* Appends a checked entry (body encoded from e) to the queue. */
int clog_queue(struct clog *c, const struct th_logrec_entry *e, const uint8_t hash[TH_LOGREC_HASH_LEN],
	       uint32_t author, uint32_t source, uint8_t apply, bool remote,
	       void (*done)(void *, int, const struct clog_id *), void *ctx);
uint32_t *clog_source_pending(struct clog *c, uint32_t source, bool create);
/* Read-only descriptor of segment s (opened on first use). */
int clog_seg_fd(struct clog *c, uint32_t s);

/* clog_worker.c */
/* The worker's threads, one queue each. */
enum clog_wq { CLOG_WQ_COMMIT, CLOG_WQ_READ, CLOG_WQ_VERIFY, CLOG_WQ_COUNT };
/* Queues j on thread q. */
void clog_worker_submit(struct clog_worker *w, struct clog_job *j, enum clog_wq q);
/* Blocks until j (submitted) finished and takes it off the done list:
 * clog_worker_poll() will not run it; the caller runs j->finish. */
void clog_worker_wait(struct clog_worker *w, struct clog_job *j);

/* clog_cursor.c */
/* Detaches every open cursor (clog_close): their next() fails after. */
void clog_cursors_detach(struct clog *c);
