/* Remote entries verified off the loop (clog_integrate_remote_async): the
 * entry hashes, Ed25519 signature checks and payload checks
 * (clog_config.validate) of a received group, pure functions of its bytes
 * and its authors' keys, run on the worker's verify thread; the loop then admits the group with the hashes and results
 * (clog_admit_remote), keeping every check that depends on the log's state
 * (chains, order, roles, guards, conflicts) on its own thread and in order.
 *
 * A slot per source holds its group's fixed fields and signatures, the
 * results, and the payloads of the part being checked. The owner keeps the
 * entries and calls again with the same ones after on_verified: each call
 * copies at most CLOG_VERIFY_BYTES_MAX of payload for the next part, and
 * the call that finds every part verified admits the group. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog_int.h"
#include "th_buf.h"

/* Whether a and b are the same entry: every field and the signature (the
 * payload was hashed when its part was copied). Field by field, so padding
 * plays no part. */
static bool clog_entry_same(const struct th_logrec_entry *a, const struct th_logrec_entry *b)
{
#define TH_ENTRY_FIELD(name, type, width, desc) \
	if (memcmp(&a->name, &b->name, sizeof(a->name)) != 0) \
		return false;
#include "commands.def"
#undef TH_ENTRY_FIELD
	return a->has_sig == b->has_sig && (!a->has_sig || memcmp(a->sig, b->sig, sizeof(a->sig)) == 0);
}

/* run: the slot of e's author in the open table. */
static struct clog_vopen *clog_vopen_slot(struct clog_verify *v, const struct th_logrec_entry *e, uint32_t i)
{
	const uint32_t mask = 2 * CLOG_REMOTE_BATCH_MAX - 1;
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, e->author, TH_LOGREC_KEY_LEN, v->hkey);
	uint32_t k = th_get_le32(h) & mask;
	while (v->open[k].e1 && memcmp(v->ents[v->open[k].e1 - 1].author, e->author, TH_LOGREC_KEY_LEN) != 0)
		k = (k + 1) & mask;
	if (!v->open[k].e1)
		v->open[k].e1 = i + 1;
	return &v->open[k];
}

/* On the verify thread: only the part's entries, buf, hash, sig and cut,
 * and the open table. */
static void clog_verify_run(struct clog_job *j)
{
	struct clog_verify *v = (struct clog_verify *)j;
	uint32_t checked = 0;
	if (v->yield)
		return;
	if (v->first == 0) {
		memset(v->open, 0, 2 * CLOG_REMOTE_BATCH_MAX * sizeof(*v->open));
		v->nopen = 0;
	}
	for (size_t i = v->first; i < v->first + v->count; i++) {
		const struct th_logrec_entry *e = &v->ents[i];
		v->sig[i] = 0;
		v->valid[i] = 0;
		/* Refused by admission before its hash is used. */
		if (e->payload_len > TH_LOGREC_PAYLOAD_MAX || (e->payload_len && !e->payload)) {
			v->cut[i] = v->nopen == 0;
			continue;
		}
		th_logrec_entry_hash(e, v->hash[i]);
		v->valid[i] = 0;
		v->vdetail[i] = NULL;
		if (v->validate)
			v->valid[i] = v->validate(e->type, e->payload, e->payload_len, &v->vdetail[i]) >= 0 ? 1 : -1;
		if (e->has_sig) {
			v->sig[i] = th_logrec_verify(v->hash[i], e->author, e->sig) == 0 ? 1 : -1;
			checked++;
		}
		struct clog_vopen *o = clog_vopen_slot(v, e, (uint32_t)i);
		if (o->open != !e->has_sig) {
			o->open = !e->has_sig;
			v->nopen += o->open ? 1u : (uint32_t)-1;
		}
		v->cut[i] = v->nopen == 0;
	}
	v->checked = checked;
}

/* Back on the loop (clog_worker_poll). */
static void clog_verify_finish(struct clog_job *j)
{
	struct clog_verify *v = (struct clog_verify *)j;
	struct clog *c = v->c;
	c->st.verifies += v->checked;
	v->checked = 0;
	v->state = !v->yield && v->first + v->count < v->n ? CLOG_V_PART : CLOG_V_DONE;
	v->yield = false;
	v->unclaimed_ns = 0;
	if (c->cb.on_verified)
		c->cb.on_verified(c->user, v->source);
}

