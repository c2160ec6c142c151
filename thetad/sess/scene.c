/* Every session's scene: a th_fold per session fed from the log, with
 * checkpoints and restart (scene.h says how the states go). Runs on the
 * loop thread; checkpoint files are encoded and written by a child
 * process (scene_ckpt.c, sess_ckpt_fork). */
#include "sess/scene.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clog/clog.h"
#include "sess/module_int.h"
#include "sess/scene_ckpt.h"
#include "sess/sessions.h"
#include "srv/control.h"
#include "srv/daemon.h"
#include "srv/metrics.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_fold.h"
#include "th_hex.h"
#include "th_hist.h"
#include "th_log.h"
#include "th_loop.h"
#include "th_scene.h"
#include "th_time.h"

enum sess_scene_state {
	SESS_SCENE_WAITING = 0, /* member session: host key not known yet */
	SESS_SCENE_REBUILDING,
	SESS_SCENE_CATCHING_UP,
	SESS_SCENE_LIVE,
	SESS_SCENE_FAILED,
};

static const char *const sess_scene_state_names[] = {
	[SESS_SCENE_WAITING] = "waiting",
	[SESS_SCENE_REBUILDING] = "rebuilding",
	[SESS_SCENE_CATCHING_UP] = "catching-up",
	[SESS_SCENE_LIVE] = "live",
	[SESS_SCENE_FAILED] = "failed",
};

/* A callback's answer that stops clog_entries_since: the pass is over. */
#define SESS_SCENE_STOP (-ECANCELED)

struct sess_scene {
	struct sess_module *m;
	struct sess_session *s;
	struct th_fold *f;
	uint8_t state; /* enum sess_scene_state */
	bool live;     /* outcomes go to the listeners (folding from sess_on_durable) */
	bool wide;     /* the fold's window covers the whole log (a total-order rebuild) */
	uint64_t next; /* log positions below are in f (catching-up, live) */
	/* Rebuilding: entries at positions below scan_end, in total order,
	 * from lamport scan_since + 1 on (the last pass's final lamport again:
	 * entries already in answer 1). */
	uint64_t scan_end, scan_since, scan_folded;
	struct clog_cursor *cur; /* catching-up */
	bool pass_wanted;
	uint64_t retry_ns;       /* failed: when to rebuild again */
	char error[256];
	bool eproto_logged;
	uint64_t eproto;
	uint64_t rebuilds;
	uint64_t build_start_ns, built_ns; /* the last restore or rebuild: start, time to live */
	bool built;
	/* The entry whose -ERANGE caused the rebuild: its outcome goes to the
	 * listeners once it is in. */
	bool has_cause;
	uint64_t cause_lamport;
	uint8_t cause_author[TH_LOGREC_KEY_LEN];
	/* Checkpoints. */
	uint64_t since_ckpt;  /* entries folded since the last checkpoint (or the open) */
	uint64_t ckpt_due_ns; /* time-driven checkpoint due (0: nothing changed) */
	uint64_t ckpt_retry_ns; /* after a failure, none before this */
	struct sess_ckpt_child child; /* the checkpoint being written by a child (pid 0: none) */
	bool writing;  /* or by the writer thread */
	bool fork_next; /* an encode here took longer than SESS_SCENE_INLINE_MAX_NS */
	uint64_t child_start_ns;
	bool ckpt_fail_logged;
	bool have_ckpt;
	uint64_t ckpt_pos, ckpt_wall_ns;
	uint8_t ckpt_hash[TH_SCENE_HASH_LEN];
	uint64_t pending_pos;
};

struct sess_scene_listener {
	sess_scene_listener_fn *fn;
	void *ud;
};

struct sess_scene_mod {
	uint64_t ckpt_entries, ckpt_interval_ns;
	uint32_t window_entries; /* the folds' rollback window (0: th_fold's default) */
	bool started;      /* sess_scene_start ran (metrics registered) */
	uint64_t fork_elements; /* scene elements from which a child writes the checkpoint */
	struct sess_ckpt_writer *writer;
	unsigned children; /* checkpoint children running, all sessions */
	int pass_fd;
	bool pass_armed;
	struct sess_scene_listener listeners[SESS_SCENE_LISTENERS_MAX];
	struct th_hist fold_ns, fork_ns, encode_ns;
	uint64_t *m_folded, *m_applied, *m_refused, *m_excluded, *m_rollbacks, *m_rebuilds, *m_eproto, *m_failures;
	uint64_t *m_ckpt_writes, *m_ckpt_fail, *m_ckpt_damaged, *m_ckpt_restored, *m_ckpt_bytes;
	uint64_t *m_fold_p999_us, *m_fold_max_us, *m_fork_p999_us, *m_fork_max_us, *m_pass_max_us, *m_ckpt_ms;
	uint64_t *m_encode_p999_us, *m_encode_max_us;
};

static void sess_scene_rebuild(struct sess_scene *sc, uint64_t now_ns, bool total_order);
static void sess_scene_out_of_window(struct sess_scene *sc, uint64_t pos, uint64_t now_ns);

static struct sess_scene_mod *sess_scene_mod_of(struct sess_scene *sc)
{
	return sc->m->scene;
}

static void sess_scene_arm(struct sess_module *m)
{
	struct sess_scene_mod *sm = m->scene;
	if (sm && sm->pass_fd >= 0 && !sm->pass_armed) {
		th_timerfd_set(sm->pass_fd, 1, 0);
		sm->pass_armed = true;
	}
}

/* ---- the fold ------------------------------------------------------------------ */

static void sess_scene_outcome(void *ud, const struct th_fold_outcome *o)
{
	struct sess_scene *sc = ud;
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	if (!sc->live)
		return; /* a rebuild or catch-up: reported when first folded */
	switch (o->status) {
	case TH_FOLD_APPLIED:
		(*sm->m_applied)++;
		break;
	case TH_FOLD_REFUSED:
		(*sm->m_refused)++;
		break;
	case TH_FOLD_EXCLUDED:
		(*sm->m_excluded)++;
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < SESS_SCENE_LISTENERS_MAX; i++)
		if (sm->listeners[i].fn)
			sm->listeners[i].fn(sm->listeners[i].ud, sc->s, o);
}

/* The session's host: this daemon for a hosted session, the host's key
 * (from its ACK) for a member one; false while not known. */
static bool sess_scene_host_key(struct sess_scene *sc, uint8_t key[TH_LOGREC_KEY_LEN])
{
	static const uint8_t zero[TH_LOGREC_KEY_LEN];
	if (sc->s->role == SESS_ROLE_HOST) {
		if (!sc->m->host)
			return false;
		memcpy(key, sc->m->host->pk, TH_LOGREC_KEY_LEN);
		return true;
	}
	if (!memcmp(sc->s->link.host_key, zero, sizeof(zero)))
		return false;
	memcpy(key, sc->s->link.host_key, TH_LOGREC_KEY_LEN);
	return true;
}

