/* Admission: registry, roles, guards (replay, token bucket, payload cap,
 * pending bounds), conflict strategies, and verification of entries from
 * other daemons. Pure state-machine code: no I/O, time comes in as now_ns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog_int.h"
#include "th_err.h"

static const char *const clog_reason_text[CLOG_R_COUNT] = {
	[CLOG_OK] = "ok",
	[CLOG_R_UNKNOWN_TYPE] = "unknown command type",
	[CLOG_R_SCOPE] = "wrong scope for the command type",
	[CLOG_R_PAYLOAD] = "payload too large",
	[CLOG_R_MALFORMED] = "malformed entry",
	[CLOG_R_ROLE] = "role too low for the command",
	[CLOG_R_REPLAY] = "replayed sequence number",
	[CLOG_R_RATE] = "rate limit exceeded",
	[CLOG_R_PENDING] = "too many commands waiting",
	[CLOG_R_CONFLICT] = "conflicts with a concurrent edit",
	[CLOG_R_BAD_SIGNATURE] = "bad signature",
	[CLOG_R_UNSIGNED] = "not covered by a signature",
	[CLOG_R_CHAIN] = "broken hash chain",
	[CLOG_R_ORDER] = "lamport order violated",
	[CLOG_R_SKEW] = "lamport too far ahead",
	[CLOG_R_AUTHORS] = "too many authors",
	[CLOG_R_GROUP] = "refused with the entries its signature covers",
	[CLOG_R_FAILED] = "command log failed",
	[CLOG_R_INVALID] = "malformed payload",
};

const char *clog_reason_str(int r)
{
	return r >= 0 && r < CLOG_R_COUNT && clog_reason_text[r] ? clog_reason_text[r] : "unknown";
}

static int clog_reason_errno(int r)
{
	switch (r) {
	case CLOG_R_ROLE: return -TH_EDENIED;
	case CLOG_R_UNKNOWN_TYPE:
	case CLOG_R_SCOPE:
	case CLOG_R_MALFORMED: return -EINVAL;
	case CLOG_R_PAYLOAD: return -EMSGSIZE;
	case CLOG_R_REPLAY: return -EALREADY;
	case CLOG_R_RATE:
	case CLOG_R_PENDING: return -EAGAIN;
	case CLOG_R_CONFLICT: return -ESTALE;
	case CLOG_R_AUTHORS: return -ENOSPC;
	case CLOG_R_FAILED: return -EIO;
	case CLOG_R_INVALID: return -EBADMSG;
	}
	return -EBADMSG;
}

/* ---- tables ----------------------------------------------------------- */

uint32_t clog_hash(const struct clog *c, const void *p, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, p, n, c->hkey);
	return th_get_le32(h);
}

static int clog_aslots_grow(struct clog *c)
{
	uint32_t n = c->naslots ? c->naslots * 2 : 64;
	uint32_t *t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nauthors; i++) {
		uint32_t h = clog_hash(c, c->authors[i].pk, TH_LOGREC_KEY_LEN) & (n - 1);
		while (t[h])
			h = (h + 1) & (n - 1);
		t[h] = i + 1;
	}
	free(c->aslots);
	c->aslots = t;
	c->naslots = n;
	return 0;
}

struct clog_author *clog_author_find(struct clog *c, const uint8_t *pk, uint32_t *idx)
{
	if (!c->naslots)
		return NULL;
	uint32_t h = clog_hash(c, pk, TH_LOGREC_KEY_LEN) & (c->naslots - 1);
	while (c->aslots[h]) {
		struct clog_author *a = &c->authors[c->aslots[h] - 1];
		if (memcmp(a->pk, pk, TH_LOGREC_KEY_LEN) == 0) {
			*idx = c->aslots[h] - 1;
			return a;
		}
		h = (h + 1) & (c->naslots - 1);
	}
	return NULL;
}

