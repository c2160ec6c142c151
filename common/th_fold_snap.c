/* Fold snapshots (th_fold.h, docs/scene.md "Snapshot"): the canonical state
 * of a fold, zstd-compressed behind a checked header, and the restore that
 * validates every byte of one before it builds a fold from it.
 *
 * Header (48 bytes, little-endian):
 *   u32 magic "THS1"  u32 version (2: faces carry provenance; 1 is not read)
 *   u64 content length
 *   BLAKE2b-256 of the content
 * then one zstd frame that states its content size. Content:
 *   host key[32]  u64 next_pos
 *   u64 entries, applied, refused, excluded, control
 *   u32 authors, per author ascending key: key[32] u64 seq u64 lamport head[32]
 *   u8 has frontier, u64 lamport, key[32]: the newest folded entry
 *   u32 control records, ascending key, each:
 *     u64 lamport key[32] u64 seq u64 pos u16 type u8 bad, then unless bad:
 *     edit.undo / edit.redo: u64 target lamport, target author[32];
 *     session.role_set: member[32] u8 role
 *   u32 scene length, th_scene_encode bytes */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "th_cmd.h"
#include "th_fold.h"
#include "th_fold_int.h"
#include "th_payload.h"

#define FOLD_SNAP_VERSION TH_FOLD_SNAPSHOT_VERSION
#define FOLD_SNAP_HDR_LEN 48u
#define FOLD_SNAP_ZSTD_LEVEL 3
#define FOLD_SNAP_AUTHOR_LEN (32u + 8u + 8u + 32u)
#define FOLD_SNAP_CTL_MIN (8u + 32u + 8u + 8u + 2u + 1u)

static bool ctl_has_target(uint16_t type) { return type == TH_CMD_EDIT_UNDO || type == TH_CMD_EDIT_REDO; }

static int snap_content(struct th_fold *f, struct th_wbuf *b)
{
	th_wbuf_put(b, f->host, TH_FOLD_KEY_LEN);
	th_wbuf_u64(b, f->next_pos);
	th_wbuf_u64(b, f->entries);
	th_wbuf_u64(b, f->applied);
	th_wbuf_u64(b, f->refused);
	th_wbuf_u64(b, f->excluded);
	th_wbuf_u64(b, f->control);
	th_wbuf_u32(b, (uint32_t)f->nauthors);
	struct th_fold_key front;
	memset(&front, 0, sizeof front);
	for (size_t i = 0; i < f->nauthors; i++) {
		const struct th_fold_author *a = &f->authors[i];
		th_wbuf_put(b, a->key, TH_FOLD_KEY_LEN);
		th_wbuf_u64(b, a->seq);
		th_wbuf_u64(b, a->lamport);
		uint8_t head[TH_LOGREC_HASH_LEN];
		th_fold_author_head(f, a, head);
		th_wbuf_put(b, head, TH_LOGREC_HASH_LEN);
		struct th_fold_key k;
		k.lamport = a->lamport;
		memcpy(k.author, a->key, TH_FOLD_KEY_LEN);
		if (i == 0 || th_fold_key_cmp(&k, &front) > 0)
			front = k;
	}
	th_wbuf_u8(b, f->nauthors > 0);
	th_wbuf_u64(b, front.lamport);
	th_wbuf_put(b, front.author, TH_FOLD_KEY_LEN);
	th_wbuf_u32(b, (uint32_t)f->nctl);
	for (size_t i = 0; i < f->nctl; i++) {
		const struct th_fold_ctl *c = &f->ctl[i];
		th_wbuf_u64(b, c->key.lamport);
		th_wbuf_put(b, c->key.author, TH_FOLD_KEY_LEN);
		th_wbuf_u64(b, c->seq);
		th_wbuf_u64(b, c->pos);
		th_wbuf_u16(b, c->type);
		th_wbuf_u8(b, c->bad);
		if (c->bad)
			continue;
		if (ctl_has_target(c->type)) {
			th_wbuf_u64(b, c->target.lamport);
			th_wbuf_put(b, c->target.author, TH_FOLD_KEY_LEN);
		} else if (c->type == TH_CMD_SESSION_ROLE_SET) {
			th_wbuf_put(b, c->member, TH_FOLD_KEY_LEN);
			th_wbuf_u8(b, c->role);
		}
	}
	size_t at = b->len;
	th_wbuf_u32(b, 0);
	int rc = th_wbuf_error(b);
	if (rc < 0)
		return rc;
	th_fold_tent_off(f, true);
	rc = th_scene_encode(f->scene, b);
	th_fold_tent_on(f, true);
	if (rc < 0)
		return rc;
	rc = th_wbuf_error(b);
	if (rc < 0)
		return rc;
	size_t slen = b->len - at - 4;
	if (slen > UINT32_MAX)
		return -EMSGSIZE;
	th_put_le32(b->data + at, (uint32_t)slen);
	return 0;
}