static bool sess_scene_config(struct sess_scene *sc, struct th_fold_config *c)
{
	*c = (struct th_fold_config){ .on_outcome = sess_scene_outcome, .ud = sc,
				      .window_entries = sess_scene_mod_of(sc)->window_entries };
	return sess_scene_host_key(sc, c->host_key);
}

static void sess_scene_fail(struct sess_scene *sc, int err, const char *what, uint64_t now_ns)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	clog_cursor_close(&sc->cur);
	th_fold_destroy(&sc->f);
	sc->state = SESS_SCENE_FAILED;
	sc->live = false;
	sc->retry_ns = now_ns + SESS_SCENE_RETRY_NS;
	snprintf(sc->error, sizeof(sc->error), "%s: %s", what, th_strerror(err));
	(*sm->m_failures)++;
	th_err("session %s: its scene is not available (%s); rebuilding it from the log again in %.0f s", sc->s->id,
	       sc->error, (double)SESS_SCENE_RETRY_NS / 1e9);
}

/* Folds one entry of position pos. Returns 0 (folded, or already in),
 * or -ERANGE (the caller rebuilds), or another negative errno (failed). */
static int sess_scene_add(struct sess_scene *sc, const struct th_logrec_entry *e, uint64_t pos)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	struct th_fold_stats st;
	th_fold_stats(sc->f, &st);
	uint64_t rollbacks = st.rollbacks;
	uint64_t t0 = sc->live ? th_now_ns() : 0;
	int r = th_fold_add(sc->f, e, pos);
	if (sc->live)
		th_hist_add(&sm->fold_ns, th_now_ns() - t0);
	if (r == 0) {
		(*sm->m_folded)++;
		sc->since_ckpt++;
		th_fold_stats(sc->f, &st);
		*sm->m_rollbacks += st.rollbacks - rollbacks;
		return 0;
	}
	if (r == 1)
		return 0;
	if (r == -EPROTO || r == -ENOSPC) {
		/* The log keeps every author's chain in order and takes no more
		 * authors than the fold: this means a bug. */
		(*sm->m_eproto)++;
		sc->eproto++;
		if (!sc->eproto_logged) {
			char fpr[TH_KEY_FPR_LEN];
			th_key_fingerprint(e->author, fpr, sizeof(fpr));
			th_err("session %s: the fold refused the entry of %s seq %" PRIu64 " (log position %" PRIu64
			       "): %s; it is left out of the scene (logged once)",
			       sc->s->id, fpr, e->seq, pos,
			       r == -EPROTO ? "its author's chain has a hole or goes back there"
					    : "more authors than the fold takes");
			sc->eproto_logged = true;
		}
		return 0;
	}
	if (r == -ERANGE) {
		sc->has_cause = true;
		sc->cause_lamport = e->lamport;
		memcpy(sc->cause_author, e->author, TH_LOGREC_KEY_LEN);
	}
	return r;
}

/* ---- checkpoints ------------------------------------------------------------------ */

static void sess_scene_ckpt_done(struct sess_scene *sc, int status, uint64_t next_pos, uint64_t write_ns)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	struct sess_ckpt_header h;
	if (status == 0)
		status = sess_ckpt_read_header(sc->s->dir, next_pos, &h);
	*sm->m_ckpt_ms = write_ns / 1000000;
	if (status < 0) {
		(*sm->m_ckpt_fail)++;
		/* Tried again after the interval (or the next N entries). */
		sc->since_ckpt += next_pos - (sc->have_ckpt && sc->ckpt_pos <= next_pos ? sc->ckpt_pos : 0);
		sc->ckpt_retry_ns = sc->ckpt_due_ns = th_now_ns() + sm->ckpt_interval_ns;
		if (!sc->ckpt_fail_logged)
			th_err("session %s: writing the scene checkpoint of position %" PRIu64 " under %s/%s failed: %s "
			       "(logged once until one succeeds; restarts replay more of the log meanwhile)",
			       sc->s->id, next_pos, sc->s->dir, SESS_CKPT_DIR, th_strerror(status));
		sc->ckpt_fail_logged = true;
		return;
	}
	(*sm->m_ckpt_writes)++;
	if (sc->ckpt_fail_logged)
		th_info("session %s: scene checkpoints are written again (position %" PRIu64 ")", sc->s->id, next_pos);
	sc->ckpt_fail_logged = false;
	sc->have_ckpt = true;
	sc->ckpt_pos = next_pos;
	sc->ckpt_wall_ns = th_wall_ns();
	memcpy(sc->ckpt_hash, h.world_hash, sizeof(sc->ckpt_hash));
	*sm->m_ckpt_bytes = SESS_CKPT_HEADER_LEN + h.snapshot_len;
}

/* The checkpoint file's bytes for the live scene (header and snapshot)
 * into *w (initialised here): in the checkpoint's child, or at a stop. */
static int sess_scene_ckpt_encode(struct sess_scene *sc, struct th_wbuf *w, struct sess_ckpt_header *h)
{
	th_wbuf_init(w, SESS_CKPT_HEADER_LEN + SESS_CKPT_SNAPSHOT_MAX);
	th_wbuf_extend(w, SESS_CKPT_HEADER_LEN);
	int r = th_wbuf_error(w);
	if (r == 0)
		r = th_fold_snapshot(sc->f, w);
	if (r == 0)
		r = th_fold_world_hash(sc->f, h->world_hash);
	if (r < 0) {
		th_wbuf_fini(w);
		return r;
	}
	memcpy(h->session, sc->s->id_bytes, sizeof(h->session));
	th_fold_set_digest(sc->f, h->set_digest);
	h->next_pos = sc->next;
	h->snapshot_len = w->len - SESS_CKPT_HEADER_LEN;
	sess_ckpt_header_put(w->data, h);
	return 0;
}

static int sess_scene_child_encode(void *ud, struct th_wbuf *file)
{
	struct sess_ckpt_header h;
	return sess_scene_ckpt_encode(ud, file, &h);
}

/* The checkpoint's child exited. */
static void sess_scene_on_child(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_scene *sc = user;
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	(void)events;
	int r = sess_ckpt_reap(&sc->child, false);
	if (r == -EAGAIN)
		return; /* not yet (a spurious wake-up) */
	th_loop_del(loop, fd);
	sm->children--;
	sess_scene_ckpt_done(sc, r, sc->pending_pos, th_now_ns() - sc->child_start_ns);
}

