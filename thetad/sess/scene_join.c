/* The scene's side of the verified late join (scene_join.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "sess/client_scene.h"
#include "sess/scene.h"
#include "sess/scene_ckpt.h"
#include "sess/scene_join.h"
#include "sess/sessions.h"
#include "th_err.h"
#include "th_fold.h"
#include "th_hex.h"
#include "th_buf.h"
#include "th_logrec.h"

_Static_assert(PROTO_SESS_SCENE_HASH_LEN == TH_SCENE_HASH_LEN, "one world hash length");

/* The checkpoint file of position pos, checked (CRC, session): its
 * snapshot bytes appended to out, its position and hashes. */
static int join_ckpt_file(struct sess_session *s, uint64_t pos, struct th_wbuf *out, uint64_t *next_pos,
			  uint8_t world_hash[PROTO_SESS_SCENE_HASH_LEN], uint8_t set_digest[PROTO_SESS_SCENE_HASH_LEN])
{
	uint8_t *buf = NULL;
	size_t len;
	struct sess_ckpt_header h;
	const uint8_t *snap;
	const char *why = NULL;
	int r = sess_ckpt_read(s->dir, pos, &buf, &len);
	if (r < 0)
		return r;
	r = sess_ckpt_parse(buf, len, s->id_bytes, &h, &snap, &why);
	if (r == 0 && h.next_pos != pos)
		r = -EBADMSG;
	if (r == 0) {
		size_t at = out->len;
		th_wbuf_put(out, snap, (size_t)h.snapshot_len);
		if ((r = th_wbuf_error(out)) < 0)
			out->len = at;
	}
	if (r == 0) {
		*next_pos = h.next_pos;
		memcpy(world_hash, h.world_hash, PROTO_SESS_SCENE_HASH_LEN);
		memcpy(set_digest, h.set_digest, PROTO_SESS_SCENE_HASH_LEN);
	}
	free(buf);
	return r;
}

int sess_scene_join_latest(struct sess_session *s, struct th_wbuf *out, uint64_t *next_pos,
			   uint8_t world_hash[PROTO_SESS_SCENE_HASH_LEN], uint8_t set_digest[PROTO_SESS_SCENE_HASH_LEN])
{
	if (s->role != SESS_ROLE_HOST || !s->log)
		return -ENOENT; /* only a host speaks for the session's scene */
	/* The newest checkpoint file when it covers the whole log (read, not
	 * encoded: the loop does not encode a large scene); else the live
	 * scene (it covers every entry durable now, so the member needs
	 * nothing of the log to match it); else an older file. */
	uint64_t pos[1];
	int n = sess_ckpt_list(s->dir, pos, 1);
	if (n == 1 && pos[0] == clog_count(s->log) &&
	    join_ckpt_file(s, pos[0], out, next_pos, world_hash, set_digest) == 0)
		return 0;
	struct th_fold *f = sess_scene_fold(s);
	if (!f)
		return n == 1 ? join_ckpt_file(s, pos[0], out, next_pos, world_hash, set_digest) : -ENOENT;
	size_t at = out->len;
	uint64_t p;
	int r = sess_scene_snapshot(s, out, &p);
	if (r == 0)
		r = th_fold_world_hash(f, world_hash);
	if (r < 0) {
		out->len = at;
		return r;
	}
	th_fold_set_digest(f, set_digest);
	*next_pos = p;
	return 0;
}

const char *sess_scene_join_decline(struct sess_session *s, uint64_t next_pos)
{
	if (!s->log)
		return "the session's log is not open here";
	if (clog_count(s->log) >= next_pos)
		return "this daemon's log already holds as many entries as the checkpoint covers";
	return NULL;
}

struct join_check {
	const struct th_fold *f;
	uint8_t key[TH_LOGREC_KEY_LEN];
	uint64_t have, in_ckpt;
};

static int join_check_author(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	struct join_check *k = user;
	(void)hash;
	uint64_t in = th_fold_author_seq(k->f, key);
	if (in >= seq)
		return 0;
	memcpy(k->key, key, sizeof(k->key));
	k->have = seq;
	k->in_ckpt = in;
	return -EEXIST;
}

int sess_scene_join_install(struct sess_session *s, const uint8_t *snap, size_t len,
			    const struct proto_sess_snap_offer *o, char *why, size_t whylen)
{
	static const uint8_t zero[TH_LOGREC_KEY_LEN];
	if (s->role != SESS_ROLE_MEMBER || !s->log) {
		snprintf(why, whylen, "only an open member session takes its host's checkpoint");
		return -EINVAL;
	}
	if (!memcmp(s->link.host_key, zero, sizeof(zero))) {
		snprintf(why, whylen, "the host's key is not known here yet");
		return -EAGAIN;
	}
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, s->link.host_key, sizeof(c.host_key));
	struct th_fold *f = NULL;
	const char *w = NULL;
	int r = th_fold_restore(&c, snap, len, &f, &w);
	if (r < 0) {
		snprintf(why, whylen, "the host's checkpoint does not unpack: %s", r == -EBADMSG && w ? w : th_strerror(r));
		return r;
	}
	uint8_t h[TH_SCENE_HASH_LEN], d[TH_SCENE_HASH_LEN];
	char a[2 * TH_SCENE_HASH_LEN + 1], b[2 * TH_SCENE_HASH_LEN + 1];
	r = th_fold_world_hash(f, h);
	if (r < 0) {
		snprintf(why, whylen, "the world hash of the host's checkpoint cannot be computed: %s", th_strerror(r));
		goto out;
	}
	if (memcmp(h, o->world_hash, sizeof(h))) {
		th_hex_encode(h, 8, a);
		th_hex_encode(o->world_hash, 8, b);
		snprintf(why, whylen, "the scene unpacked from the host's checkpoint has another world hash (%s...) than "
			 "the host signed (%s...)", a, b);
		r = -EBADMSG;
		goto out;
	}
	th_fold_set_digest(f, d);
	if (memcmp(d, o->set_digest, sizeof(d))) {
		snprintf(why, whylen, "the entry set in the host's checkpoint has another digest than the host signed");
		r = -EBADMSG;
		goto out;
	}
	/* Everything this daemon folded (or will fold from its log so far)
	 * must be in it: later log entries fold on top as duplicates or new. */
	struct join_check k = { .f = f };
	r = clog_authors_each(s->log, join_check_author, &k);
	if (r == -EEXIST) {
		char fpr[TH_KEY_FPR_LEN];
		th_key_fingerprint(k.key, fpr, sizeof(fpr));
		snprintf(why, whylen, "this daemon's log holds entries of %s up to seq %" PRIu64 " and the checkpoint only "
			 "up to %" PRIu64, fpr, k.have, k.in_ckpt);
		r = -ESTALE;
		goto out;
	}
	if (r < 0) {
		snprintf(why, whylen, "this daemon's log cannot be compared with the checkpoint: %s", th_strerror(r));
		goto out;
	}
	th_fold_destroy(&f);
	r = sess_scene_install(s, snap, len, o->next_pos);
	if (r < 0) {
		snprintf(why, whylen, "the session's scene could not be replaced by the checkpoint: %s", th_strerror(r));
		return r;
	}
	/* clients that mirror the scene see the installed one at once */
	if (s->owner)
		sess_cscene_resync_session(s->owner, s);
	return 0;
out:
	th_fold_destroy(&f);
	return r;
}
