#include "th_logfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_buf.h"
#include "th_crc32c.h"

void th_logseg_header_put(uint8_t out[TH_LOGSEG_HDR_LEN], uint64_t index)
{
	memcpy(out, TH_LOGSEG_MAGIC, 8);
	th_put_le32(out + 8, TH_LOGSEG_VERSION);
	th_put_le32(out + 12, TH_LOGSEG_HDR_LEN);
	th_put_le64(out + 16, index);
	th_put_le32(out + 24, 0);
	th_put_le32(out + 28, th_crc32c(out, 28));
}

int th_logseg_header_parse(const uint8_t *p, size_t len, uint64_t *index)
{
	if (len < TH_LOGSEG_HDR_LEN || memcmp(p, TH_LOGSEG_MAGIC, 8) != 0 ||
	    th_get_le32(p + 8) != TH_LOGSEG_VERSION || th_get_le32(p + 12) != TH_LOGSEG_HDR_LEN ||
	    th_get_le32(p + 24) != 0 || th_get_le32(p + 28) != th_crc32c(p, 28) || th_get_le64(p + 16) == 0)
		return -EBADMSG;
	*index = th_get_le64(p + 16);
	return 0;
}

int th_logseg_path(const char *dir, uint64_t index, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%016" PRIx64 TH_LOGSEG_SUFFIX, dir, index);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- scanner ------------------------------------------------------------ */

struct th_ls_author {
	uint8_t pk[TH_LOGREC_KEY_LEN];
	struct th_logrec_chain chain;
	uint32_t run; /* unsigned entries since the last signature */
	uint64_t run_index, run_segment, run_offset; /* first of them */
	uint64_t last_index, last_segment, last_offset;
};

struct th_logscan {
	struct th_logscan_ops ops;
	void *user;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct th_ls_author *authors;
	uint32_t nauthors, acap;
	uint32_t *slots; /* open addressing: author index + 1, 0 empty */
	uint32_t nslots;
	uint32_t open_runs;
	struct th_logscan_rec *pend; /* records of the batch in progress */
	size_t npend, pcap;
	bool in_batch;
	uint64_t cur_batch;
	uint64_t next_index; /* records examined so far */
	uint64_t prev_segment;
	bool stopped;
	struct th_logscan_result res;
};

int th_logscan_create(const struct th_logscan_ops *ops, void *user, struct th_logscan **out)
{
	if (sodium_init() < 0)
		return -ENOSYS;
	struct th_logscan *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (ops)
		s->ops = *ops;
	s->user = user;
	randombytes_buf(s->hkey, sizeof(s->hkey));
	*out = s;
	return 0;
}

void th_logscan_destroy(struct th_logscan **sp)
{
	struct th_logscan *s = sp ? *sp : NULL;
	if (!s)
		return;
	free(s->authors);
	free(s->slots);
	free(s->pend);
	free(s);
	*sp = NULL;
}

static uint32_t th_ls_hash(const struct th_logscan *s, const uint8_t *pk)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, pk, TH_LOGREC_KEY_LEN, s->hkey);
	return th_get_le32(h);
}

static int th_ls_grow_slots(struct th_logscan *s)
{
	uint32_t n = s->nslots ? s->nslots * 2 : 64;
	uint32_t *t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nauthors; i++) {
		uint32_t h = th_ls_hash(s, s->authors[i].pk) & (n - 1);
		while (t[h])
			h = (h + 1) & (n - 1);
		t[h] = i + 1;
	}
	free(s->slots);
	s->slots = t;
	s->nslots = n;
	return 0;
}

static struct th_ls_author *th_ls_find(const struct th_logscan *s, const uint8_t *pk)
{
	if (!s->nslots)
		return NULL;
	uint32_t h = th_ls_hash(s, pk) & (s->nslots - 1);
	while (s->slots[h]) {
		struct th_ls_author *a = &s->authors[s->slots[h] - 1];
		if (memcmp(a->pk, pk, TH_LOGREC_KEY_LEN) == 0)
			return a;
		h = (h + 1) & (s->nslots - 1);
	}
	return NULL;
}