/* A checkpoint of the live scene, encoded and written by a child process
 * (the loop pays for the fork). */
static void sess_scene_writer_done(void *ud, int status, uint64_t next_pos, uint64_t write_ns)
{
	struct sess_scene *sc = ud;
	sc->writing = false;
	sess_scene_ckpt_done(sc, status, next_pos, write_ns);
}

/* A small scene's checkpoint: encoded here, written by the writer thread. */
static int sess_scene_checkpoint_inline(struct sess_scene *sc, uint64_t t0)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	struct th_wbuf w;
	struct sess_ckpt_header h;
	int r = sess_scene_ckpt_encode(sc, &w, &h);
	if (r < 0)
		return r;
	uint64_t took = th_now_ns() - t0;
	th_hist_add(&sm->encode_ns, took);
	*sm->m_encode_p999_us = th_hist_quantile(&sm->encode_ns, 0.999) / 1000;
	*sm->m_encode_max_us = sm->encode_ns.max / 1000;
	if (took > SESS_SCENE_INLINE_MAX_NS)
		sc->fork_next = true; /* too slow for the loop: a child from now on */
	r = sess_ckpt_writer_submit(sm->writer, sc->s->dir, h.next_pos, w.data, w.len, sess_scene_writer_done, sc);
	if (r < 0) {
		th_wbuf_fini(&w);
		return r;
	}
	sc->writing = true;
	return 0;
}

static void sess_scene_checkpoint(struct sess_scene *sc, uint64_t now_ns)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	if (sc->state != SESS_SCENE_LIVE || sc->child.pid || sc->writing || !sc->since_ckpt)
		return;
	struct th_scene_stats ss;
	th_scene_stats(th_fold_scene(sc->f), &ss);
	bool here = !sc->fork_next && ss.entities + ss.vertices + ss.faces < sm->fork_elements;
	if (!here && sm->children >= SESS_CKPT_CHILDREN_MAX)
		return; /* tried again after the next entry or tick */
	uint64_t t0 = th_now_ns();
	int r;
	if (here) {
		r = sess_scene_checkpoint_inline(sc, t0);
	} else if ((r = sess_ckpt_fork(sc->s->dir, sc->next, sess_scene_child_encode, sc, &sc->child)) == 0) {
		sm->children++;
		th_hist_add(&sm->fork_ns, th_now_ns() - t0);
		*sm->m_fork_p999_us = th_hist_quantile(&sm->fork_ns, 0.999) / 1000;
		*sm->m_fork_max_us = sm->fork_ns.max / 1000;
		r = th_loop_add(srv_daemon_loop(sc->m->d), sc->child.pidfd, EPOLLIN, sess_scene_on_child, sc);
		if (r < 0) {
			sess_ckpt_reap(&sc->child, true);
			sm->children--;
		}
	}
	if (r < 0) {
		(*sm->m_ckpt_fail)++;
		if (!sc->ckpt_fail_logged)
			th_err("session %s: the scene checkpoint of position %" PRIu64 " could not be made: %s (logged once)",
			       sc->s->id, sc->next, th_strerror(r));
		sc->ckpt_fail_logged = true;
		sc->ckpt_retry_ns = sc->ckpt_due_ns = now_ns + sm->ckpt_interval_ns;
		return;
	}
	sc->child_start_ns = t0;
	sc->pending_pos = sc->next;
	sc->since_ckpt = 0;
	sc->ckpt_due_ns = 0;
}

/* After an entry was folded: a checkpoint when N entries were. */
static void sess_scene_after_fold(struct sess_scene *sc, uint64_t now_ns)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	if (!sc->since_ckpt)
		return;
	if (!sc->ckpt_due_ns)
		sc->ckpt_due_ns = now_ns + sm->ckpt_interval_ns;
	if (sc->since_ckpt >= sm->ckpt_entries && now_ns >= sc->ckpt_retry_ns)
		sess_scene_checkpoint(sc, now_ns);
}

/* ---- restart from a checkpoint ------------------------------------------------------ */

struct sess_scene_check {
	struct clog *log;
	struct th_fold *f;
	uint64_t next_pos, sum;
	bool bad;
};

static int sess_scene_check_author(void *user, const uint8_t key[32], uint64_t head, const uint8_t hash[32])
{
	struct sess_scene_check *k = user;
	uint64_t seq = th_fold_author_seq(k->f, key), pos;
	(void)hash;
	k->sum += seq;
	if (seq > head) {
		k->bad = true;
	} else if (seq && (clog_pos_of(k->log, key, seq, &pos) < 0 || pos >= k->next_pos)) {
		k->bad = true;
	} else if (seq < head && clog_pos_of(k->log, key, seq + 1, &pos) == 0 && pos < k->next_pos) {
		k->bad = true; /* the log has more of this author below next_pos */
	}
	return k->bad ? -EINVAL : 0;
}

/* Whether the restored fold holds exactly the log's entries below
 * next_pos, as far as the log's indexes tell: per author, the fold's last
 * seq is the last one below next_pos, and no author is in the fold only. */
static bool sess_scene_matches_log(struct clog *log, struct th_fold *f, uint64_t next_pos)
{
	struct sess_scene_check k = { .log = log, .f = f, .next_pos = next_pos };
	struct th_fold_stats st;
	if (clog_authors_each(log, sess_scene_check_author, &k) < 0 || k.bad)
		return false;
	th_fold_stats(f, &st);
	return k.sum == st.entries;
}

int sess_scene_ckpt_load(const struct th_fold_config *c, const uint8_t *p, size_t len,
			 const uint8_t session[SESS_CKPT_ID_LEN], struct sess_ckpt_header *h, struct th_fold **out,
			 const char **why)
{
	struct sess_ckpt_header x;
	const uint8_t *snap;
	struct th_fold *f = NULL;
	uint8_t hash[TH_SCENE_HASH_LEN], digest[32];
	int r = sess_ckpt_parse(p, len, session, &x, &snap, why);
	if (r < 0)
		return r;
	const char *fwhy = NULL;
	r = th_fold_restore(c, snap, (size_t)x.snapshot_len, &f, &fwhy);
	if (r < 0) {
		*why = fwhy ? fwhy : "its snapshot does not restore";
		return r;
	}
	if ((r = th_fold_world_hash(f, hash)) < 0) {
		th_fold_destroy(&f);
		return r;
	}
	if (memcmp(hash, x.world_hash, sizeof(hash))) {
		th_fold_destroy(&f);
		*why = "the world hash of its scene differs from the one in its header";
		return -EBADMSG;
	}
	th_fold_set_digest(f, digest);
	if (memcmp(digest, x.set_digest, sizeof(digest))) {
		th_fold_destroy(&f);
		*why = "the digest of its entry set differs from the one in its header";
		return -EBADMSG;
	}
	*h = x;
	*out = f;
	return 0;
}