int th_fold_snapshot(struct th_fold *f, struct th_wbuf *w)
{
	if (!f || !w)
		return -EINVAL;
	struct th_wbuf b;
	th_wbuf_init(&b, TH_FOLD_SNAPSHOT_MAX);
	int rc = snap_content(f, &b);
	if (rc < 0) {
		th_wbuf_fini(&b);
		return rc;
	}
	size_t bound = ZSTD_compressBound(b.len);
	size_t start = w->len;
	uint8_t *out = th_wbuf_extend(w, FOLD_SNAP_HDR_LEN + bound);
	if (!out) {
		th_wbuf_fini(&b);
		return th_wbuf_error(w) < 0 ? th_wbuf_error(w) : -ENOMEM;
	}
	th_put_le32(out, TH_FOLD_SNAPSHOT_MAGIC);
	th_put_le32(out + 4, FOLD_SNAP_VERSION);
	th_put_le64(out + 8, b.len);
	crypto_generichash(out + 16, 32, b.data, b.len, NULL, 0);
	size_t z = ZSTD_compress(out + FOLD_SNAP_HDR_LEN, bound, b.data, b.len, FOLD_SNAP_ZSTD_LEVEL);
	th_wbuf_fini(&b);
	if (ZSTD_isError(z)) {
		w->len = start;
		return -ENOMEM;
	}
	w->len = start + FOLD_SNAP_HDR_LEN + z;
	return 0;
}

/* ---- restore ------------------------------------------------------------- */

#define BAD(text)                                                                                          \
	do {                                                                                               \
		*why = (text);                                                                             \
		return -EBADMSG;                                                                           \
	} while (0)

static int rd_key(struct th_rbuf *r, uint8_t out[TH_FOLD_KEY_LEN]) { return th_rbuf_bytes(r, out, TH_FOLD_KEY_LEN); }

static int restore_authors(struct th_fold *f, struct th_rbuf *r, uint64_t entries, const char **why)
{
	uint32_t n;
	if (th_rbuf_u32(r, &n) < 0)
		BAD("the snapshot ends inside its version vector");
	if (n > TH_FOLD_AUTHORS_MAX)
		BAD("the snapshot names more authors than a session may have");
	if ((uint64_t)n * FOLD_SNAP_AUTHOR_LEN > th_rbuf_left(r))
		BAD("the snapshot ends inside its version vector");
	if (n) {
		f->authors = calloc(n, sizeof *f->authors);
		if (!f->authors)
			return -ENOMEM;
		f->cap_authors = n;
	}
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct th_fold_author *a = &f->authors[i];
		rd_key(r, a->key);
		th_rbuf_u64(r, &a->seq);
		th_rbuf_u64(r, &a->lamport);
		th_rbuf_bytes(r, a->head, TH_LOGREC_HASH_LEN);
		a->head_ok = true;
		if (i > 0 && memcmp(f->authors[i - 1].key, a->key, TH_FOLD_KEY_LEN) >= 0)
			BAD("the snapshot's authors are not in ascending key order");
		if (a->seq == 0 || a->seq > TH_LOGREC_LAMPORT_MAX)
			BAD("the snapshot gives an author a sequence number out of range");
		if (a->lamport == 0 || a->lamport > TH_LOGREC_LAMPORT_MAX || a->lamport < a->seq)
			BAD("the snapshot gives an author a lamport out of range");
		sum += a->seq;
		f->nauthors++;
	}
	if (sum != entries)
		BAD("the snapshot's entry count differs from its version vector");
	return 0;
}

