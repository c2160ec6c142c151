/* The fold (th_fold.h, docs/scene.md): total order, the rollback window of
 * per-entry journals, undo and redo as exclusion, tentatives. Snapshots are
 * th_fold_snap.c's. */
#include "th_fold.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "th_array.h"
#include "th_cmd.h"
#include "th_fold_int.h"
#include "th_payload.h"
#include "th_sorted.h"

/* Dead bytes at the journal's start (entries dropped from the window)
 * before they are cut off. */
#define FOLD_JOURNAL_CUT_MIN (1u << 20)
/* Tentatives one fold shows at a time. */
#define FOLD_TENTATIVE_MAX 4096u

static const uint8_t fold_set_domain[16] = "theta.set.v1\0\0\0";

int th_fold_key_cmp(const struct th_fold_key *a, const struct th_fold_key *b)
{
	if (a->lamport != b->lamport)
		return a->lamport < b->lamport ? -1 : 1;
	return memcmp(a->author, b->author, TH_FOLD_KEY_LEN);
}

static struct th_fold_key key_of(const struct th_logrec_entry *e)
{
	struct th_fold_key k;
	k.lamport = e->lamport;
	memcpy(k.author, e->author, TH_FOLD_KEY_LEN);
	return k;
}

/* Entries whose outcome the fold decides itself: they never reach the scene
 * and cannot be undone. session.* is the 0x0050 block of commands.def. */
static bool is_control(uint16_t type)
{
	return type == TH_CMD_EDIT_UNDO || type == TH_CMD_EDIT_REDO || (type & 0xfff0u) == 0x0050u;
}

/* ---- sorted tables ------------------------------------------------------- */

static size_t author_find(const struct th_fold *f, const uint8_t *key, bool *found)
{
	return th_sorted_find(f->authors, f->nauthors, sizeof(*f->authors), offsetof(struct th_fold_author, key), key,
			      TH_FOLD_KEY_LEN, found);
}

static inline struct th_fold_ent *W(const struct th_fold *f, size_t i) { return &f->win[f->lo + i]; }

/* First window index whose key is >= k. */
static bool ent_below(const struct th_logrec_entry *e, const struct th_fold_key *k)
{
	return e->lamport < k->lamport ||
	       (e->lamport == k->lamport && memcmp(e->author, k->author, TH_FOLD_KEY_LEN) < 0);
}