static void sess_scene_damaged(struct sess_scene *sc, uint64_t pos, const char *why)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	char path[4300];
	(*sm->m_ckpt_damaged)++;
	sess_ckpt_path(sc->s->dir, pos, path, sizeof(path));
	th_warn("session %s: scene checkpoint %s is not used: %s", sc->s->id, path, why);
}

/* Restores the newest checkpoint that validates completely. */
static bool sess_scene_restore(struct sess_scene *sc)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	uint64_t count = clog_count(sc->s->log), pos[SESS_CKPT_LIST_MAX];
	int removed = sess_ckpt_tidy(sc->s->dir, count);
	if (removed > 0) {
		*sm->m_ckpt_damaged += (uint64_t)removed;
		th_warn("session %s: %d scene checkpoint%s covered entries past the end of the log (%" PRIu64
			" entries; recovery cut the rest) and %s removed",
			sc->s->id, removed, removed == 1 ? "" : "s", count, removed == 1 ? "was" : "were");
	}
	int n = sess_ckpt_list(sc->s->dir, pos, SESS_CKPT_LIST_MAX);
	for (int i = 0; i < n; i++) {
		uint8_t *buf = NULL;
		size_t len;
		struct sess_ckpt_header h;
		const char *why = NULL;
		struct th_fold_config c;
		struct th_fold *f = NULL;
		int r = sess_ckpt_read(sc->s->dir, pos[i], &buf, &len);
		if (r < 0) {
			char text[128];
			snprintf(text, sizeof(text), "it cannot be read: %s", th_strerror(r));
			sess_scene_damaged(sc, pos[i], text);
			continue;
		}
		if (!sess_scene_config(sc, &c)) {
			free(buf);
			return false; /* waits for the host key */
		}
		if ((r = sess_scene_ckpt_load(&c, buf, len, sc->s->id_bytes, &h, &f, &why)) < 0) {
			char text[300];
			snprintf(text, sizeof(text), "%s", r == -EBADMSG && why ? why : th_strerror(r));
			sess_scene_damaged(sc, pos[i], text);
		} else if (h.next_pos != pos[i]) {
			sess_scene_damaged(sc, pos[i], "the position in its header differs from its name");
		} else if (!sess_scene_matches_log(sc->s->log, f, h.next_pos)) {
			sess_scene_damaged(sc, pos[i], "its entry set is not the log's entries below its position");
		} else {
			struct stat sb;
			char path[4300];
			sc->f = f;
			sc->next = h.next_pos;
			sc->have_ckpt = true;
			sc->ckpt_pos = h.next_pos;
			memcpy(sc->ckpt_hash, h.world_hash, sizeof(sc->ckpt_hash));
			sess_ckpt_path(sc->s->dir, pos[i], path, sizeof(path));
			sc->ckpt_wall_ns = stat(path, &sb) == 0 ? (uint64_t)sb.st_mtim.tv_sec * TH_NS_PER_S +
									 (uint64_t)sb.st_mtim.tv_nsec
								 : th_wall_ns();
			(*sm->m_ckpt_restored)++;
			th_info("session %s: scene restored from the checkpoint of position %" PRIu64 "; folding %" PRIu64
				" more log entries",
				sc->s->id, h.next_pos, count - h.next_pos);
			free(buf);
			return true;
		}
		th_fold_destroy(&f);
		free(buf);
	}
	return false;
}

/* ---- rebuilding and catching up ------------------------------------------------------ */

static void sess_scene_cursor_ready(void *user)
{
	struct sess_scene *sc = user;
	sc->pass_wanted = true;
	sess_scene_arm(sc->m);
}

static void sess_scene_go_live(struct sess_scene *sc, uint64_t now_ns)
{
	clog_cursor_close(&sc->cur);
	if (sc->state != SESS_SCENE_LIVE && sc->build_start_ns) {
		sc->built_ns = th_now_ns() - sc->build_start_ns;
		sc->built = true;
		if (sc->next)
			th_info("session %s: scene live at log position %" PRIu64 " after %.1f ms", sc->s->id, sc->next,
				(double)sc->built_ns / 1e6);
	}
	if (sc->wide) { /* the rebuild is over: the usual window again */
		th_fold_set_window(sc->f, sess_scene_mod_of(sc)->window_entries, 0);
		sc->wide = false;
	}
	sc->state = SESS_SCENE_LIVE;
	sc->live = true;
	sc->error[0] = 0;
	if (sc->has_cause) {
		struct th_fold_outcome o;
		sc->has_cause = false;
		if (th_fold_outcome_of(sc->f, sc->cause_lamport, sc->cause_author, &o) == 0)
			sess_scene_outcome(sc, &o);
	}
	sess_scene_after_fold(sc, now_ns);
}

/* Folds the tail from sc->next on; live at its end. */
static void sess_scene_catch_up(struct sess_scene *sc, uint64_t now_ns)
{
	sc->state = SESS_SCENE_CATCHING_UP;
	sc->live = false;
	clog_cursor_close(&sc->cur);
	if (sc->next >= clog_count(sc->s->log)) {
		sess_scene_go_live(sc, now_ns);
		return;
	}
	int r = clog_cursor_open(sc->s->log, sc->next, sess_scene_cursor_ready, sc, &sc->cur);
	if (r < 0) {
		sess_scene_fail(sc, r, "the log's tail cannot be read", now_ns);
		return;
	}
	sc->pass_wanted = true;
	sess_scene_arm(sc->m);
}

struct sess_scan {
	struct sess_scene *sc;
	uint64_t deadline_ns, last_lamport, folded;
	unsigned seen;
	int err;
	uint64_t err_pos;
};

static int sess_scan_one(void *user, const struct th_logrec_entry *e)
{
	struct sess_scan *k = user;
	struct sess_scene *sc = k->sc;
	uint64_t pos;
	int r = clog_pos_of(sc->s->log, e->author, e->seq, &pos);
	if (r < 0) {
		k->err = r;
		return r;
	}
	k->seen++;
	if (pos < sc->scan_end) { /* the rest comes from the tail, in position order */
		uint64_t before = th_fold_author_seq(sc->f, e->author);
		r = sess_scene_add(sc, e, pos);
		if (r < 0) {
			k->err = r;
			k->err_pos = pos;
			return r;
		}
		if (th_fold_author_seq(sc->f, e->author) != before)
			k->folded++;
	}
	k->last_lamport = e->lamport;
	/* A pass ends past the lamport it started from (+ 1), so the next one
	 * (from the final lamport's group again) starts higher. */
	if (e->lamport > sc->scan_since + 1 &&
	    (k->folded >= SESS_SCENE_PASS_ENTRIES ||
	     (k->seen % SESS_SCENE_PASS_CHECK == 0 && th_now_ns() >= k->deadline_ns)))
		return SESS_SCENE_STOP;
	return 0;
}