static void clog_verify_release(struct clog_verify *v)
{
	v->state = CLOG_V_FREE;
	v->n = v->first = v->count = v->admitted = 0;
	v->accepted = 0;
}

static void clog_verify_destroy(struct clog_verify *v)
{
	free(v->ents);
	free(v->buf);
	free(v->hash);
	free(v->sig);
	free(v->cut);
	free(v->open);
	free(v->valid);
	free(v->vdetail);
	free(v);
}

static struct clog_verify *clog_verify_alloc(struct clog *c)
{
	struct clog_verify *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->ents = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*v->ents));
	v->buf = malloc(CLOG_VERIFY_BYTES_MAX);
	v->hash = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*v->hash));
	v->sig = malloc(CLOG_REMOTE_BATCH_MAX);
	v->cut = malloc(CLOG_REMOTE_BATCH_MAX);
	v->open = malloc(2 * CLOG_REMOTE_BATCH_MAX * sizeof(*v->open));
	v->valid = malloc(CLOG_REMOTE_BATCH_MAX);
	v->vdetail = malloc(CLOG_REMOTE_BATCH_MAX * sizeof(*v->vdetail));
	if (!v->ents || !v->buf || !v->hash || !v->sig || !v->cut || !v->open || !v->valid || !v->vdetail) {
		clog_verify_destroy(v);
		return NULL;
	}
	memcpy(v->hkey, c->hkey, sizeof(v->hkey));
	v->validate = c->cfg.validate;
	v->c = c;
	v->job.run = clog_verify_run;
	v->job.finish = clog_verify_finish;
	return v;
}

void clog_verify_free(struct clog *c)
{
	for (unsigned i = 0; i < CLOG_VERIFY_JOBS_MAX; i++) {
		struct clog_verify *v = c->verify[i];
		if (!v)
			continue;
		/* Its finish is not run: nobody is told after close. */
		if (v->state == CLOG_V_RUNNING)
			clog_worker_wait(c->worker, &v->job);
		clog_verify_destroy(v);
		c->verify[i] = NULL;
	}
}

/* Copies the next part of es (from v->first + v->count) and hands it to
 * the verify thread. */
static void clog_verify_next_part(struct clog *c, struct clog_verify *v, const struct th_logrec_entry *es)
{
	size_t i = v->first + v->count, used = 0;
	v->first = i;
	for (; i < v->n; i++) {
		const struct th_logrec_entry *e = &es[i];
		bool bad = e->payload_len > TH_LOGREC_PAYLOAD_MAX || (e->payload_len && !e->payload);
		size_t len = bad ? 0 : e->payload_len;
		if (used + len > CLOG_VERIFY_BYTES_MAX && i > v->first)
			break;
		v->ents[i] = *e;
		if (!bad && len) {
			memcpy(v->buf + used, e->payload, len);
			v->ents[i].payload = v->buf + used;
		}
		used += len;
	}
	v->count = i - v->first;
	v->state = CLOG_V_RUNNING;
	clog_worker_submit(c->worker, &v->job, CLOG_WQ_VERIFY);
}

/* The slot of source, or NULL. */
static struct clog_verify *clog_verify_of(struct clog *c, uint32_t source)
{
	for (unsigned i = 0; i < CLOG_VERIFY_JOBS_MAX; i++)
		if (c->verify[i] && c->verify[i]->state != CLOG_V_FREE && c->verify[i]->source == source)
			return c->verify[i];
	return NULL;
}

/* A free slot (allocated when first used; a verified group left unclaimed
 * for CLOG_VERIFY_CLAIM_NS after a source first wanted a slot is dropped),
 * or NULL: all busy. -ENOMEM through *err. */