/* Finds or adds; NULL with *err set on failure. */
static struct th_ls_author *th_ls_get(struct th_logscan *s, const uint8_t *pk, int *err, bool *fresh)
{
	struct th_ls_author *a = th_ls_find(s, pk);
	*fresh = false;
	if (a)
		return a;
	if (s->nauthors >= TH_LOGSCAN_AUTHORS_MAX) {
		*err = TH_LR_TOO_MANY_AUTHORS;
		return NULL;
	}
	if ((s->nauthors + 1) * 2 > s->nslots && th_ls_grow_slots(s) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	if (s->nauthors == s->acap) {
		uint32_t n = s->acap ? s->acap * 2 : 16;
		struct th_ls_author *t = realloc(s->authors, n * sizeof(*t));
		if (!t) {
			*err = -ENOMEM;
			return NULL;
		}
		s->authors = t;
		s->acap = n;
	}
	a = &s->authors[s->nauthors];
	memset(a, 0, sizeof(*a));
	memcpy(a->pk, pk, TH_LOGREC_KEY_LEN);
	uint32_t h = th_ls_hash(s, pk) & (s->nslots - 1);
	while (s->slots[h])
		h = (h + 1) & (s->nslots - 1);
	s->slots[h] = ++s->nauthors;
	*fresh = true;
	return a;
}

int th_logscan_author(const struct th_logscan *s, const uint8_t pk[TH_LOGREC_KEY_LEN], struct th_logrec_chain *out)
{
	const struct th_ls_author *a = th_ls_find(s, pk);
	if (!a)
		return -ENOENT;
	*out = a->chain;
	return 0;
}

static int th_ls_bad(struct th_logscan *s, uint64_t index, uint64_t seg, uint64_t off, int reason)
{
	s->stopped = true;
	s->res.ok = false;
	s->res.bad_index = index;
	s->res.bad_segment = seg;
	s->res.bad_offset = off;
	s->res.bad_reason = reason;
	return 1;
}

/* Pass 1 over one segment: framing and CRC only. Finds where the readable
 * records end and classifies damage after them. */
struct th_ls_frames {
	uint64_t nrec;        /* valid records */
	size_t end;           /* offset after the last valid record */
	size_t batch_start;   /* offset of the first record of the last batch */
	uint64_t batch_start_rec;
	uint64_t last_batch;
	uint8_t last_flags;
	int fault;            /* 0: clean to the end of the data */
};

static void th_ls_frames(const uint8_t *d, size_t len, struct th_ls_frames *fr)
{
	size_t pos = TH_LOGSEG_HDR_LEN;
	memset(fr, 0, sizeof(*fr));
	fr->end = fr->batch_start = pos;
	while (pos < len) {
		struct th_logrec_frame f;
		int why = 0;
		int n = th_logrec_frame_parse(d + pos, len - pos, &f, &why);
		if (n < 0) {
			fr->fault = why;
			return;
		}
		if (fr->nrec == 0 || (fr->last_flags & TH_LOGREC_F_BATCH_END)) {
			fr->batch_start = pos;
			fr->batch_start_rec = fr->nrec;
		}
		fr->nrec++;
		fr->last_batch = f.batch;
		fr->last_flags = f.flags;
		pos += (size_t)n;
		fr->end = pos;
	}
}

/* After damage at `from`: do readable records follow, and do they all
 * belong to batch `expect` (0: any one batch)? Returns true when the tail
 * could be one torn batch. */
static bool th_ls_tail_is_one_batch(const uint8_t *d, size_t len, size_t from, uint64_t expect)
{
	size_t q = from + 1;
	while (q + TH_LOGREC_FRAME_LEN <= len) {
		if (th_get_le32(d + q) != TH_LOGREC_FRAME_MAGIC) {
			q++;
			continue;
		}
		struct th_logrec_frame f;
		int why;
		int n = th_logrec_frame_parse(d + q, len - q, &f, &why);
		if (n < 0) {
			q++;
			continue;
		}
		if (expect && f.batch != expect)
			return false;
		expect = f.batch;
		q += (size_t)n;
	}
	return true;
}

static void th_ls_cut_note(struct th_logscan_result *res, const uint8_t pk[TH_LOGREC_KEY_LEN], uint64_t seq)
{
	struct th_logscan_cut_author *a = NULL;
	for (uint32_t i = 0; i < res->cut_nauthors && !a; i++)
		if (memcmp(res->cut_authors[i].pk, pk, TH_LOGREC_KEY_LEN) == 0)
			a = &res->cut_authors[i];
	if (!a) {
		if (res->cut_nauthors == TH_LOGSCAN_CUT_AUTHORS_MAX) {
			res->cut_authors_more = true;
			return;
		}
		a = &res->cut_authors[res->cut_nauthors++];
		memcpy(a->pk, pk, TH_LOGREC_KEY_LEN);
		a->seq_first = a->seq_last = seq;
	}
	if (seq < a->seq_first)
		a->seq_first = seq;
	if (seq > a->seq_last)
		a->seq_last = seq;
	a->records++;
}

/* Describes the records in d[from, len), about to be cut: how many, how
 * many damaged, and per author which seqs. An intact record's author and
 * seq are trusted; a damaged one's only when its author already has
 * entries and its seq continues them (a flipped byte in the key or the seq
 * would otherwise invent an author). */
static void th_ls_describe_cut(struct th_logscan *s, const uint8_t *d, size_t len, size_t from)
{
	struct th_logscan_result *res = &s->res;
	size_t q = from;
	res->cut_first = s->next_index;
	while (q + TH_LOGREC_FRAME_LEN <= len) {
		if (th_get_le32(d + q) != TH_LOGREC_FRAME_MAGIC) {
			q++;
			continue;
		}
		uint32_t blen = th_get_le32(d + q + 4);
		if (blen < TH_LOGREC_FIXED_LEN_MIN || blen > TH_LOGREC_BODY_MAX) {
			q++;
			continue;
		}
		struct th_logrec_frame f;
		struct th_logrec_entry e;
		int why;
		bool intact = th_logrec_frame_parse(d + q, len - q, &f, &why) > 0;
		bool decoded = false;
		size_t avail = len - q - TH_LOGREC_FRAME_LEN < blen ? len - q - TH_LOGREC_FRAME_LEN : blen;
		uint8_t flags = d[q + 17];
		size_t body = (flags & TH_LOGREC_F_SIGNED) && avail >= TH_LOGREC_SIG_LEN ? avail - TH_LOGREC_SIG_LEN : avail;
		if (avail == blen)
			decoded = th_logrec_decode(d + q + TH_LOGREC_FRAME_LEN, body, &e, &why) == 0;
		res->cut_records++;
		if (!intact || !decoded)
			res->cut_damaged++;
		const struct th_ls_author *a = decoded ? th_ls_find(s, e.author) : NULL;
		bool trusted = decoded && (intact ? true : a && e.seq > a->chain.seq);
		if (!trusted && decoded && !intact) {
			/* Or continues an author seen intact earlier in the cut. */
			for (uint32_t i = 0; i < res->cut_nauthors && !trusted; i++)
				trusted = memcmp(res->cut_authors[i].pk, e.author, TH_LOGREC_KEY_LEN) == 0 &&
					  e.seq > res->cut_authors[i].seq_last;
		}
		if (trusted)
			th_ls_cut_note(res, e.author, e.seq);
		else
			res->cut_unknown++;
		/* Past an intact record; past a damaged one only when its
		 * length lands on the next record (or the end). */
		size_t next = q + TH_LOGREC_FRAME_LEN + blen;
		if (intact || next == len ||
		    (next + 4 <= len && th_get_le32(d + next) == TH_LOGREC_FRAME_MAGIC))
			q = next;
		else
			q++;
	}
}

static int th_ls_deliver(struct th_logscan *s)
{
	for (size_t i = 0; i < s->npend; i++) {
		if (s->ops.record) {
			int r = s->ops.record(s->user, &s->pend[i]);
			if (r < 0) {
				s->stopped = true;
				s->npend = 0;
				return r;
			}
		}
	}
	s->res.records += s->npend;
	s->npend = 0;
	return 0;
}

static int th_ls_push(struct th_logscan *s, const struct th_logscan_rec *r)
{
	if (s->npend == s->pcap) {
		size_t n = s->pcap ? s->pcap * 2 : 64;
		struct th_logscan_rec *t = realloc(s->pend, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->pend = t;
		s->pcap = n;
	}
	s->pend[s->npend++] = *r;
	return 0;
}

/* The earliest entry no signature has covered yet. */
static const struct th_ls_author *th_ls_first_open_run(const struct th_logscan *s)
{
	const struct th_ls_author *best = NULL;
	for (uint32_t i = 0; i < s->nauthors; i++) {
		const struct th_ls_author *a = &s->authors[i];
		if (a->run && (!best || a->run_index < best->run_index))
			best = a;
	}
	return best;
}

/* Pass 2: full verification of records in [HDR_LEN, end). */
static int th_ls_verify(struct th_logscan *s, uint64_t segidx, const uint8_t *d, size_t end, bool anchor)
{
	size_t pos = TH_LOGSEG_HDR_LEN;
	while (pos < end) {
		struct th_logscan_rec r = { .index = s->next_index, .segment = segidx, .offset = pos };
		int why = 0;
		int n = th_logrec_record_decode(d + pos, end - pos, &r.frame, &r.entry, &why);
		if (n < 0)
			return th_ls_bad(s, r.index, segidx, pos, why);
		r.len = (uint32_t)n;
		const struct th_logrec_entry *e = &r.entry;

		/* Batches: ids consecutive over the whole log. */
		if (!s->in_batch) {
			bool first = s->res.batches == 0 && s->npend == 0;
			if (!(first && anchor) && r.frame.batch != s->res.last_batch + 1)
				return th_ls_bad(s, r.index, segidx, pos, TH_LR_BAD_BATCH);
			s->in_batch = true;
			s->cur_batch = r.frame.batch;
		} else if (r.frame.batch != s->cur_batch) {
			return th_ls_bad(s, r.index, segidx, pos, TH_LR_BAD_BATCH);
		}

		int err = 0;
		bool fresh;
		struct th_ls_author *a = th_ls_get(s, e->author, &err, &fresh);
		if (!a) {
			if (err < 0)
				return err;
			return th_ls_bad(s, r.index, segidx, pos, err);
		}
		size_t body = th_logrec_body_len(e);
		th_logrec_hash(d + pos + TH_LOGREC_FRAME_LEN, body, r.hash);

		int f = TH_LR_OK;
		if (!(fresh && anchor && segidx != 1))
			f = th_logrec_chain_check(&a->chain, e);
		bool sig_ok = false;
		if (e->has_sig)
			sig_ok = th_logrec_verify(r.hash, e->author, e->sig) == 0;
		if (f == TH_LR_BAD_CHAIN && sig_ok && a->chain.seq) {
			/* This entry is authentic and names a different predecessor:
			 * the predecessor is the one that was altered. */
			return th_ls_bad(s, a->last_index, a->last_segment, a->last_offset, TH_LR_TAMPERED);
		}
		if (f)
			return th_ls_bad(s, r.index, segidx, pos, f);
		if (e->has_sig && !sig_ok)
			return th_ls_bad(s, r.index, segidx, pos, TH_LR_BAD_SIGNATURE);
		if (e->has_sig) {
			if (a->run)
				s->open_runs--;
			a->run = 0;
		} else {
			if (a->run == 0) {
				s->open_runs++;
				a->run_index = r.index;
				a->run_segment = segidx;
				a->run_offset = pos;
			}
			if (++a->run > TH_LOGREC_UNSIGNED_RUN_MAX)
				return th_ls_bad(s, a->run_index, a->run_segment, a->run_offset, TH_LR_UNSIGNED);
		}
		th_logrec_chain_advance(&a->chain, e, r.hash);
		a->last_index = r.index;
		a->last_segment = segidx;
		a->last_offset = pos;
		if (e->lamport > s->res.max_lamport)
			s->res.max_lamport = e->lamport;
		int pr = th_ls_push(s, &r);
		if (pr < 0)
			return pr;
		s->next_index++;
		pos += (size_t)n;

		if (r.frame.flags & TH_LOGREC_F_BATCH_END) {
			if (s->open_runs) {
				const struct th_ls_author *o = th_ls_first_open_run(s);
				return th_ls_bad(s, o->run_index, o->run_segment, o->run_offset, TH_LR_UNSIGNED);
			}
			s->in_batch = false;
			s->res.batches++;
			s->res.last_batch = s->cur_batch;
			pr = th_ls_deliver(s);
			if (pr < 0)
				return pr;
		}
	}
	return 0;
}

int th_logscan_segment(struct th_logscan *s, uint64_t index, const uint8_t *d, size_t len, bool last, bool anchor)
{
	if (s->stopped)
		return 1;
	uint64_t hidx;
	bool first = s->res.segments == 0;

	if (s->ops.segment) {
		int r = s->ops.segment(s->user, index, len);
		if (r < 0) {
			s->stopped = true;
			return r;
		}
	}
	if ((!first || !anchor) && index != s->prev_segment + 1)
		return th_ls_bad(s, s->next_index, index, 0, TH_LR_BAD_SEGMENT);
	s->prev_segment = index;
	if (th_logseg_header_parse(d, len, &hidx) < 0 || hidx != index) {
		/* A final segment that holds no more than a header is one whose
		 * creation was torn: nothing in it was ever acknowledged. */
		if (last && len <= TH_LOGSEG_HDR_LEN) {
			s->res.torn = true;
			s->res.cut_first = s->next_index;
			s->res.cut_segment = index;
			s->res.cut_offset = 0;
			s->res.cut_bytes = len;
			return th_ls_bad(s, s->next_index, index, 0, TH_LR_BAD_SEGMENT);
		}
		return th_ls_bad(s, s->next_index, index, 0, TH_LR_BAD_SEGMENT);
	}
	s->res.segments++;
	if (s->in_batch && !anchor)
		return th_ls_bad(s, s->next_index, index, TH_LOGSEG_HDR_LEN, TH_LR_INCOMPLETE);

	struct th_ls_frames fr;
	th_ls_frames(d, len, &fr);

	/* Where verification stops, and what the damage after it is. */
	size_t vend = fr.end;
	bool torn = false, corrupt = false;
	int reason = fr.fault;
	size_t bad_off = fr.end;
	uint64_t bad_rec = fr.nrec;
	bool ended = fr.nrec == 0 || (fr.last_flags & TH_LOGREC_F_BATCH_END);
	if (fr.fault) {
		bool tornable = fr.fault == TH_LR_TRUNCATED || fr.fault == TH_LR_BAD_MAGIC ||
				fr.fault == TH_LR_BAD_LENGTH || fr.fault == TH_LR_BAD_CHECKSUM;
		uint64_t expect;
		if (fr.nrec)
			expect = ended ? fr.last_batch + 1 : fr.last_batch;
		else
			expect = (first && anchor) ? 0 : s->res.last_batch + 1;
		if (last && tornable && th_ls_tail_is_one_batch(d, len, fr.end, expect)) {
			torn = true;
			vend = ended ? fr.end : fr.batch_start;
		} else {
			corrupt = true;
		}
	} else if (!ended) {
		reason = TH_LR_INCOMPLETE;
		bad_off = fr.batch_start;
		bad_rec = fr.batch_start_rec;
		if (last) {
			torn = true;
			vend = fr.batch_start;
		} else {
			corrupt = true;
		}
	}

	uint64_t base = s->next_index;
	int r = th_ls_verify(s, index, d, vend, anchor && first);
	if (r)
		return r;
	s->res.end_segment = index;
	s->res.end_offset = vend;
	if (torn) {
		s->res.torn = true;
		s->res.cut_segment = index;
		s->res.cut_offset = vend;
		s->res.cut_bytes = len - vend;
		th_ls_describe_cut(s, d, len, vend);
		return th_ls_bad(s, base + bad_rec, index, bad_off, reason);
	}
	if (corrupt)
		return th_ls_bad(s, base + bad_rec, index, bad_off, reason);
	return 0;
}

void th_logscan_finish(struct th_logscan *s, struct th_logscan_result *res)
{
	if (!s->stopped) {
		s->res.ok = true;
		s->res.torn = false;
	}
	s->res.authors = s->nauthors;
	*res = s->res;
}

/* ---- files ---------------------------------------------------------------- */

static int th_ls_read(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > TH_LOGSEG_BYTES_MAX) {
		close(fd);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	size_t n = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = -errno;
			free(buf);
			close(fd);
			return r;
		}
		if (k == 0)
			break; /* shrank while reading: scan what is there */
		got += (size_t)k;
	}
	close(fd);
	*out = buf;
	*len = got;
	return 0;
}