/* One bounded pass of a rebuild; true when it wants another. */
static bool sess_scene_scan_pass(struct sess_scene *sc, uint64_t now_ns)
{
	struct sess_scan k = { .sc = sc, .deadline_ns = now_ns + SESS_SCENE_PASS_NS, .last_lamport = sc->scan_since };
	int r = clog_entries_since(sc->s->log, sc->scan_since, 0, sess_scan_one, &k);
	sc->scan_folded += k.folded;
	if (r == SESS_SCENE_STOP && !k.err) {
		/* The final lamport's group again next time (its entries
		 * already in answer 1): a group may continue past the stop. */
		sc->scan_since = k.last_lamport - 1;
		return true;
	}
	if (k.err == -ERANGE) {
		/* In total order with a window over the whole log, nothing is
		 * below it: a fold bug. Tried again later, not in a loop. */
		sess_scene_fail(sc, k.err, "the fold refused an entry below its window during a rebuild", now_ns);
		return false;
	}
	if (r < 0) {
		sess_scene_fail(sc, k.err ? k.err : r, "reading the log to rebuild the scene failed", now_ns);
		return false;
	}
	sc->next = sc->scan_end;
	sess_scene_catch_up(sc, now_ns);
	return false;
}

/* One bounded pass over the tail; true when it wants another. */
static bool sess_scene_tail_pass(struct sess_scene *sc, uint64_t now_ns)
{
	uint64_t deadline = now_ns + SESS_SCENE_PASS_NS;
	for (unsigned n = 0; n < SESS_SCENE_PASS_ENTRIES; n++) {
		uint64_t pos;
		struct th_logrec_entry e;
		int r = clog_cursor_next(sc->cur, &pos, &e);
		if (r == 0) {
			sess_scene_go_live(sc, now_ns);
			return false;
		}
		if (r == -EAGAIN)
			return false; /* sess_scene_cursor_ready comes back */
		if (r < 0) {
			sess_scene_fail(sc, r, "reading the log's tail failed", now_ns);
			return false;
		}
		if (pos < sc->next)
			continue;
		r = sess_scene_add(sc, &e, pos);
		if (r == -ERANGE) {
			sess_scene_out_of_window(sc, pos, now_ns);
			return false;
		}
		if (r < 0) {
			sess_scene_fail(sc, r, "folding the log's tail failed", now_ns);
			return false;
		}
		sc->next = pos + 1;
		if (n % SESS_SCENE_PASS_CHECK == SESS_SCENE_PASS_CHECK - 1 && th_now_ns() >= deadline)
			break;
	}
	return true;
}

/* A new fold from position 0 (the old one goes): in position order from
 * a cursor (the log's read-ahead on the worker), or, after an entry fell
 * below the rollback window, in total order (each entry read on the loop,
 * none can fall below it). */
static void sess_scene_rebuild(struct sess_scene *sc, uint64_t now_ns, bool total_order)
{
	struct th_fold_config c;
	clog_cursor_close(&sc->cur);
	th_fold_destroy(&sc->f);
	sc->live = false;
	sc->wide = false;
	sc->next = 0;
	if (!sc->s->log) {
		sess_scene_fail(sc, -EIO, "the log is not open", now_ns);
		return;
	}
	if (!sess_scene_config(sc, &c)) {
		sc->state = SESS_SCENE_WAITING;
		return;
	}
	int r = th_fold_create(&c, &sc->f);
	if (r < 0) {
		sess_scene_fail(sc, r, "the fold cannot be created", now_ns);
		return;
	}
	sc->build_start_ns = now_ns;
	/* Everything is folded again: the next checkpoint counts from the
	 * last one written. */
	sc->since_ckpt = 0;
	if (!total_order) {
		sess_scene_catch_up(sc, now_ns);
		return;
	}
	/* Every entry stays in reach while the whole log is folded again (an
	 * undo of an old entry: th_fold_set_window), until the scene is live. */
	th_fold_set_window(sc->f, UINT32_MAX, SIZE_MAX);
	sc->wide = true;
	sc->state = SESS_SCENE_REBUILDING;
	sc->scan_end = clog_count(sc->s->log);
	sc->scan_since = 0;
	sc->scan_folded = 0;
	sc->pass_wanted = true;
	sess_scene_arm(sc->m);
}

/* The entry at pos sorts below the fold's rollback window. */
static void sess_scene_out_of_window(struct sess_scene *sc, uint64_t pos, uint64_t now_ns)
{
	struct sess_scene_mod *sm = sess_scene_mod_of(sc);
	(*sm->m_rebuilds)++;
	sc->rebuilds++;
	th_info("session %s: the entry at log position %" PRIu64 " sorts below the scene's rollback window; "
		"rebuilding the scene from the log",
		sc->s->id, pos);
	sess_scene_rebuild(sc, now_ns, true);
}

static void sess_scene_on_pass(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_module *m = user;
	struct sess_scene_mod *sm = m->scene;
	bool more = false;
	(void)loop;
	(void)events;
	th_timerfd_drain(fd);
	sm->pass_armed = false;
	uint64_t now = th_now_ns();
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_scene *sc = m->reg.s[i]->scene;
		if (!sc || !sc->pass_wanted)
			continue;
		sc->pass_wanted = false;
		bool again = false;
		if (sc->state == SESS_SCENE_REBUILDING)
			again = sess_scene_scan_pass(sc, now);
		else if (sc->state == SESS_SCENE_CATCHING_UP && sc->cur)
			again = sess_scene_tail_pass(sc, now);
		if (again || sc->pass_wanted) {
			sc->pass_wanted = true;
			more = true;
		}
	}
	uint64_t took = (th_now_ns() - now) / 1000;
	if (took > *sm->m_pass_max_us)
		*sm->m_pass_max_us = took;
	if (more)
		sess_scene_arm(m); /* the loop serves everything else first */
}

/* ---- the module's side ------------------------------------------------------------- */