static size_t win_lower(const struct th_fold *f, const struct th_fold_key *k)
{
	size_t lo = 0, hi = f->nwin;
	if (hi && ent_below(&W(f, hi - 1)->e, k))
		return hi; /* the common case: above everything folded */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ent_below(&W(f, mid)->e, k))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t ctl_lower(const struct th_fold *f, const struct th_fold_key *k)
{
	size_t lo = 0, hi = f->nctl;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (th_fold_key_cmp(&f->ctl[mid].key, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct th_fold_ctl *ctl_find(const struct th_fold *f, const struct th_fold_key *k)
{
	size_t i = ctl_lower(f, k);
	if (i < f->nctl && th_fold_key_cmp(&f->ctl[i].key, k) == 0)
		return &f->ctl[i];
	return NULL;
}

/* First index of the exclusion set whose key is >= k. */
static size_t excl_lower(const struct th_fold *f, const struct th_fold_key *k)
{
	size_t lo = 0, hi = f->nexcl;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (th_fold_key_cmp(&f->excl[mid].key, k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many standing undos name k. */
static uint32_t excl_count(const struct th_fold *f, const struct th_fold_key *k)
{
	size_t i = excl_lower(f, k);
	return i < f->nexcl && th_fold_key_cmp(&f->excl[i].key, k) == 0 ? f->excl[i].n : 0;
}

static bool excluded(const struct th_fold *f, const struct th_fold_key *k) { return excl_count(f, k) > 0; }

/* One more (d = 1) or one fewer (d = -1) standing undo of k; room for a new
 * key is the caller's to reserve. */
static void excl_change(struct th_fold *f, const struct th_fold_key *k, int d)
{
	size_t i = excl_lower(f, k);
	bool found = i < f->nexcl && th_fold_key_cmp(&f->excl[i].key, k) == 0;
	if (d > 0 && found) {
		f->excl[i].n++;
	} else if (d > 0) {
		memmove(f->excl + i + 1, f->excl + i, (f->nexcl - i) * sizeof *f->excl);
		f->excl[i].key = *k;
		f->excl[i].n = 1;
		f->nexcl++;
	} else if (found && --f->excl[i].n == 0) {
		memmove(f->excl + i, f->excl + i + 1, (f->nexcl - i - 1) * sizeof *f->excl);
		f->nexcl--;
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	void *q = th_array_realloc(*p, n, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Room for one more window entry at the end of the array. */
static int win_reserve(struct th_fold *f)
{
	if (f->lo + f->nwin < f->cap_win)
		return 0;
	/* a third or more of the array is entries that left the window */
	if (f->lo > 0 && f->lo >= f->nwin / 2) {
		memmove(f->win, f->win + f->lo, f->nwin * sizeof *f->win);
		f->lo = 0;
		return 0;
	}
	return grow((void **)&f->win, &f->cap_win, f->lo + f->nwin + 1, sizeof *f->win);
}

static void win_insert(struct th_fold *f, size_t at, const struct th_fold_ent *ent)
{
	struct th_fold_ent *base = f->win + f->lo;
	memmove(base + at + 1, base + at, (f->nwin - at) * sizeof *base);
	base[at] = *ent;
	f->nwin++;
	f->ent_bytes += sizeof *ent + ent->e.payload_len;
}

/* Takes entry `at` out (its payload stays the caller's). */
static void win_remove(struct th_fold *f, size_t at)
{
	struct th_fold_ent *base = f->win + f->lo;
	f->ent_bytes -= sizeof *base + base[at].e.payload_len;
	memmove(base + at, base + at + 1, (f->nwin - at - 1) * sizeof *base);
	f->nwin--;
}

/* ---- outcomes ------------------------------------------------------------ */

static void count(struct th_fold *f, uint8_t status, int d)
{
	uint64_t *c = status == TH_FOLD_APPLIED	 ? &f->applied
		      : status == TH_FOLD_REFUSED  ? &f->refused
		      : status == TH_FOLD_EXCLUDED ? &f->excluded
		      : status == TH_FOLD_CONTROL  ? &f->control
						   : NULL;
	if (c)
		*c += (uint64_t)(int64_t)d;
}

static void ent_outcome(const struct th_fold_ent *w, struct th_fold_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->lamport = w->e.lamport;
	o->author = w->e.author;
	o->seq = w->e.seq;
	o->pos = w->pos;
	o->type = w->e.type;
	o->status = w->status;
	o->reason = w->reason;
	o->why = w->why ? w->why : "";
}

static void ctl_outcome(const struct th_fold_ctl *c, struct th_fold_outcome *o)
{
	memset(o, 0, sizeof *o);
	o->lamport = c->key.lamport;
	o->author = c->key.author;
	o->seq = c->seq;
	o->pos = c->pos;
	o->type = c->type;
	o->status = c->status;
	o->reason = c->reason;
	o->why = c->why ? c->why : "";
}

/* Reports what changed since the last report: control records from index
 * cfrom on (SIZE_MAX: none was decided again), window entries from index
 * `from` on. */
static void report(struct th_fold *f, size_t from, size_t cfrom)
{
	struct th_fold_outcome o;
	for (size_t i = cfrom; i < f->nctl; i++) {
		struct th_fold_ctl *c = &f->ctl[i];
		if (c->status == c->rstatus && c->reason == c->rreason)
			continue;
		bool again = c->rstatus != 0;
		count(f, c->rstatus, -1);
		count(f, c->status, 1);
		c->rstatus = c->status;
		c->rreason = c->reason;
		c->rwhy = c->why;
		if (f->on_outcome) {
			ctl_outcome(c, &o);
			o.again = again;
			f->on_outcome(f->ud, &o);
		}
	}
	for (size_t i = from; i < f->nwin; i++) {
		struct th_fold_ent *w = W(f, i);
		if (is_control(w->e.type) || (w->status == w->rstatus && w->reason == w->rreason))
			continue;
		bool again = w->rstatus != 0;
		count(f, w->rstatus, -1);
		count(f, w->status, 1);
		w->rstatus = w->status;
		w->rreason = w->reason;
		if (f->on_outcome) {
			ent_outcome(w, &o);
			o.again = again;
			f->on_outcome(f->ud, &o);
		}
	}
}

/* ---- control state ------------------------------------------------------- */

static void ctl_set(struct th_fold_ctl *c, uint8_t status, uint8_t reason, const char *why)
{
	c->status = status;
	c->reason = reason;
	c->why = why;
}

static int excl_qcmp(const void *a, const void *b)
{
	return th_fold_key_cmp(&((const struct th_fold_excl *)a)->key, &((const struct th_fold_excl *)b)->key);
}

static bool role_admin(const struct th_fold *f, const struct th_fold_role *roles, size_t n, const uint8_t *key)
{
	if (memcmp(key, f->host, TH_FOLD_KEY_LEN) == 0)
		return true;
	for (size_t r = 0; r < n; r++)
		if (memcmp(roles[r].member, key, TH_FOLD_KEY_LEN) == 0)
			return roles[r].role == TH_ROLE_ADMIN;
	return false;
}

/* Sets a member's role in roles[*n] (room for one more is the caller's). */
static void role_put(struct th_fold_role *roles, size_t *n, const uint8_t *member, uint8_t role)
{
	size_t r = 0;
	while (r < *n && memcmp(roles[r].member, member, TH_FOLD_KEY_LEN) != 0)
		r++;
	if (r == *n) {
		memcpy(roles[r].member, member, TH_FOLD_KEY_LEN);
		(*n)++;
	}
	roles[r].role = role;
}

/* The outcome of record c given the records before it in the order (roles
 * in roles[*nroles], admin or not; the records themselves through
 * ctl_find): the rules of docs/scene.md "Undo and redo". Sets c's status, a
 * role (role_set; roles has room) and revokes the undo a standing redo
 * names (returned through *revoked, else NULL). */
static void ctl_decide(const struct th_fold *f, struct th_fold_ctl *c, struct th_fold_role *roles, size_t *nroles,
		       struct th_fold_ctl **revoked);

/* Every outcome follows from the control records alone, in key order, so it
 * is the same on every replica whatever else it holds. Recomputes them all,
 * the roles at the end of the order and the exclusion set (into *excl_out,
 * allocated, ascending, unique): 0 or -ENOMEM. */
int th_fold_ctl_recompute(struct th_fold *f, struct th_fold_excl **excl_out, size_t *nexcl_out)
{
	size_t nroles = 0, nundo = 0;
	for (size_t i = 0; i < f->nctl; i++) {
		nroles += f->ctl[i].type == TH_CMD_SESSION_ROLE_SET;
		nundo += f->ctl[i].type == TH_CMD_EDIT_UNDO;
	}
	struct th_fold_role *roles = nroles ? calloc(nroles, sizeof *roles) : NULL;
	struct th_fold_excl *excl = nundo ? malloc(nundo * sizeof *excl) : NULL;
	if ((nroles && !roles) || (nundo && !excl)) {
		free(roles);
		free(excl);
		return -ENOMEM;
	}
	size_t nr = 0, nx = 0;
	for (size_t i = 0; i < f->nctl; i++)
		f->ctl[i].revoked = false;
	for (size_t i = 0; i < f->nctl; i++) {
		struct th_fold_ctl *revoked;
		ctl_decide(f, &f->ctl[i], roles, &nr, &revoked);
		if (revoked)
			revoked->revoked = true;
	}
	for (size_t i = 0; i < f->nctl; i++) {
		const struct th_fold_ctl *c = &f->ctl[i];
		if (c->type == TH_CMD_EDIT_UNDO && c->status == TH_FOLD_CONTROL && !c->revoked) {
			excl[nx].key = c->target;
			excl[nx++].n = 1;
		}
	}
	if (nx > 1)
		qsort(excl, nx, sizeof *excl, excl_qcmp);
	size_t u = 0;
	for (size_t i = 0; i < nx; i++) {
		if (u > 0 && th_fold_key_cmp(&excl[u - 1].key, &excl[i].key) == 0)
			excl[u - 1].n++;
		else
			excl[u++] = excl[i];
	}
	free(f->roles);
	f->roles = roles;
	f->nroles = nr;
	f->cap_roles = nroles;
	f->ctl_dirty = false;
	*excl_out = excl;
	*nexcl_out = u;
	return 0;
}

static void ctl_decide(const struct th_fold *f, struct th_fold_ctl *c, struct th_fold_role *roles, size_t *nroles,
		       struct th_fold_ctl **revoked)
{
	*revoked = NULL;
	bool admin = role_admin(f, roles, *nroles, c->key.author);
	bool own = memcmp(c->key.author, c->target.author, TH_FOLD_KEY_LEN) == 0;
	if (c->bad) {
		ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_MALFORMED, "the control entry's payload does not decode");
		return;
	}
	switch (c->type) {
	case TH_CMD_SESSION_ROLE_SET:
		if (!admin) {
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_DENIED, "only an admin may change a member's role");
			return;
		}
		ctl_set(c, TH_FOLD_CONTROL, TH_REFUSE_NONE, "");
		role_put(roles, nroles, c->member, c->role);
		return;
	case TH_CMD_EDIT_UNDO:
		if (th_fold_key_cmp(&c->target, &c->key) >= 0)
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_UNDO_TARGET,
				"the undo names an entry that does not come before it");
		else if (ctl_find(f, &c->target))
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_UNDO_TARGET, "an undo, redo or session entry cannot be undone");
		else if (!own && !admin)
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_DENIED, "only an admin may undo another author's entry");
		else
			ctl_set(c, TH_FOLD_CONTROL, TH_REFUSE_NONE, "");
		return;
	case TH_CMD_EDIT_REDO: {
		if (th_fold_key_cmp(&c->target, &c->key) >= 0) {
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_UNDO_TARGET,
				"the redo names an entry that does not come before it");
			return;
		}
		struct th_fold_ctl *u = ctl_find(f, &c->target);
		if (!u || u->type != TH_CMD_EDIT_UNDO)
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_UNDO_TARGET, "the redo names no undo in the set");
		else if (u->status != TH_FOLD_CONTROL)
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_UNDO_TARGET, "the redo names an undo that was refused");
		else if (!own && !admin)
			ctl_set(c, TH_FOLD_REFUSED, TH_REFUSE_DENIED, "only an admin may redo another author's undo");
		else {
			ctl_set(c, TH_FOLD_CONTROL, TH_REFUSE_NONE, "");
			*revoked = u;
		}
		return;
	}
	default:
		ctl_set(c, TH_FOLD_CONTROL, TH_REFUSE_NONE, "");
		return;
	}
}

/* The record at the end of the order decided without walking the others
 * (nothing after it can change: every rule looks only backwards): its
 * status, the roles at the end, a revocation. *d is the change to the
 * standing undos of *k: 1 (an undo stands), -1 (a redo revoked one), 0.
 * 0 or -ENOMEM with nothing changed. */
static int ctl_append(struct th_fold *f, struct th_fold_ctl *c, struct th_fold_key *k, int *d)
{
	*d = 0;
	if (c->type == TH_CMD_SESSION_ROLE_SET &&
	    grow((void **)&f->roles, &f->cap_roles, f->nroles + 1, sizeof *f->roles) < 0)
		return -ENOMEM;
	struct th_fold_ctl *u;
	c->revoked = false;
	ctl_decide(f, c, f->roles, &f->nroles, &u);
	if (c->type == TH_CMD_EDIT_UNDO && c->status == TH_FOLD_CONTROL) {
		*k = c->target;
		*d = 1;
	} else if (u && !u->revoked) {
		u->revoked = true;
		*k = u->target;
		*d = -1;
	}
	return 0;
}

/* Whether some entry of the folded set may have key k: false only when its
 * author has none at k's lamport or above. */
static bool may_be_present(const struct th_fold *f, const struct th_fold_key *k)
{
	bool found;
	size_t i = author_find(f, k->author, &found);
	return found && f->authors[i].lamport >= k->lamport;
}

/* The smallest key whose exclusion differs between a and b, at or above the
 * floor: 1 with *k, 0 when none; -ERANGE when a change falls on an entry
 * below the floor. */
static int excl_diff(const struct th_fold *f, const struct th_fold_excl *a, size_t na, const struct th_fold_excl *b,
		     size_t nb, struct th_fold_key *k)
{
	size_t i = 0, jx = 0;
	while (i < na || jx < nb) {
		const struct th_fold_key *d;
		if (i < na && jx < nb) {
			int c = th_fold_key_cmp(&a[i].key, &b[jx].key);
			if (c == 0) {
				i++;
				jx++;
				continue;
			}
			d = c < 0 ? &a[i++].key : &b[jx++].key;
		} else {
			d = i < na ? &a[i++].key : &b[jx++].key;
		}
		if (f->has_floor && th_fold_key_cmp(d, &f->floor) <= 0) {
			if (may_be_present(f, d))
				return -ERANGE;
			continue;
		}
		*k = *d;
		return 1;
	}
	return 0;
}

static void ctl_fill(struct th_fold_ctl *c, const struct th_logrec_entry *e, uint64_t pos)
{
	memset(c, 0, sizeof *c);
	c->key = key_of(e);
	c->seq = e->seq;
	c->pos = pos;
	c->type = e->type;
	const char *why;
	if (e->type == TH_CMD_EDIT_UNDO || e->type == TH_CMD_EDIT_REDO) {
		/* edit.undo and edit.redo have the same fields */
		struct th_pl_edit_undo u;
		if (th_pl_decode_edit_undo(e->payload, e->payload_len, &u, &why) < 0) {
			c->bad = true;
			return;
		}
		c->target.lamport = u.lamport;
		memcpy(c->target.author, u.author, TH_FOLD_KEY_LEN);
	} else if (e->type == TH_CMD_SESSION_ROLE_SET) {
		struct th_pl_session_role_set r;
		if (th_pl_decode_session_role_set(e->payload, e->payload_len, &r, &why) < 0) {
			c->bad = true;
			return;
		}
		memcpy(c->member, r.member, TH_FOLD_KEY_LEN);
		c->role = r.role;
	} else {
		c->bad = th_cmd_payload_check(e->type, e->payload, e->payload_len, &why) < 0;
	}
}

/* ---- tentatives ---------------------------------------------------------- */

void th_fold_tent_off(struct th_fold *f, bool quiet)
{
	if (!f->ntent)
		return;
	if (quiet)
		th_scene_on_change(f->scene, NULL, NULL);
	th_scene_revert(f->scene, &f->tj, 0);
	for (size_t i = 0; i < f->ntent; i++)
		f->tent[i].applied = false;
	if (quiet)
		th_scene_on_change(f->scene, f->on_change, f->ud);
}

static void tent_on_from(struct th_fold *f, size_t from)
{
	for (size_t i = from; i < f->ntent; i++) {
		struct th_fold_tent *t = &f->tent[i];
		struct th_scene_refusal r;
		t->mark = th_journal_mark(&f->tj);
		t->applied = th_scene_apply(f->scene, &t->e, &f->tj, &r) == 0;
	}
}

void th_fold_tent_on(struct th_fold *f, bool quiet)
{
	if (!f->ntent)
		return;
	if (quiet)
		th_scene_on_change(f->scene, NULL, NULL);
	tent_on_from(f, 0);
	if (quiet)
		th_scene_on_change(f->scene, f->on_change, f->ud);
}

/* ---- replay -------------------------------------------------------------- */

/* Applies window entries from..nwin-1 in order, with the current exclusion
 * set; the scene is at entry from's mark. 0 or the scene's error (the
 * entries before the failing one stay applied). */
static int replay(struct th_fold *f, size_t from, size_t fresh)
{
	for (size_t i = from; i < f->nwin; i++) {
		struct th_fold_ent *w = W(f, i);
		w->mark = th_journal_mark(&f->j);
		if (is_control(w->e.type))
			continue;
		if (i != fresh)
			f->replayed++;
		struct th_fold_key k = key_of(&w->e);
		if (excluded(f, &k)) {
			w->status = TH_FOLD_EXCLUDED;
			w->reason = TH_REFUSE_NONE;
			w->why = "an edit.undo that stands undoes this entry";
			continue;
		}
		struct th_scene_refusal r = { 0 };
		int rc = th_scene_apply(f->scene, &w->e, &f->j, &r);
		if (rc == 0) {
			w->status = TH_FOLD_APPLIED;
			w->reason = TH_REFUSE_NONE;
			w->why = "";
		} else if (rc == -EINVAL) {
			w->status = TH_FOLD_REFUSED;
			w->reason = r.code;
			w->why = r.why ? r.why : "";
		} else {
			return rc;
		}
	}
	return 0;
}

/* Brings the scene forward again after a failed replay was reverted to
 * `from` (the failing entry taken out): the previous state. */
static void recover(struct th_fold *f, size_t from)
{
	if (replay(f, from, SIZE_MAX) < 0)
		f->broken = true;
}

static void ctl_restore(struct th_fold *f)
{
	for (size_t i = 0; i < f->nctl; i++)
		ctl_set(&f->ctl[i], f->ctl[i].rstatus, f->ctl[i].rreason, f->ctl[i].rwhy);
}

/* Drops the oldest entries past the window's bounds; they become the floor. */
static void trim(struct th_fold *f)
{
	while (f->nwin > 0) {
		size_t jbytes = th_journal_mark(&f->j) - W(f, 0)->mark;
		if (f->nwin <= f->win_max && f->ent_bytes + jbytes <= f->win_bytes_max)
			break;
		struct th_fold_ent *w = W(f, 0);
		bool found;
		size_t ai = author_find(f, w->e.author, &found);
		if (found && f->authors[ai].seq == w->e.seq && !f->authors[ai].head_ok) {
			th_logrec_entry_hash(&w->e, f->authors[ai].head);
			f->authors[ai].head_ok = true;
		}
		f->floor = key_of(&w->e);
		f->has_floor = true;
		f->ent_bytes -= sizeof *w + w->e.payload_len;
		free(w->payload);
		f->lo++;
		f->nwin--;
	}
	if (f->nwin == 0) {
		f->lo = 0;
		th_journal_truncate(&f->j, 0);
		return;
	}
	size_t dead = W(f, 0)->mark;
	if (dead >= FOLD_JOURNAL_CUT_MIN && dead >= f->j.len / 2) {
		memmove(f->j.buf, f->j.buf + dead, f->j.len - dead);
		f->j.len -= dead;
		for (size_t i = 0; i < f->nwin; i++)
			W(f, i)->mark -= dead;
	}
}

/* ---- adding -------------------------------------------------------------- */

/* Takes the record of key ck out of the control state again after a failed
 * add: the outcomes as last reported; revocations and roles are recomputed
 * with the next control entry. */
static void ctl_unadd(struct th_fold *f, const struct th_fold_key *ck)
{
	size_t ci = ctl_lower(f, ck);
	memmove(f->ctl + ci, f->ctl + ci + 1, (f->nctl - ci - 1) * sizeof *f->ctl);
	f->nctl--;
	ctl_restore(f);
	f->ctl_dirty = true;
}

static int add_control(struct th_fold *f, struct th_fold_ent *ent, size_t p)
{
	if (grow((void **)&f->ctl, &f->cap_ctl, f->nctl + 1, sizeof *f->ctl) < 0)
		return -ENOMEM;
	struct th_fold_ctl c;
	ctl_fill(&c, &ent->e, ent->pos);
	size_t ci = ctl_lower(f, &c.key);
	memmove(f->ctl + ci + 1, f->ctl + ci, (f->nctl - ci) * sizeof *f->ctl);
	f->ctl[ci] = c;
	f->nctl++;

	/* At the end of the order (arrivals in order, rebuilds) only the new
	 * record is decided; anywhere else every record is decided again. */
	struct th_fold_excl *nx = NULL;
	struct th_fold_key k;
	size_t nnx = 0;
	bool fast = !f->ctl_dirty && ci == f->nctl - 1, below = false;
	int rc, d = 0;
	if (fast) {
		rc = ctl_append(f, &f->ctl[ci], &k, &d);
		if (rc == 0 && d != 0) {
			/* the set of excluded keys changes when the first undo of
			 * k stands or the last one is revoked */
			uint32_t n = excl_count(f, &k);
			rc = (d > 0 && n == 0) || (d < 0 && n == 1);
		}
		if (rc == 1 && f->has_floor && th_fold_key_cmp(&k, &f->floor) <= 0) {
			/* an entry out of reach, unless it cannot be in the set */
			below = true;
			if (may_be_present(f, &k)) {
				rc = -ERANGE;
				f->out_of_window++;
			}
		}
		if (rc >= 0 && d > 0 && grow((void **)&f->excl, &f->cap_excl, f->nexcl + 1, sizeof *f->excl) < 0)
			rc = -ENOMEM;
	} else {
		rc = th_fold_ctl_recompute(f, &nx, &nnx);
		if (rc == 0) {
			rc = excl_diff(f, f->excl, f->nexcl, nx, nnx, &k);
			if (rc == -ERANGE)
				f->out_of_window++;
		}
	}
	if (rc < 0) {
		free(nx);
		ctl_unadd(f, &c.key);
		return rc;
	}
	/* the new exclusion set; the old one kept for a failed replay */
	struct th_fold_excl *ox = f->excl;
	size_t nox = f->nexcl, ocap = f->cap_excl;
	if (!fast) {
		f->excl = nx;
		f->nexcl = f->cap_excl = nnx;
	} else if (d != 0) {
		excl_change(f, &k, d);
	}
	ent->status = TH_FOLD_CONTROL;
	size_t q = rc == 1 && !below ? win_lower(f, &k) : f->nwin;
	if (q == f->nwin) {
		/* no folded entry changes: the entry takes its place with an
		 * empty step */
		ent->mark = p < f->nwin ? W(f, p)->mark : th_journal_mark(&f->j);
		win_insert(f, p, ent);
		if (!fast)
			free(ox);
		report(f, f->nwin, fast ? ci : 0);
		return 0;
	}
	/* back to the first entry whose exclusion changed, q; the control
	 * entry itself takes no step, so entries below q stay as they are */
	th_fold_tent_off(f, false);
	th_scene_revert(f->scene, &f->j, W(f, q)->mark);
	f->rollbacks++;
	size_t base = th_journal_mark(&f->j);
	ent->mark = p <= q ? W(f, p)->mark : base;
	win_insert(f, p, ent);
	size_t from = p <= q ? q + 1 : q;
	f->hash_ok = false;
	rc = replay(f, from, p);
	if (rc < 0) {
		/* back to the previous set: without the record and its exclusions */
		th_scene_revert(f->scene, &f->j, base);
		if (!fast) {
			free(f->excl);
			f->excl = ox;
			f->nexcl = nox;
			f->cap_excl = ocap;
		} else {
			excl_change(f, &k, -d);
		}
		win_remove(f, p);
		ctl_unadd(f, &c.key);
		recover(f, q);
		th_fold_tent_on(f, false);
		return rc;
	}
	if (!fast)
		free(ox);
	th_fold_tent_on(f, false);
	report(f, from < p ? from : p, fast ? ci : 0);
	return 0;
}

static int add_scene(struct th_fold *f, struct th_fold_ent *ent, size_t p)
{
	th_fold_tent_off(f, false);
	if (p < f->nwin) {
		th_scene_revert(f->scene, &f->j, W(f, p)->mark);
		f->rollbacks++;
	}
	size_t base = th_journal_mark(&f->j);
	win_insert(f, p, ent);
	f->hash_ok = false;
	int rc = replay(f, p, p);
	if (rc < 0) {
		th_scene_revert(f->scene, &f->j, base);
		win_remove(f, p);
		recover(f, p);
		th_fold_tent_on(f, false);
		return rc;
	}
	th_fold_tent_on(f, false);
	report(f, p, SIZE_MAX);
	return 0;
}

int th_fold_add(struct th_fold *f, const struct th_logrec_entry *e, uint64_t pos)
{
	if (!f || !e || e->payload_len > TH_LOGREC_PAYLOAD_MAX || (e->payload_len && !e->payload) ||
	    e->lamport == 0 || e->lamport > TH_LOGREC_LAMPORT_MAX)
		return -EINVAL;
	if (f->broken)
		return -ENOMEM;
	bool found;
	size_t ai = author_find(f, e->author, &found);
	struct th_fold_author *a = found ? &f->authors[ai] : NULL;
	uint64_t last = a ? a->seq : 0;
	if (e->seq <= last)
		return 1;
	if (e->seq != last + 1)
		return -EPROTO;
	static const uint8_t zero[TH_LOGREC_HASH_LEN];
	if (a && e->lamport <= a->lamport)
		return -EPROTO;
	/* The chain is the log's to verify; the fold checks prev where it
	 * holds the head (seq 1, the first entry after a restore). */
	if ((!a || a->head_ok) && memcmp(e->prev, a ? a->head : zero, TH_LOGREC_HASH_LEN) != 0)
		return -EPROTO;
	if (!a && f->nauthors >= TH_FOLD_AUTHORS_MAX)
		return -ENOSPC;
	struct th_fold_key k = key_of(e);
	if (f->has_floor && th_fold_key_cmp(&k, &f->floor) <= 0) {
		f->out_of_window++;
		return -ERANGE;
	}
	if (win_reserve(f) < 0 ||
	    (!a && grow((void **)&f->authors, &f->cap_authors, f->nauthors + 1, sizeof *f->authors) < 0))
		return -ENOMEM;

	struct th_fold_ent ent;
	memset(&ent, 0, sizeof ent);
	ent.e = *e;
	ent.e.has_sig = false;
	ent.pos = pos;
	if (e->payload_len) {
		ent.payload = malloc(e->payload_len);
		if (!ent.payload)
			return -ENOMEM;
		memcpy(ent.payload, e->payload, e->payload_len);
	}
	ent.e.payload = ent.payload;
	size_t p = win_lower(f, &k);
	int rc = is_control(e->type) ? add_control(f, &ent, p) : add_scene(f, &ent, p);
	if (rc < 0) {
		free(ent.payload);
		return rc;
	}
	if (!a) {
		memmove(f->authors + ai + 1, f->authors + ai, (f->nauthors - ai) * sizeof *f->authors);
		f->nauthors++;
		a = &f->authors[ai];
		memcpy(a->key, e->author, TH_FOLD_KEY_LEN);
	}
	a->seq = e->seq;
	a->lamport = e->lamport;
	a->head_ok = false; /* hashed when asked for, or when it leaves the window */
	f->entries++;
	if (pos + 1 > f->next_pos)
		f->next_pos = pos + 1;
	trim(f);
	return 0;
}

/* ---- life ---------------------------------------------------------------- */

int th_fold_new(const struct th_fold_config *c, struct th_fold **out)
{
	if (!c || !out)
		return -EINVAL;
	struct th_fold *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	memcpy(f->host, c->host_key, TH_FOLD_KEY_LEN);
	f->win_max = c->window_entries ? c->window_entries : TH_FOLD_WINDOW_ENTRIES;
	f->win_bytes_max = c->window_bytes ? c->window_bytes : TH_FOLD_WINDOW_BYTES;
	f->on_outcome = c->on_outcome;
	f->on_change = c->on_change;
	f->ud = c->ud;
	th_journal_init(&f->j, 0);
	th_journal_init(&f->tj, 0);
	int rc = th_scene_create(&f->scene);
	if (rc < 0) {
		free(f);
		return rc;
	}
	th_scene_on_change(f->scene, f->on_change, f->ud);
	*out = f;
	return 0;
}

int th_fold_create(const struct th_fold_config *c, struct th_fold **out) { return th_fold_new(c, out); }

void th_fold_destroy(struct th_fold **pf)
{
	if (!pf || !*pf)
		return;
	struct th_fold *f = *pf;
	for (size_t i = 0; i < f->nwin; i++)
		free(W(f, i)->payload);
	for (size_t i = 0; i < f->ntent; i++)
		free(f->tent[i].payload);
	free(f->win);
	free(f->authors);
	free(f->ctl);
	free(f->excl);
	free(f->roles);
	free(f->tent);
	th_journal_fini(&f->j);
	th_journal_fini(&f->tj);
	th_scene_destroy(&f->scene);
	free(f);
	*pf = NULL;
}

void th_fold_set_window(struct th_fold *f, uint32_t entries, size_t bytes)
{
	if (!f)
		return;
	f->win_max = entries ? entries : TH_FOLD_WINDOW_ENTRIES;
	f->win_bytes_max = bytes ? bytes : TH_FOLD_WINDOW_BYTES;
	trim(f);
}

/* ---- reading ------------------------------------------------------------- */

const struct th_scene *th_fold_scene(const struct th_fold *f) { return f ? f->scene : NULL; }

void th_fold_stats(const struct th_fold *f, struct th_fold_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!f)
		return;
	out->entries = f->entries;
	out->applied = f->applied;
	out->refused = f->refused;
	out->excluded = f->excluded;
	out->control = f->control;
	out->rollbacks = f->rollbacks;
	out->replayed = f->replayed;
	out->out_of_window = f->out_of_window;
	out->window_entries = f->nwin;
	out->window_bytes = f->nwin ? f->ent_bytes + th_journal_mark(&f->j) - W(f, 0)->mark : 0;
	out->next_pos = f->next_pos;
	out->tentative = f->ntent;
}