struct clog_author *clog_author_get(struct clog *c, const uint8_t *pk, uint32_t *idx)
{
	struct clog_author *found = clog_author_find(c, pk, idx);
	if (found)
		return found;
	if (c->nauthors >= CLOG_AUTHORS_MAX)
		return NULL;
	if ((c->nauthors + 1) * 2 > c->naslots && clog_aslots_grow(c) < 0)
		return NULL;
	if (c->nauthors == c->acap) {
		uint32_t n = c->acap ? c->acap * 2 : 16;
		struct clog_author *t = realloc(c->authors, n * sizeof(*t));
		if (!t)
			return NULL;
		c->authors = t;
		c->acap = n;
	}
	struct clog_author *a = &c->authors[c->nauthors];
	memset(a, 0, sizeof(*a));
	memcpy(a->pk, pk, TH_LOGREC_KEY_LEN);
	a->tokens_milli = (uint64_t)c->cfg.rate_burst * 1000;
	uint32_t h = clog_hash(c, pk, TH_LOGREC_KEY_LEN) & (c->naslots - 1);
	while (c->aslots[h])
		h = (h + 1) & (c->naslots - 1);
	c->aslots[h] = c->nauthors + 1;
	*idx = c->nauthors++;
	c->st.authors = c->nauthors;
	return a;
}

static uint32_t clog_scope_hash(const struct clog *c, uint16_t type, uint8_t kind, uint64_t id)
{
	uint8_t k[11];
	th_put_le16(k, type);
	k[2] = kind;
	th_put_le64(k + 3, id);
	return clog_hash(c, k, sizeof(k));
}

struct clog_scope *clog_scope_find(struct clog *c, uint16_t type, uint8_t kind, uint64_t id)
{
	if (!c->nsslots)
		return NULL;
	uint32_t h = clog_scope_hash(c, type, kind, id) & (c->nsslots - 1);
	while (c->scopes[h].lamport) {
		struct clog_scope *s = &c->scopes[h];
		if (s->type == type && s->kind == kind && s->scope_id == id)
			return s;
		h = (h + 1) & (c->nsslots - 1);
	}
	return NULL;
}

static int clog_scopes_grow(struct clog *c)
{
	uint32_t n = c->nsslots ? c->nsslots * 2 : 256;
	struct clog_scope *t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nsslots; i++) {
		struct clog_scope *s = &c->scopes[i];
		if (!s->lamport)
			continue;
		uint32_t h = clog_scope_hash(c, s->type, s->kind, s->scope_id) & (n - 1);
		while (t[h].lamport)
			h = (h + 1) & (n - 1);
		t[h] = *s;
	}
	free(c->scopes);
	c->scopes = t;
	c->nsslots = n;
	return 0;
}

int clog_id_cmp(const struct clog *c, uint64_t la, uint32_t aa, uint64_t lb, uint32_t ab)
{
	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(c->authors[aa].pk, c->authors[ab].pk, TH_LOGREC_KEY_LEN);
}

int clog_scope_note(struct clog *c, uint16_t type, uint8_t kind, uint64_t id, uint64_t lamport, uint32_t author)
{
	struct clog_scope *s = clog_scope_find(c, type, kind, id);
	if (s) {
		if (clog_id_cmp(c, lamport, author, s->lamport, s->author) > 0) {
			s->lamport = lamport;
			s->author = author;
		}
		return 0;
	}
	/* Past the cap, new keys are no longer tracked: conflicts on them go
	 * undetected (counted nowhere), but nothing grows without bound. */
	if (c->nscopes >= CLOG_SCOPES_MAX)
		return 0;
	if ((c->nscopes + 1) * 2 > c->nsslots && clog_scopes_grow(c) < 0)
		return -ENOMEM;
	uint32_t h = clog_scope_hash(c, type, kind, id) & (c->nsslots - 1);
	while (c->scopes[h].lamport)
		h = (h + 1) & (c->nsslots - 1);
	c->scopes[h] = (struct clog_scope){
		.scope_id = id, .lamport = lamport, .author = author, .type = type, .kind = kind
	};
	c->nscopes++;
	return 0;
}

/* ---- guards ------------------------------------------------------------- */