void sess_scene_on_durable(struct sess_session *s, const struct clog_event *ev)
{
	struct sess_scene *sc = s->scene;
	if (!sc)
		return;
	if (sc->state == SESS_SCENE_WAITING) {
		/* The host's ACK brought its key before this entry. */
		uint8_t key[TH_LOGREC_KEY_LEN];
		if (sess_scene_host_key(sc, key))
			sess_scene_rebuild(sc, th_now_ns(), false);
		return;
	}
	if (sc->state != SESS_SCENE_LIVE || ev->pos < sc->next)
		return; /* the cursor gets there, or it is in */
	uint64_t now = th_now_ns();
	if (ev->pos > sc->next) {
		sess_scene_catch_up(sc, now);
		return;
	}
	int r = sess_scene_add(sc, ev->entry, ev->pos);
	if (r == -ERANGE) {
		sess_scene_out_of_window(sc, ev->pos, now);
		return;
	}
	if (r < 0) {
		sess_scene_fail(sc, r, "folding a durable entry failed", now);
		return;
	}
	sc->next = ev->pos + 1;
	sess_scene_after_fold(sc, now);
}

void sess_scene_open(struct sess_module *m, struct sess_session *s)
{
	if (!m->scene || !m->scene->started || !s->log || s->scene)
		return;
	struct sess_scene *sc = calloc(1, sizeof(*sc));
	if (!sc) {
		th_err("session %s: no memory for its scene", s->id);
		return;
	}
	sc->m = m;
	sc->s = s;
	sc->child.pidfd = -1;
	s->scene = sc;
	uint64_t now = th_now_ns();
	sc->build_start_ns = now;
	if (sess_scene_restore(sc)) {
		sess_scene_catch_up(sc, now);
		return;
	}
	uint8_t key[TH_LOGREC_KEY_LEN];
	if (!sess_scene_host_key(sc, key)) {
		sc->state = SESS_SCENE_WAITING;
		return;
	}
	sess_scene_rebuild(sc, now, false);
}

static void sess_scene_free(struct sess_module *m, struct sess_session *s)
{
	struct sess_scene *sc = s->scene;
	if (!sc)
		return;
	if (m->scene && m->scene->writer)
		sess_ckpt_writer_forget(m->scene->writer, sc);
	if (sc->child.pid) {
		/* Its write lands (or fails) first. */
		th_loop_del(srv_daemon_loop(m->d), sc->child.pidfd);
		sess_ckpt_reap(&sc->child, true);
		if (m->scene)
			m->scene->children--;
	}
	clog_cursor_close(&sc->cur);
	th_fold_destroy(&sc->f);
	free(sc);
	s->scene = NULL;
}

void sess_scene_close(struct sess_module *m, struct sess_session *s)
{
	sess_scene_free(m, s);
}

void sess_scene_log_suspend(struct sess_module *m, struct sess_session *s)
{
	(void)m;
	if (s->scene)
		clog_cursor_close(&s->scene->cur);
}

void sess_scene_log_reopened(struct sess_module *m, struct sess_session *s)
{
	struct sess_scene *sc = s->scene;
	if (!sc)
		return;
	/* Recovery may have cut entries the fold holds. */
	(*m->scene->m_rebuilds)++;
	sc->rebuilds++;
	sc->has_cause = false;
	sess_scene_rebuild(sc, th_now_ns(), false);
}

void sess_scene_tick(struct sess_module *m, uint64_t now_ns)
{
	struct sess_scene_mod *sm = m->scene;
	if (!sm || !sm->started)
		return;
	uint8_t key[TH_LOGREC_KEY_LEN];
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_session *s = m->reg.s[i];
		struct sess_scene *sc = s->scene;
		if (!sc && s->log) {
			sess_scene_open(m, s); /* a session created since (host, join) */
			continue;
		}
		if (!sc)
			continue;
		if (sc->state == SESS_SCENE_FAILED && now_ns >= sc->retry_ns && s->log && !s->log_dead)
			sess_scene_rebuild(sc, now_ns, true);
		else if (sc->state == SESS_SCENE_WAITING && s->log && sess_scene_host_key(sc, key))
			sess_scene_rebuild(sc, now_ns, false);
		else if (sc->state == SESS_SCENE_LIVE && sc->ckpt_due_ns && now_ns >= sc->ckpt_due_ns)
			sess_scene_checkpoint(sc, now_ns);
	}
	*sm->m_fold_p999_us = th_hist_quantile(&sm->fold_ns, 0.999) / 1000;
	*sm->m_fold_max_us = sm->fold_ns.max / 1000;
}

static void sess_scene_on_writer(struct th_loop *loop, int fd, uint32_t events, void *user)
{
	struct sess_module *m = user;
	(void)loop;
	(void)fd;
	(void)events;
	sess_ckpt_writer_poll(m->scene->writer);
}

void sess_scene_set_listener(struct sess_module *m, sess_scene_listener_fn *fn, void *ud)
{
	/* Before sess_scene_start too: the state comes into being here. */
	if (!m->scene) {
		if (!(m->scene = calloc(1, sizeof(*m->scene))))
			return;
		m->scene->pass_fd = -1;
	}
	struct sess_scene_mod *sm = m->scene;
	for (unsigned i = 0; i < SESS_SCENE_LISTENERS_MAX; i++)
		if (sm->listeners[i].fn && sm->listeners[i].ud == ud) {
			sm->listeners[i].fn = fn;
			return;
		}
	if (!fn)
		return;
	for (unsigned i = 0; i < SESS_SCENE_LISTENERS_MAX; i++)
		if (!sm->listeners[i].fn) {
			sm->listeners[i] = (struct sess_scene_listener){ .fn = fn, .ud = ud };
			return;
		}
}

struct th_fold *sess_scene_fold(struct sess_session *s)
{
	return s->scene && s->scene->state == SESS_SCENE_LIVE ? s->scene->f : NULL;
}

uint64_t sess_scene_position(struct sess_session *s)
{
	return sess_scene_fold(s) ? s->scene->next : 0;
}

struct sess_fold_at {
	struct th_fold *f;
	struct clog *log;
	uint64_t at;
	int err;
};

static int sess_fold_at_one(void *user, const struct th_logrec_entry *e)
{
	struct sess_fold_at *k = user;
	uint64_t pos;
	int r = clog_pos_of(k->log, e->author, e->seq, &pos);
	if (r == 0 && pos < k->at && (r = th_fold_add(k->f, e, pos)) > 0)
		r = 0;
	if (r < 0)
		k->err = r;
	return r;
}

int sess_scene_fold_at_check(struct sess_session *s, uint64_t at)
{
	uint8_t key[TH_LOGREC_KEY_LEN];
	if (!s->scene || !s->log || !sess_scene_host_key(s->scene, key))
		return -EAGAIN;
	return at > clog_count(s->log) ? -ERANGE : 0;
}