static int th_ls_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

bool th_logseg_name_parse(const char *name, uint64_t *index)
{
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (strcmp(name + 16, TH_LOGSEG_SUFFIX) != 0 || v == 0)
		return false;
	*index = v;
	return true;
}

int th_logscan_dir(const char *dir, const struct th_logscan_ops *ops, void *user, struct th_logscan_result *res)
{
	DIR *dh = opendir(dir);
	uint64_t *idx = NULL;
	size_t n = 0, cap = 0;
	struct th_logscan *s = NULL;
	int r = 0;

	if (!dh)
		return -errno;
	for (struct dirent *de; (de = readdir(dh));) {
		uint64_t v;
		if (!th_logseg_name_parse(de->d_name, &v))
			continue;
		if (n == TH_LOGDIR_SEGMENTS_MAX) {
			r = -E2BIG;
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *t = realloc(idx, nc * sizeof(*t));
			if (!t) {
				r = -ENOMEM;
				goto out;
			}
			idx = t;
			cap = nc;
		}
		idx[n++] = v;
	}
	if (n)
		qsort(idx, n, sizeof(*idx), th_ls_cmp_u64);
	r = th_logscan_create(ops, user, &s);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		uint8_t *data;
		size_t len;
		r = th_logseg_path(dir, idx[i], path, sizeof(path));
		if (r < 0)
			goto out;
		r = th_ls_read(path, &data, &len);
		if (r < 0)
			goto out;
		r = th_logscan_segment(s, idx[i], data, len, i + 1 == n, false);
		free(data);
		if (r < 0)
			goto out;
		if (r > 0)
			break;
	}
	r = 0;
	th_logscan_finish(s, res);
out:
	th_logscan_destroy(&s);
	free(idx);
	closedir(dh);
	return r;
}

int th_logscan_file(const char *path, const struct th_logscan_ops *ops, void *user, struct th_logscan_result *res)
{
	struct th_logscan *s = NULL;
	uint8_t *data;
	size_t len;
	uint64_t index = 1;
	int r = th_ls_read(path, &data, &len);
	if (r < 0)
		return r;
	/* The header names the segment; a damaged one is reported as index 1. */
	if (th_logseg_header_parse(data, len, &index) < 0)
		index = 1;
	r = th_logscan_create(ops, user, &s);
	if (r == 0) {
		r = th_logscan_segment(s, index, data, len, true, true);
		if (r >= 0) {
			r = 0;
			th_logscan_finish(s, res);
		}
	}
	th_logscan_destroy(&s);
	free(data);
	return r;
}