/* Refills the author's bucket to now and takes n commands; false if empty. */
static bool clog_take_tokens(struct clog *c, struct clog_author *a, uint64_t n, uint64_t now_ns)
{
	uint64_t cap = (uint64_t)c->cfg.rate_burst * 1000;
	if (now_ns > a->tokens_ns) {
		unsigned __int128 add = (unsigned __int128)(now_ns - a->tokens_ns) * c->cfg.rate_per_s / 1000000u;
		a->tokens_milli = add >= cap - a->tokens_milli ? cap : a->tokens_milli + (uint64_t)add;
		a->tokens_ns = now_ns;
	} else if (a->tokens_ns == 0) {
		a->tokens_ns = now_ns;
	}
	if (a->tokens_milli < n * 1000)
		return false;
	a->tokens_milli -= n * 1000;
	return true;
}

static bool clog_pending_room(struct clog *c, uint32_t source, uint64_t n, uint64_t bytes)
{
	if (c->npend + n > CLOG_PENDING_MAX || c->pending_bytes + bytes > CLOG_PENDING_BYTES_MAX)
		return false;
	uint32_t *p = clog_source_pending(c, source, true);
	return p && *p + n <= c->cfg.pending_per_source;
}

/* Registry checks shared by both paths: CLOG_OK or a reason. */
static int clog_check_registry(const struct th_logrec_entry *e, const struct th_cmd_info **ci_out)
{
	const struct th_cmd_info *ci = th_cmd_find(e->type);
	if (!ci)
		return CLOG_R_UNKNOWN_TYPE;
	if (e->scope_kind != ci->scope || (ci->scope == TH_SCOPE_GLOBAL && e->scope_id != 0))
		return CLOG_R_SCOPE;
	if (e->payload_len > ci->max_payload || e->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return CLOG_R_PAYLOAD;
	*ci_out = ci;
	return CLOG_OK;
}

/* The owner's payload check (clog_config.validate), after the registry's:
 * CLOG_OK, or CLOG_R_INVALID with *detail set to the hook's text. */
static int clog_check_payload(const struct clog *c, const struct th_logrec_entry *e, const char **detail)
{
	const char *why = NULL;
	if (!c->cfg.validate || c->cfg.validate(e->type, e->payload, e->payload_len, &why) >= 0)
		return CLOG_OK;
	*detail = why;
	return CLOG_R_INVALID;
}

const char *clog_reject_detail(const struct clog *c)
{
	return c->detail;
}

/* Conflict strategy for an entry by author `ai` (UINT32_MAX: one not
 * admitted yet, known by e->author) with (lamport, base): CLOG_OK and
 * *apply, or CLOG_R_CONFLICT. Counts nothing. */
static int clog_conflict(struct clog *c, const struct th_cmd_info *ci, const struct th_logrec_entry *e,
			 uint32_t ai, uint8_t *apply)
{
	const struct clog_scope *s = clog_scope_find(c, e->type, e->scope_kind, e->scope_id);
	*apply = CLOG_APPLY;
	/* Concurrent: another author wrote the key after what this author saw. */
	if (!s || s->author == ai || s->lamport <= e->base)
		return CLOG_OK;
	int later = e->lamport != s->lamport ? (e->lamport > s->lamport)
					     : memcmp(e->author, c->authors[s->author].pk, TH_LOGREC_KEY_LEN) > 0;
	switch (ci->conflict) {
	case TH_CONFLICT_REJECT:
		return CLOG_R_CONFLICT;
	case TH_CONFLICT_MERGE:
		*apply = CLOG_APPLY_MERGED;
		return CLOG_OK;
	default:
		*apply = later ? CLOG_APPLY_LWW : CLOG_APPLY_SUPERSEDED;
		return CLOG_OK;
	}
}

static void clog_count_apply(struct clog *c, uint8_t apply)
{
	if (apply == CLOG_APPLY_LWW)
		c->st.conflicts_lww++;
	else if (apply == CLOG_APPLY_SUPERSEDED) {
		c->st.conflicts_lww++;
		c->st.superseded++;
	} else if (apply == CLOG_APPLY_MERGED)
		c->st.conflicts_merged++;
}

static int clog_refuse(struct clog *c, int reason, int *why)
{
	c->st.rejected[reason]++;
	if (reason == CLOG_R_CONFLICT)
		c->st.conflicts_rejected++;
	if (why)
		*why = reason;
	return clog_reason_errno(reason);
}

/* ---- local submissions ---------------------------------------------------- */

/* Exactly once: a command whose request id names a remembered entry of its
 * author was admitted before (this run or an earlier one). It is answered
 * with that entry, ahead of every guard: a resend after a crash must get
 * the same answer the first copy got, even when the author's rate, role or
 * the scope's conflicts would now refuse a new one. 0: not a resubmit. */
static int clog_dedupe_check(struct clog *c, const struct clog_submit *s, struct clog_id *id, int *why,
			     uint32_t *ai_out)
{
	uint32_t ai;
	*ai_out = UINT32_MAX;
	if (!s->req || !s->key || !clog_author_find(c, s->key->pk, &ai))
		return 0;
	*ai_out = ai; /* spares submit a second lookup */
	const struct clog_req *q = clog_req_find(c, ai, s->req);
	if (!q)
		return 0;
	struct clog_id old = { .lamport = q->lamport, .seq = q->seq };
	memcpy(old.author, s->key->pk, TH_LOGREC_KEY_LEN);
	if (q->seq <= c->authors[ai].durable_seq) {
		c->st.dup_durable++;
		if (id)
			*id = old;
		return CLOG_SUBMIT_DUPLICATE;
	}
	/* Still queued: told with the first copy, when its batch is durable. */
	int r = clog_waiter_add(c, ai, q->seq, s->source, s->done, s->ctx);
	if (r < 0)
		return clog_refuse(c, CLOG_R_PENDING, why);
	c->st.dup_joined++;
	if (id)
		*id = old;
	return CLOG_SUBMIT_JOINED;
}

int clog_submit_local(struct clog *c, const struct clog_submit *s, uint64_t now_ns, struct clog_id *id, int *why)
{
	const struct th_cmd_info *ci = NULL;
	struct th_logrec_entry e = {
		.version = TH_LOGREC_VERSION,
		.scope_kind = s->scope_kind,
		.type = s->type,
		.scope_id = s->scope_id,
		.time_ns = s->time_ns,
		.payload_len = s->payload_len,
		.payload = s->payload,
		.req = s->req,
	};
	uint32_t ai;
	uint8_t apply;
	int r;

	c->detail = NULL;
	if (c->failed)
		return clog_refuse(c, CLOG_R_FAILED, why);
	uint32_t known;
	r = clog_dedupe_check(c, s, id, why, &known);
	if (r != 0)
		return r;
	if (s->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return clog_refuse(c, CLOG_R_PAYLOAD, why);
	r = clog_check_registry(&e, &ci);
	if (r)
		return clog_refuse(c, r, why);
	if (s->role < ci->role)
		return clog_refuse(c, CLOG_R_ROLE, why);
	if (!s->key || (s->payload_len && !s->payload))
		return clog_refuse(c, CLOG_R_MALFORMED, why);
	r = clog_check_payload(c, &e, &c->detail);
	if (r)
		return clog_refuse(c, r, why);
	if (c->lamport >= TH_LOGREC_LAMPORT_MAX)
		return clog_refuse(c, CLOG_R_SKEW, why);
	struct clog_author *a;
	if (known != UINT32_MAX) {
		ai = known;
		a = &c->authors[ai];
	} else {
		a = clog_author_get(c, s->key->pk, &ai);
	}
	if (!a)
		return clog_refuse(c, CLOG_R_AUTHORS, why);
	if (s->req_seq <= a->req_seq)
		return clog_refuse(c, CLOG_R_REPLAY, why);
	if (!clog_pending_room(c, s->source, 1, TH_LOGREC_FRAME_LEN + th_logrec_body_len(&e) + TH_LOGREC_SIG_LEN))
		return clog_refuse(c, CLOG_R_PENDING, why);

	e.lamport = c->lamport + 1;
	e.seq = a->chain.seq + 1;
	e.base = s->base < c->lamport ? s->base : c->lamport;
	memcpy(e.author, s->key->pk, TH_LOGREC_KEY_LEN);
	memcpy(e.prev, a->chain.head, TH_LOGREC_HASH_LEN);
	r = clog_conflict(c, ci, &e, ai, &apply);
	if (r)
		return clog_refuse(c, r, why);
	if (!clog_take_tokens(c, a, 1, now_ns))
		return clog_refuse(c, CLOG_R_RATE, why);

	uint8_t hash[TH_LOGREC_HASH_LEN];
	th_logrec_entry_hash(&e, hash);
	r = clog_queue(c, &e, hash, ai, s->source, apply, false, s->done, s->ctx);
	if (r < 0)
		return r;
	if (!a->has_sk) {
		memcpy(a->sk, s->key->sk, TH_LOGREC_SECKEY_LEN);
		a->has_sk = true;
	}
	a->req_seq = s->req_seq;
	th_logrec_chain_advance(&a->chain, &e, hash);
	c->lamport = e.lamport;
	clog_count_apply(c, apply);
	clog_scope_note(c, e.type, e.scope_kind, e.scope_id, e.lamport, ai);
	c->st.appended_local++;
	if (id) {
		id->lamport = e.lamport;
		id->seq = e.seq;
		memcpy(id->author, e.author, TH_LOGREC_KEY_LEN);
	}
	return 0;
}

/* ---- remote entries --------------------------------------------------------- */

static int clog_fault_reason(int f)
{
	switch (f) {
	case TH_LR_REPLAY: return CLOG_R_REPLAY;
	case TH_LR_SEQ_GAP:
	case TH_LR_BAD_CHAIN: return CLOG_R_CHAIN;
	case TH_LR_BAD_ORDER: return CLOG_R_ORDER;
	case TH_LR_UNKNOWN_TYPE: return CLOG_R_UNKNOWN_TYPE;
	case TH_LR_BAD_SCOPE: return CLOG_R_SCOPE;
	case TH_LR_BAD_PAYLOAD: return CLOG_R_PAYLOAD;
	}
	return CLOG_R_MALFORMED;
}

/* Checks one entry of a signature group against the tentative chain state
 * t; CLOG_OK and *apply, or a reason (*detail for CLOG_R_INVALID). */
static int clog_check_remote(struct clog *c, const struct th_logrec_entry *e, uint32_t ai,
			     struct th_logrec_chain *t, int role, uint8_t *apply, const char **detail,
			     int8_t valid, const char *pre_detail)
{
	const struct th_cmd_info *ci = NULL;
	int f = th_logrec_check_fields(e);
	if (f)
		return clog_fault_reason(f);
	int r = clog_check_registry(e, &ci);
	if (r)
		return r;
	if (role < ci->role)
		return CLOG_R_ROLE;
	f = th_logrec_chain_check(t, e);
	if (f)
		return clog_fault_reason(f);
	if (e->base >= e->lamport)
		return CLOG_R_MALFORMED;
	if (e->lamport > c->lamport && e->lamport - c->lamport > CLOG_LAMPORT_SKEW_MAX)
		return CLOG_R_SKEW;
	/* valid: the verify thread ran the payload check already. */
	if (valid < 0) {
		*detail = pre_detail;
		return CLOG_R_INVALID;
	}
	r = valid > 0 ? CLOG_OK : clog_check_payload(c, e, detail);
	if (r)
		return r;
	return clog_conflict(c, ci, e, ai, apply);
}

/* The call's slot for author pk (created, not admitted, when new). */
static int32_t clog_rauth_slot(struct clog *c, const struct th_logrec_entry *es, int32_t i, uint32_t *nslots)
{
	const uint32_t mask = 2 * CLOG_REMOTE_BATCH_MAX - 1;
	uint32_t h = clog_hash(c, es[i].author, TH_LOGREC_KEY_LEN) & mask;
	while (c->r_ht[h]) {
		int32_t s = (int32_t)c->r_ht[h] - 1;
		if (memcmp(es[c->r_slots[s].e0].author, es[i].author, TH_LOGREC_KEY_LEN) == 0)
			return s;
		h = (h + 1) & mask;
	}
	int32_t s = (int32_t)(*nslots)++;
	uint32_t ai;
	c->r_ht[h] = (uint32_t)s + 1;
	c->r_slots[s] = (struct clog_rauth){
		.ai = clog_author_find(c, es[i].author, &ai) ? (int32_t)ai : -1, .e0 = i, .last = -1, .first_why = -1
	};
	return s;
}

int clog_integrate_remote(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
			  uint64_t now_ns)
{
	return clog_admit_remote(c, source, es, n, now_ns, NULL);
}

int clog_admit_remote(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
		      uint64_t now_ns, const struct clog_pre *pre)
{
	const uint8_t(*hash)[TH_LOGREC_HASH_LEN] = pre ? pre->hash : (const uint8_t(*)[TH_LOGREC_HASH_LEN])c->r_hash;
	const int8_t *pre_sig = pre ? pre->sig : NULL;
	int32_t *as = c->r_author, *next = c->r_next, *cover = c->r_cover;
	int8_t *sig = c->r_sig;
	uint8_t *why = c->r_why;
	struct clog_rauth *sl = c->r_slots;
	uint32_t nslots = 0;
	int accepted = 0;

	if (c->failed)
		return -EIO;
	if (n > CLOG_REMOTE_BATCH_MAX)
		return -E2BIG;

	/* Pass 1: the call's authors (looked up, not created: an author is
	 * admitted only once a signature of theirs verified and their group
	 * passed), hashes, and for each entry the next one by the same author
	 * in this call. */
	for (size_t i = 0; i < n; i++) {
		why[i] = 0;
		sig[i] = pre_sig ? pre_sig[i] : 0;
		c->r_detail[i] = NULL;
		next[i] = -1;
		as[i] = -1;
		if (es[i].payload_len > TH_LOGREC_PAYLOAD_MAX || (es[i].payload_len && !es[i].payload)) {
			why[i] = CLOG_R_PAYLOAD;
			continue;
		}
		int32_t s = clog_rauth_slot(c, es, (int32_t)i, &nslots);
		as[i] = s;
		if (!pre)
			th_logrec_entry_hash(&es[i], c->r_hash[i]);
		if (sl[s].last >= 0)
			next[sl[s].last] = (int32_t)i;
		sl[s].last = (int32_t)i;
	}

	/* Pass 2 (backwards): which signed entry covers each entry, through
	 * intact links inside this call. */
	for (size_t k = n; k-- > 0;) {
		cover[k] = -1;
		if (why[k])
			continue;
		if (es[k].has_sig) {
			cover[k] = (int32_t)k;
			continue;
		}
		int32_t j = next[k];
		if (j >= 0 && !why[j] && es[j].seq == es[k].seq + 1 &&
		    memcmp(es[j].prev, hash[k], TH_LOGREC_HASH_LEN) == 0)
			cover[k] = cover[j];
	}

	/* Pass 3: signature groups (entries up to and including the signed one
	 * covering them) are accepted or refused as a whole. */
	for (size_t i = 0; i < n; i++) {
		if (why[i])
			continue;
		int32_t j = cover[i];
		if (j < 0) {
			why[i] = CLOG_R_UNSIGNED;
			continue;
		}
		if (sig[j] == 0) {
			sig[j] = th_logrec_verify(hash[j], es[j].author, es[j].sig) == 0 ? 1 : -1;
			c->st.verifies++;
		}
		if (sig[j] < 0) {
			why[i] = CLOG_R_BAD_SIGNATURE;
			continue;
		}
		struct clog_rauth *ra = &sl[as[i]];
		struct th_logrec_chain t = { 0 };
		if (ra->ai >= 0)
			t = c->authors[ra->ai].chain;
		uint32_t aix = ra->ai >= 0 ? (uint32_t)ra->ai : UINT32_MAX;
		int role = c->cb.role_of ? c->cb.role_of(c->user, es[i].author) : TH_ROLE_NONE;
		int bad = CLOG_OK;
		size_t count = 0, bytes = 0, body = 0;
		for (int32_t k = (int32_t)i;; k = next[k]) {
			uint8_t apply;
			int r = clog_check_remote(c, &es[k], aix, &t, role, &apply, &c->r_detail[k],
						  pre ? pre->valid[k] : 0, pre ? pre->detail[k] : NULL);
			if (r) {
				why[k] = (uint8_t)r;
				bad = r;
				break;
			}
			th_logrec_chain_advance(&t, &es[k], hash[k]);
			count++;
			body += th_logrec_body_len(&es[k]);
			bytes += TH_LOGREC_FRAME_LEN + th_logrec_body_len(&es[k]) + (es[k].has_sig ? TH_LOGREC_SIG_LEN : 0);
			if (k == j)
				break;
		}
		if (!bad && !clog_pending_room(c, source, count, bytes))
			bad = CLOG_R_PENDING;
		if (!bad && clog_queue_room(c, count, body) < 0)
			bad = CLOG_R_PENDING;
		/* A new author's bucket starts full (rate_burst). */
		if (!bad && ra->ai < 0 && count > c->cfg.rate_burst)
			bad = CLOG_R_RATE;
		if (!bad && ra->ai < 0) {
			uint32_t ai;
			if (c->nauthors >= c->cfg.authors_max || !clog_author_get(c, es[i].author, &ai))
				bad = CLOG_R_AUTHORS;
			else
				ra->ai = (int32_t)ai;
		}
		struct clog_author *a = ra->ai >= 0 ? &c->authors[ra->ai] : NULL;
		if (!bad && !clog_take_tokens(c, a, count, now_ns))
			bad = CLOG_R_RATE;
		for (int32_t k = (int32_t)i;; k = next[k]) {
			if (bad) {
				if (!why[k])
					why[k] = (uint8_t)(bad == CLOG_R_PENDING || bad == CLOG_R_RATE ||
								   bad == CLOG_R_AUTHORS
							       ? bad
							       : CLOG_R_GROUP);
			} else {
				uint8_t apply;
				const struct th_cmd_info *ci = th_cmd_find(es[k].type);
				clog_conflict(c, ci, &es[k], (uint32_t)ra->ai, &apply);
				/* Cannot fail: room was made for the whole group. */
				clog_queue(c, &es[k], hash[k], (uint32_t)ra->ai, source, apply, true, NULL, NULL);
				th_logrec_chain_advance(&a->chain, &es[k], hash[k]);
				if (es[k].lamport > c->lamport)
					c->lamport = es[k].lamport;
				clog_count_apply(c, apply);
				clog_scope_note(c, es[k].type, es[k].scope_kind, es[k].scope_id, es[k].lamport,
						(uint32_t)ra->ai);
				c->st.appended_remote++;
				why[k] = 255;
				accepted++;
			}
			if (k == j)
				break;
		}
	}

	/* Report every refused entry. Once an author had an entry refused in
	 * this call, its later entries cannot link to it: they report the
	 * first refusal's reason (a rate-limited flood counts as rate limiting,
	 * not as broken chains). Replays do not cascade, so a resent
	 * overlapping batch goes through. */
	for (size_t i = 0; i < n; i++) {
		if (why[i] == 255)
			continue;
		if (as[i] >= 0) {
			struct clog_rauth *ra = &sl[as[i]];
			if (ra->first_why >= 0 && why[i] == CLOG_R_CHAIN) {
				why[i] = (uint8_t)ra->first_why;
				c->r_detail[i] = ra->first_detail;
			} else if (ra->first_why < 0 && why[i] != CLOG_R_REPLAY) {
				ra->first_why = why[i];
				ra->first_detail = c->r_detail[i];
			}
		}
		c->st.rejected[why[i]]++;
		if (why[i] == CLOG_R_CONFLICT)
			c->st.conflicts_rejected++;
		c->detail = why[i] == CLOG_R_INVALID ? c->r_detail[i] : NULL;
		if (c->cb.on_reject)
			c->cb.on_reject(c->user, source, &es[i], why[i]);
	}
	c->detail = NULL;
	/* Empty the call's author table for the next call. */
	const uint32_t mask = 2 * CLOG_REMOTE_BATCH_MAX - 1;
	for (uint32_t s = 0; s < nslots; s++) {
		uint32_t h = clog_hash(c, es[sl[s].e0].author, TH_LOGREC_KEY_LEN) & mask;
		while (c->r_ht[h] != s + 1)
			h = (h + 1) & mask;
		c->r_ht[h] = 0;
	}
	return accepted;
}