int sess_scene_fold_at(struct sess_session *s, uint64_t at, struct th_fold **out)
{
	struct th_fold_config c = { 0 };
	int r0 = sess_scene_fold_at_check(s, at);
	if (r0 < 0)
		return r0;
	sess_scene_host_key(s->scene, c.host_key);
	struct sess_fold_at k = { .log = s->log, .at = at };
	int r = th_fold_create(&c, &k.f);
	if (r < 0)
		return r;
	/* In total order nothing falls below the window; keep it whole anyway. */
	th_fold_set_window(k.f, UINT32_MAX, SIZE_MAX);
	r = clog_entries_since(s->log, 0, 0, sess_fold_at_one, &k);
	if (r < 0 || k.err < 0) {
		th_fold_destroy(&k.f);
		return k.err < 0 ? k.err : r;
	}
	*out = k.f;
	return 0;
}

int sess_scene_snapshot(struct sess_session *s, struct th_wbuf *out, uint64_t *next_pos)
{
	struct th_fold *f = sess_scene_fold(s);
	if (!f)
		return -EAGAIN;
	int r = th_fold_snapshot(f, out);
	if (r == 0)
		*next_pos = s->scene->next;
	return r;
}

int sess_scene_start(struct sess_module *m, const struct sess_scene_config *cfg, char *msg, unsigned len)
{
	/* A listener may have been set already (sess_scene_set_listener). */
	struct sess_scene_mod *sm = m->scene ? m->scene : calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	sm->pass_fd = -1;
	sm->ckpt_entries = cfg && cfg->ckpt_entries ? cfg->ckpt_entries : SESS_SCENE_CKPT_ENTRIES_DEFAULT;
	sm->ckpt_interval_ns = cfg && cfg->ckpt_interval_ns ? cfg->ckpt_interval_ns : SESS_SCENE_CKPT_INTERVAL_DEFAULT_NS;
	sm->fork_elements = cfg ? cfg->fork_elements : SESS_SCENE_FORK_ELEMENTS_DEFAULT;
	/* Tests: a small rollback window, so that a few late entries make
	 * the scene rebuild from its log. */
	const char *we = getenv("THETAD_TEST_SCENE_WINDOW");
	if (we && *we && strtoul(we, NULL, 10) > 0 && strtoul(we, NULL, 10) < TH_FOLD_WINDOW_ENTRIES) {
		sm->window_entries = (uint32_t)strtoul(we, NULL, 10);
		th_warn("THETAD_TEST_SCENE_WINDOW is set: scenes roll back at most %u entries (tests only)",
			sm->window_entries);
	}
	struct srv_metrics *mx = srv_daemon_metrics(m->d);
	sm->m_folded = srv_counter(mx, "scene_folded_total", "log entries folded into sessions' scenes (new to the fold)");
	sm->m_applied = srv_counter(mx, "scene_applied_total", "live fold outcomes: entries applied to a scene");
	sm->m_refused = srv_counter(mx, "scene_refused_total",
				    "live fold outcomes: entries the fold refused (reported to the author's clients)");
	sm->m_excluded = srv_counter(mx, "scene_excluded_total", "live fold outcomes: entries left out by an edit.undo");
	sm->m_rollbacks = srv_counter(mx, "scene_rollbacks_total",
				      "folds that rolled a scene back to place an entry below newer ones");
	sm->m_rebuilds = srv_counter(mx, "scene_rebuilds_total",
				     "scenes rebuilt from their log (an entry below the rollback window, a reopened log)");
	sm->m_eproto = srv_counter(mx, "scene_left_out_total",
				   "entries the fold refused for a hole in their author's chain or too many authors "
				   "(a bug: left out of the scene, logged once)");
	sm->m_failures = srv_counter(mx, "scene_failures_total", "scenes that could not be built (log unreadable)");
	sm->m_ckpt_writes = srv_counter(mx, "scene_checkpoint_writes_total", "scene checkpoint files written");
	sm->m_ckpt_fail = srv_counter(mx, "scene_checkpoint_failures_total", "scene checkpoints that could not be written");
	sm->m_ckpt_damaged = srv_counter(mx, "scene_checkpoint_damaged_total",
					 "scene checkpoint files not used at a start: damaged, or not matching the log");
	sm->m_ckpt_restored = srv_counter(mx, "scene_checkpoint_restored_total", "scenes restored from a checkpoint file");
	sm->m_ckpt_bytes = srv_gauge(mx, "scene_checkpoint_bytes", "size of the last scene checkpoint encoded");
	sm->m_fold_p999_us = srv_gauge(mx, "scene_fold_p999_us", "time to fold one live entry, p99.9 (us)");
	sm->m_fold_max_us = srv_gauge(mx, "scene_fold_max_us", "time to fold one live entry, max (us)");
	sm->m_fork_p999_us = srv_gauge(mx, "scene_checkpoint_fork_p999_us",
				       "loop time to start a checkpoint (fork of its child), p99.9 (us)");
	sm->m_fork_max_us = srv_gauge(mx, "scene_checkpoint_fork_max_us",
				      "loop time to start a checkpoint (fork of its child), max (us)");
	sm->m_encode_p999_us = srv_gauge(mx, "scene_checkpoint_encode_p999_us",
					 "loop time to encode a small scene's checkpoint (its writer thread writes it), p99.9 (us)");
	sm->m_encode_max_us = srv_gauge(mx, "scene_checkpoint_encode_max_us",
					"loop time to encode a small scene's checkpoint (its writer thread writes it), max (us)");
	sm->m_ckpt_ms = srv_gauge(mx, "scene_checkpoint_last_ms",
				  "how long the last checkpoint's child took to encode and write it (ms)");
	sm->m_pass_max_us = srv_gauge(mx, "scene_pass_max_us",
				      "longest loop pass of a scene rebuild or catch-up (us; its CPU and any wait for one)");
	m->scene = sm;
	int r = sess_ckpt_writer_create(&sm->writer);
	if (r < 0 ||
	    (r = th_loop_add(srv_daemon_loop(m->d), sess_ckpt_writer_fd(sm->writer), EPOLLIN, sess_scene_on_writer, m)) < 0) {
		snprintf(msg, len, "cannot start the scene checkpoint writer: %s", th_strerror(r));
		return r;
	}
	sm->pass_fd = th_timerfd_create(0, 0);
	if (sm->pass_fd < 0 || (r = th_loop_add(srv_daemon_loop(m->d), sm->pass_fd, EPOLLIN, sess_scene_on_pass, m)) < 0) {
		r = sm->pass_fd < 0 ? sm->pass_fd : r;
		snprintf(msg, len, "cannot create the scene timer: %s", th_strerror(r));
		return r;
	}
	sm->started = true;
	for (unsigned i = 0; i < m->reg.n; i++)
		sess_scene_open(m, m->reg.s[i]);
	return 0;
}