static int restore_frontier(struct th_fold *f, struct th_rbuf *r, const char **why)
{
	uint8_t has;
	struct th_fold_key k;
	if (th_rbuf_u8(r, &has) < 0 || th_rbuf_u64(r, &k.lamport) < 0 || rd_key(r, k.author) < 0)
		BAD("the snapshot ends inside its frontier");
	if (has > 1 || (has != 0) != (f->nauthors > 0))
		BAD("the snapshot's frontier flag does not match its version vector");
	if (!has) {
		static const uint8_t zero[TH_FOLD_KEY_LEN];
		if (k.lamport != 0 || memcmp(k.author, zero, TH_FOLD_KEY_LEN) != 0)
			BAD("the snapshot of an empty set names a frontier");
		return 0;
	}
	struct th_fold_key front;
	for (size_t i = 0; i < f->nauthors; i++) {
		struct th_fold_key a;
		a.lamport = f->authors[i].lamport;
		memcpy(a.author, f->authors[i].key, TH_FOLD_KEY_LEN);
		if (i == 0 || th_fold_key_cmp(&a, &front) > 0)
			front = a;
	}
	if (th_fold_key_cmp(&front, &k) != 0)
		BAD("the snapshot's frontier is not its newest entry");
	f->has_floor = true;
	f->floor = k;
	return 0;
}