static struct clog_verify *clog_verify_slot(struct clog *c, uint64_t now_ns, int *err)
{
	struct clog_verify *stale = NULL;
	for (unsigned i = 0; i < CLOG_VERIFY_JOBS_MAX; i++) {
		struct clog_verify *v = c->verify[i];
		if (!v) {
			if (!(v = c->verify[i] = clog_verify_alloc(c)))
				*err = -ENOMEM;
			return v;
		}
		if (v->state == CLOG_V_FREE)
			return v;
		if (v->state == CLOG_V_RUNNING)
			continue;
		if (!v->unclaimed_ns)
			v->unclaimed_ns = now_ns ? now_ns : 1;
		else if (!stale && now_ns - v->unclaimed_ns >= CLOG_VERIFY_CLAIM_NS)
			stale = v;
	}
	if (stale)
		clog_verify_release(stale);
	return stale;
}

/* The end of the verified group's next slice: up to CLOG_ADMIT_PER_CALL
 * entries, ending where every author's last entry is signed (so each
 * signature group is whole in one call), or one signature group when it
 * alone is larger. */
static size_t clog_verify_slice_end(const struct clog_verify *v)
{
	size_t a = v->admitted, b = 0, lim = a + CLOG_ADMIT_PER_CALL;
	for (size_t i = a; i < v->n; i++) {
		if (!v->cut[i])
			continue;
		if (i + 1 > lim && b)
			break;
		b = i + 1;
		if (b >= lim)
			break;
	}
	return b ? b : v->n;
}

/* Admits entries v->admitted .. b - 1 of the verified group. */
static int clog_verify_admit(struct clog *c, struct clog_verify *v, const struct th_logrec_entry *es, size_t b,
			     uint64_t now_ns)
{
	size_t a = v->admitted;
	const struct clog_pre pre = {
		.hash = (const uint8_t(*)[TH_LOGREC_HASH_LEN])(v->hash + a),
		.sig = v->sig + a,
		.valid = v->valid + a,
		.detail = (const char *const *)(v->vdetail + a),
	};
	int r = clog_admit_remote(c, v->source, es + a, b - a, now_ns, &pre);
	if (r < 0) {
		clog_verify_release(v);
		return r;
	}
	v->accepted += r;
	v->admitted = b;
	if (b < v->n) {
		/* The rest after a turn of the loop: back through the fd. */
		v->yield = true;
		v->state = CLOG_V_RUNNING;
		clog_worker_submit(c->worker, &v->job, CLOG_WQ_VERIFY);
		return -EINPROGRESS;
	}
	r = v->accepted;
	uint32_t source = v->source;
	clog_verify_release(v);
	/* A source waiting for a slot can have this one. */
	if (c->verify_starved && c->cb.on_verified) {
		c->verify_starved = false;
		c->cb.on_verified(c->user, source);
	}
	return r;
}

int clog_integrate_remote_async(struct clog *c, uint32_t source, const struct th_logrec_entry *es, size_t n,
				uint64_t now_ns)
{
	if (c->failed)
		return -EIO;
	if (n > CLOG_REMOTE_BATCH_MAX)
		return -E2BIG;
	if (!c->worker || n == 0)
		return clog_integrate_remote(c, source, es, n, now_ns);
	struct clog_verify *v = clog_verify_of(c, source);
	if (v && v->state == CLOG_V_RUNNING)
		return -EINPROGRESS;
	if (v) {
		/* The same group again? Compared: the part copied last (before
		 * the next is copied), or the slice about to be admitted, so
		 * every admitted entry is the one that was verified. */
		size_t a = v->state == CLOG_V_PART ? v->first : v->admitted;
		size_t b = v->state == CLOG_V_PART ? v->first + v->count : clog_verify_slice_end(v);
		bool same = v->n == n;
		for (size_t i = a; same && i < b; i++)
			same = clog_entry_same(&v->ents[i], &es[i]);
		if (!same) {
			clog_verify_release(v);
			v = NULL;
		} else if (v->state == CLOG_V_PART) {
			clog_verify_next_part(c, v, es);
			return -EINPROGRESS;
		} else {
			return clog_verify_admit(c, v, es, b, now_ns);
		}
	}
	int err = 0;
	v = clog_verify_slot(c, now_ns, &err);
	if (!v) {
		c->verify_starved = !err;
		return err ? err : -EINPROGRESS;
	}
	v->source = source;
	v->n = n;
	v->first = v->count = 0;
	v->unclaimed_ns = 0;
	clog_verify_next_part(c, v, es);
	return -EINPROGRESS;
}