int th_fold_world_hash(struct th_fold *f, uint8_t out[TH_SCENE_HASH_LEN])
{
	if (!f)
		return -EINVAL;
	if (!f->hash_ok) {
		th_fold_tent_off(f, true);
		int rc = th_scene_hash(f->scene, f->hash);
		th_fold_tent_on(f, true);
		if (rc < 0)
			return rc;
		f->hash_ok = true;
	}
	memcpy(out, f->hash, TH_SCENE_HASH_LEN);
	return 0;
}

void th_fold_author_head(const struct th_fold *f, const struct th_fold_author *a, uint8_t out[TH_LOGREC_HASH_LEN])
{
	if (!a->head_ok) {
		/* its last entry is in the window: trim hashes it on the way out */
		struct th_fold_key k;
		k.lamport = a->lamport;
		memcpy(k.author, a->key, TH_FOLD_KEY_LEN);
		size_t i = win_lower(f, &k);
		if (i < f->nwin && W(f, i)->e.lamport == k.lamport &&
		    memcmp(W(f, i)->e.author, k.author, TH_FOLD_KEY_LEN) == 0 &&
		    th_logrec_entry_hash(&W(f, i)->e, out) == 0)
			return;
	}
	memcpy(out, a->head, TH_LOGREC_HASH_LEN);
}

