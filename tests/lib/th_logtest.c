#include "th_logtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_cmd.h"
#include "th_crc32c.h"
#include "th_file.h"
#include "th_logfile.h"

void lt_author_init(struct lt_author *a, uint8_t seed_byte)
{
	uint8_t seed[32];
	memset(seed, seed_byte, sizeof(seed));
	memset(a, 0, sizeof(*a));
	th_keypair_from_seed(seed, &a->kp);
}

void lt_entry_cmd(struct lt_author *a, uint16_t type, uint8_t scope_kind, uint64_t lamport, uint64_t scope_id,
		  const void *payload, uint32_t len, bool sign, struct th_logrec_entry *e,
		  uint8_t hash[TH_LOGREC_HASH_LEN])
{
	memset(e, 0, sizeof(*e));
	e->version = TH_LOGREC_VERSION;
	e->type = type;
	e->scope_kind = scope_kind;
	e->scope_id = scope_id;
	e->lamport = lamport;
	e->seq = a->chain.seq + 1;
	e->base = lamport - 1;
	e->time_ns = 1700000000000000000ull + lamport;
	memcpy(e->author, a->kp.pk, 32);
	memcpy(e->prev, a->chain.head, 32);
	e->payload = payload;
	e->payload_len = len;
	th_logrec_entry_hash(e, hash);
	if (sign) {
		th_logrec_sign(hash, a->kp.sk, e->sig);
		e->has_sig = true;
	}
	th_logrec_chain_advance(&a->chain, e, hash);
}

void lt_entry(struct lt_author *a, uint64_t lamport, uint64_t scope_id, const void *payload, uint32_t len,
	      bool sign, struct th_logrec_entry *e, uint8_t hash[TH_LOGREC_HASH_LEN])
{
	lt_entry_cmd(a, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, lamport, scope_id, payload, len, sign, e, hash);
}

void lt_seg_begin(struct lt_seg *s, uint64_t index)
{
	th_wbuf_init(&s->b, 0);
	s->index = index;
	th_logseg_header_put(th_wbuf_extend(&s->b, TH_LOGSEG_HDR_LEN), index);
}

size_t lt_seg_add(struct lt_seg *s, const struct th_logrec_entry *e, uint64_t batch, uint8_t flags)
{
	size_t off = s->b.len;
	size_t n = TH_LOGREC_FRAME_LEN + th_logrec_body_len(e) + (e->has_sig ? TH_LOGREC_SIG_LEN : 0);
	uint8_t *p = th_wbuf_extend(&s->b, n);
	th_logrec_record_put(p, n, e, batch, flags);
	return off;
}

void lt_seg_refresh_crc(struct lt_seg *s, size_t off)
{
	uint8_t *p = s->b.data + off;
	struct th_logrec_frame f = {
		.body_len = th_get_le32(p + 4), .batch = th_get_le64(p + 8), .kind = p[16], .flags = p[17]
	};
	th_logrec_frame_put(p, &f, p + TH_LOGREC_FRAME_LEN);
}

int lt_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ssize_t k = write(fd, data, len);
	int r = k == (ssize_t)len ? 0 : -EIO;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int lt_seg_write(struct lt_seg *s, const char *dir)
{
	char path[4096];
	th_logseg_path(dir, s->index, path, sizeof(path));
	int r = lt_write_file(path, s->b.data, s->b.len);
	lt_seg_free(s);
	return r;
}

void lt_seg_free(struct lt_seg *s) { th_wbuf_fini(&s->b); }

int lt_read_file(const char *path, uint8_t **data, size_t *len)
{
	char *d;
	int r = th_file_read(path, 1u << 30, &d, len);
	if (r < 0)
		return r;
	*data = (uint8_t *)d;
	return 0;
}

int lt_flip_byte(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t b;
	if (fd < 0)
		return -errno;
	int r = pread(fd, &b, 1, (off_t)off) == 1 ? 0 : -EIO;
	b ^= mask;
	if (r == 0 && pwrite(fd, &b, 1, (off_t)off) != 1)
		r = -EIO;
	close(fd);
	return r;
}

int lt_truncate(const char *path, uint64_t len)
{
	return truncate(path, (off_t)len) < 0 ? -errno : 0;
}

long long lt_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -errno : (long long)st.st_size;
}