void sess_scene_stop(struct sess_module *m)
{
	struct sess_scene_mod *sm = m->scene;
	if (!sm)
		return;
	/* A checkpoint being written lands first; then a last one of each
	 * changed live scene, in this call. */
	if (sm->writer) {
		th_loop_del(srv_daemon_loop(m->d), sess_ckpt_writer_fd(sm->writer));
		sess_ckpt_writer_destroy(&sm->writer);
	}
	for (unsigned i = 0; i < m->reg.n; i++) {
		struct sess_scene *sc = m->reg.s[i]->scene;
		if (sc && sc->child.pid) {
			th_loop_del(srv_daemon_loop(m->d), sc->child.pidfd);
			int r = sess_ckpt_reap(&sc->child, true);
			sm->children--;
			if (r < 0)
				sc->since_ckpt++; /* the stop's checkpoint covers it */
		}
		if (sc && sc->state == SESS_SCENE_LIVE && sc->since_ckpt) {
			struct th_wbuf w;
			struct sess_ckpt_header h;
			int r = sess_scene_ckpt_encode(sc, &w, &h);
			if (r == 0) {
				r = sess_ckpt_write(sc->s->dir, h.next_pos, w.data, w.len);
				th_wbuf_fini(&w);
			}
			if (r < 0)
				th_warn("session %s: the scene checkpoint at stop could not be written: %s", sc->s->id,
					th_strerror(r));
		}
		sess_scene_free(m, m->reg.s[i]);
	}
	if (sm->pass_fd >= 0) {
		th_loop_del(srv_daemon_loop(m->d), sm->pass_fd);
		close(sm->pass_fd);
	}
	free(sm);
	m->scene = NULL;
}

/* ---- `scene` -------------------------------------------------------------------------- */

static void sess_json_hash(struct json_object *o, const char *key, const uint8_t h[TH_SCENE_HASH_LEN])
{
	char hex[2 * TH_SCENE_HASH_LEN + 1];
	th_hex_encode(h, TH_SCENE_HASH_LEN, hex);
	json_object_object_add(o, key, json_object_new_string(hex));
}

int sess_cmd_scene(void *u, const struct srv_ctl_caller *caller, struct json_object *args, struct json_object **res,
		   char *err, size_t errlen)
{
	struct sess_module *m = u;
	struct sess_session *s;
	int r = sess_pick_open(m, caller, args, &s, err, errlen);
	if (r < 0)
		return r;
	struct sess_scene *sc = s->scene;
	if (!sc) {
		snprintf(err, errlen, "session %s has no scene yet (it is being opened); try again", s->id);
		return -EAGAIN;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "session", json_object_new_string(s->id));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "state", json_object_new_string(sess_scene_state_names[sc->state]));
	json_object_object_add(o, "log_count", json_object_new_uint64(clog_count(s->log)));
	if (sc->f) {
		struct th_scene_stats ss;
		struct th_fold_stats fs;
		uint8_t hash[TH_SCENE_HASH_LEN];
		th_scene_stats(th_fold_scene(sc->f), &ss);
		th_fold_stats(sc->f, &fs);
		json_object_object_add(o, "entities", json_object_new_uint64(ss.entities));
		json_object_object_add(o, "meshes", json_object_new_uint64(ss.meshes));
		json_object_object_add(o, "vertices", json_object_new_uint64(ss.vertices));
		json_object_object_add(o, "faces", json_object_new_uint64(ss.faces));
		json_object_object_add(o, "edges", json_object_new_uint64(ss.edges));
		json_object_object_add(o, "materials", json_object_new_uint64(ss.materials));
		if (th_fold_world_hash(sc->f, hash) == 0)
			sess_json_hash(o, "world_hash", hash);
		json_object_object_add(o, "log_position",
				       json_object_new_uint64(sc->state == SESS_SCENE_REBUILDING ? 0 : sc->next));
		json_object_object_add(o, "folded", json_object_new_uint64(fs.entries));
		json_object_object_add(o, "applied", json_object_new_uint64(fs.applied));
		json_object_object_add(o, "refused", json_object_new_uint64(fs.refused));
		json_object_object_add(o, "excluded", json_object_new_uint64(fs.excluded));
		json_object_object_add(o, "control", json_object_new_uint64(fs.control));
		json_object_object_add(o, "rollbacks", json_object_new_uint64(fs.rollbacks));
		json_object_object_add(o, "window_entries", json_object_new_uint64(fs.window_entries));
		json_object_object_add(o, "window_bytes", json_object_new_uint64(fs.window_bytes));
	}
	json_object_object_add(o, "rebuilds", json_object_new_uint64(sc->rebuilds));
	if (sc->built)
		json_object_object_add(o, "built_ms", json_object_new_double((double)sc->built_ns / 1e6));
	if (sc->state == SESS_SCENE_REBUILDING)
		json_object_object_add(o, "rebuild_folded", json_object_new_uint64(sc->scan_folded));
	if (sc->state == SESS_SCENE_FAILED)
		json_object_object_add(o, "error", json_object_new_string(sc->error));
	if (sc->have_ckpt) {
		struct json_object *c = json_object_new_object();
		uint64_t now = th_wall_ns();
		json_object_object_add(c, "position", json_object_new_uint64(sc->ckpt_pos));
		sess_json_hash(c, "world_hash", sc->ckpt_hash);
		json_object_object_add(c, "age_s", json_object_new_double(now > sc->ckpt_wall_ns
										  ? (double)(now - sc->ckpt_wall_ns) / 1e9
										  : 0.0));
		json_object_object_add(o, "checkpoint", c);
	} else {
		json_object_object_add(o, "checkpoint", NULL);
	}
	*res = o;
	return 0;
}

/* ---- verified late join (thetad/sess/scene_join.c) ---------------------------------- */

int sess_scene_install(struct sess_session *s, const uint8_t *snap, size_t len, uint64_t next_pos)
{
	struct sess_scene *sc = s->scene;
	struct th_fold_config c;
	struct th_fold *f = NULL;
	const char *why = NULL;
	(void)next_pos; /* the host's position: this log's positions differ */
	if (!sc || !s->log)
		return -ENOENT;
	if (!sess_scene_config(sc, &c))
		return -EAGAIN;
	int r = th_fold_restore(&c, snap, len, &f, &why);
	if (r < 0)
		return r;
	/* Every entry of the log so far is in it (scene_join.c checked): the
	 * fold goes on from the log's end, and what the log delivers later
	 * that the snapshot holds is a duplicate for th_fold_add. */
	clog_cursor_close(&sc->cur);
	th_fold_destroy(&sc->f);
	sc->f = f;
	sc->next = clog_count(s->log);
	sc->since_ckpt = 0;
	sc->has_cause = false;
	sess_scene_catch_up(sc, th_now_ns());
	return 0;
}