void th_fold_set_digest(const struct th_fold *f, uint8_t out[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, fold_set_domain, sizeof fold_set_domain);
	for (size_t i = 0; f && i < f->nauthors; i++) {
		const struct th_fold_author *a = &f->authors[i];
		uint8_t seq[8];
		th_put_le64(seq, a->seq);
		crypto_generichash_update(&st, a->key, TH_FOLD_KEY_LEN);
		crypto_generichash_update(&st, seq, sizeof seq);
		uint8_t head[TH_LOGREC_HASH_LEN];
		th_fold_author_head(f, a, head);
		crypto_generichash_update(&st, head, TH_LOGREC_HASH_LEN);
	}
	crypto_generichash_final(&st, out, 32);
}

uint64_t th_fold_author_seq(const struct th_fold *f, const uint8_t author[TH_LOGREC_KEY_LEN])
{
	if (!f || !author)
		return 0;
	bool found;
	size_t i = author_find(f, author, &found);
	return found ? f->authors[i].seq : 0;
}

int th_fold_outcome_of(const struct th_fold *f, uint64_t lamport, const uint8_t author[TH_LOGREC_KEY_LEN],
		       struct th_fold_outcome *o)
{
	if (!f || !author || !o)
		return -EINVAL;
	struct th_fold_key k;
	k.lamport = lamport;
	memcpy(k.author, author, TH_FOLD_KEY_LEN);
	const struct th_fold_ctl *c = ctl_find(f, &k);
	if (c) {
		ctl_outcome(c, o);
		return 0;
	}
	size_t i = win_lower(f, &k);
	if (i < f->nwin) {
		struct th_fold_key wk = key_of(&W(f, i)->e);
		if (th_fold_key_cmp(&wk, &k) == 0) {
			ent_outcome(W(f, i), o);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- tentatives ---------------------------------------------------------- */

int th_fold_tentative_add(struct th_fold *f, uint64_t token, const struct th_logrec_entry *e,
			  struct th_scene_refusal *r)
{
	if (!f || !e || !r || e->payload_len > TH_LOGREC_PAYLOAD_MAX || (e->payload_len && !e->payload))
		return -EINVAL;
	for (size_t i = 0; i < f->ntent; i++)
		if (f->tent[i].token == token)
			return -EEXIST;
	if (is_control(e->type)) {
		r->code = TH_REFUSE_NOT_SCENE;
		r->why = "undo, redo and session entries show once they are folded";
		return -EINVAL;
	}
	if (f->ntent >= FOLD_TENTATIVE_MAX) {
		r->code = TH_REFUSE_LIMIT;
		r->why = "too many optimistic edits are waiting for the fold";
		return -EINVAL;
	}
	if (grow((void **)&f->tent, &f->cap_tent, f->ntent + 1, sizeof *f->tent) < 0)
		return -ENOMEM;
	struct th_fold_tent t;
	memset(&t, 0, sizeof t);
	t.token = token;
	t.e = *e;
	t.e.has_sig = false;
	if (e->payload_len) {
		t.payload = malloc(e->payload_len);
		if (!t.payload)
			return -ENOMEM;
		memcpy(t.payload, e->payload, e->payload_len);
	}
	t.e.payload = t.payload;
	t.mark = th_journal_mark(&f->tj);
	int rc = th_scene_apply(f->scene, &t.e, &f->tj, r);
	if (rc < 0) {
		free(t.payload);
		return rc;
	}
	t.applied = true;
	f->tent[f->ntent++] = t;
	return 0;
}

int th_fold_tentative_drop(struct th_fold *f, uint64_t token)
{
	if (!f)
		return -EINVAL;
	size_t i = 0;
	while (i < f->ntent && f->tent[i].token != token)
		i++;
	if (i == f->ntent)
		return -ENOENT;
	th_scene_revert(f->scene, &f->tj, f->tent[i].mark);
	free(f->tent[i].payload);
	memmove(f->tent + i, f->tent + i + 1, (f->ntent - i - 1) * sizeof *f->tent);
	f->ntent--;
	tent_on_from(f, i);
	return 0;
}