static const struct th_fold_author *author_get(const struct th_fold *f, const uint8_t *key)
{
	size_t lo = 0, hi = f->nauthors;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(f->authors[mid].key, key, TH_FOLD_KEY_LEN);
		if (c == 0)
			return &f->authors[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool ctl_type(uint16_t type)
{
	return type == TH_CMD_EDIT_UNDO || type == TH_CMD_EDIT_REDO || ((type & 0xfff0u) == 0x0050u && th_cmd_find(type));
}

static int restore_ctl(struct th_fold *f, struct th_rbuf *r, const char **why)
{
	uint32_t n;
	if (th_rbuf_u32(r, &n) < 0)
		BAD("the snapshot ends inside its control state");
	if ((uint64_t)n * FOLD_SNAP_CTL_MIN > th_rbuf_left(r) || n > f->entries)
		BAD("the snapshot claims more control entries than it holds");
	if (n) {
		f->ctl = calloc(n, sizeof *f->ctl);
		if (!f->ctl)
			return -ENOMEM;
		f->cap_ctl = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct th_fold_ctl *c = &f->ctl[i];
		uint8_t bad;
		if (th_rbuf_u64(r, &c->key.lamport) < 0 || rd_key(r, c->key.author) < 0 || th_rbuf_u64(r, &c->seq) < 0 ||
		    th_rbuf_u64(r, &c->pos) < 0 || th_rbuf_u16(r, &c->type) < 0 || th_rbuf_u8(r, &bad) < 0)
			BAD("the snapshot ends inside a control entry");
		if (!ctl_type(c->type))
			BAD("the snapshot's control state holds an entry of a type that is not a control type");
		if (bad > 1)
			BAD("the snapshot's control entry has a flag out of range");
		c->bad = bad;
		if (i > 0 && th_fold_key_cmp(&f->ctl[i - 1].key, &c->key) >= 0)
			BAD("the snapshot's control entries are not in ascending order");
		const struct th_fold_author *a = author_get(f, c->key.author);
		if (!a || c->seq == 0 || c->seq > a->seq || c->key.lamport == 0 || c->key.lamport > a->lamport ||
		    (c->seq == a->seq) != (c->key.lamport == a->lamport))
			BAD("the snapshot's control entry is not in its version vector");
		if (c->pos >= f->next_pos)
			BAD("the snapshot's control entry lies past its log position");
		if (bad)
			continue;
		if (ctl_has_target(c->type)) {
			if (th_rbuf_u64(r, &c->target.lamport) < 0 || rd_key(r, c->target.author) < 0)
				BAD("the snapshot ends inside a control entry");
			if (c->target.lamport == 0)
				BAD("the snapshot's undo or redo names lamport 0");
		} else if (c->type == TH_CMD_SESSION_ROLE_SET) {
			if (rd_key(r, c->member) < 0 || th_rbuf_u8(r, &c->role) < 0)
				BAD("the snapshot ends inside a control entry");
			if (c->role > TH_PL_ROLE_MAX)
				BAD("the snapshot's role entry names a role out of range");
		}
		f->nctl++;
	}
	struct th_fold_excl *excl = NULL;
	size_t nexcl = 0;
	int rc = th_fold_ctl_recompute(f, &excl, &nexcl);
	if (rc < 0)
		return rc;
	f->excl = excl;
	f->nexcl = f->cap_excl = nexcl;
	uint64_t ctl_count = 0;
	for (size_t i = 0; i < f->nctl; i++) {
		struct th_fold_ctl *c = &f->ctl[i];
		c->rstatus = c->status;
		c->rreason = c->reason;
		c->rwhy = c->why;
		ctl_count += c->status == TH_FOLD_CONTROL;
	}
	if (ctl_count != f->control)
		BAD("the snapshot's control count differs from its control state");
	return 0;
}

static int restore_content(struct th_fold *f, const uint8_t *p, size_t len, const char **why)
{
	struct th_rbuf r;
	th_rbuf_init(&r, p, len);
	uint8_t host[TH_FOLD_KEY_LEN];
	if (rd_key(&r, host) < 0 || th_rbuf_u64(&r, &f->next_pos) < 0 || th_rbuf_u64(&r, &f->entries) < 0 ||
	    th_rbuf_u64(&r, &f->applied) < 0 || th_rbuf_u64(&r, &f->refused) < 0 ||
	    th_rbuf_u64(&r, &f->excluded) < 0 || th_rbuf_u64(&r, &f->control) < 0)
		BAD("the snapshot ends inside its identity");
	if (memcmp(host, f->host, TH_FOLD_KEY_LEN) != 0)
		BAD("the snapshot is of a session with another host");
	uint64_t sum;
	if (__builtin_add_overflow(f->applied, f->refused, &sum) || __builtin_add_overflow(sum, f->excluded, &sum) ||
	    __builtin_add_overflow(sum, f->control, &sum) || sum != f->entries)
		BAD("the snapshot's outcome counts do not add up to its entries");
	if (f->next_pos < f->entries)
		BAD("the snapshot covers more entries than log positions");
	int rc = restore_authors(f, &r, f->entries, why);
	if (rc == 0)
		rc = restore_frontier(f, &r, why);
	if (rc == 0)
		rc = restore_ctl(f, &r, why);
	if (rc < 0)
		return rc;
	uint32_t slen;
	const uint8_t *sp;
	if (th_rbuf_u32(&r, &slen) < 0 || th_rbuf_view(&r, &sp, slen) < 0)
		BAD("the snapshot ends inside its scene");
	if (th_rbuf_left(&r) != 0)
		BAD("the snapshot has bytes after its scene");
	const char *swhy = NULL;
	rc = th_scene_decode(f->scene, sp, slen, &swhy);
	if (rc == -EBADMSG)
		BAD(swhy ? swhy : "the snapshot's scene does not decode");
	return rc;
}

int th_fold_restore(const struct th_fold_config *c, const uint8_t *p, size_t len, struct th_fold **out,
		    const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!c || !out || (!p && len))
		return -EINVAL;
	if (len < FOLD_SNAP_HDR_LEN)
		BAD("the snapshot is shorter than its header");
	if (th_get_le32(p) != TH_FOLD_SNAPSHOT_MAGIC)
		BAD("the bytes are not a fold snapshot (no THS1 magic)");
	if (th_get_le32(p + 4) != FOLD_SNAP_VERSION)
		BAD("the snapshot's version is not one this build reads");
	uint64_t clen = th_get_le64(p + 8);
	if (clen == 0 || clen > TH_FOLD_SNAPSHOT_MAX)
		BAD("the snapshot claims a length above the limit");
	const uint8_t *z = p + FOLD_SNAP_HDR_LEN;
	size_t zlen = len - FOLD_SNAP_HDR_LEN;
	unsigned long long fcs = ZSTD_getFrameContentSize(z, zlen);
	if (fcs == ZSTD_CONTENTSIZE_ERROR || fcs == ZSTD_CONTENTSIZE_UNKNOWN)
		BAD("the snapshot's zstd frame is damaged or does not state its size");
	if (fcs != clen)
		BAD("the snapshot's zstd frame size differs from its header");
	size_t fsz = ZSTD_findFrameCompressedSize(z, zlen);
	if (ZSTD_isError(fsz) || fsz != zlen)
		BAD("the snapshot's zstd frame is truncated or followed by other bytes");
	uint8_t *content = malloc(clen);
	if (!content)
		return -ENOMEM;
	size_t got = ZSTD_decompress(content, clen, z, zlen);
	if (ZSTD_isError(got) || got != clen) {
		free(content);
		BAD("the snapshot's zstd frame does not decompress");
	}
	uint8_t sum[32];
	crypto_generichash(sum, sizeof sum, content, clen, NULL, 0);
	if (sodium_memcmp(sum, p + 16, sizeof sum) != 0) {
		free(content);
		BAD("the snapshot's checksum does not match its content");
	}
	struct th_fold *f;
	int rc = th_fold_new(c, &f);
	if (rc < 0) {
		free(content);
		return rc;
	}
	rc = restore_content(f, content, clen, why);
	free(content);
	if (rc < 0) {
		th_fold_destroy(&f);
		return rc;
	}
	*out = f;
	return 0;
}
