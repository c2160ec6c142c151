#include "th_buf.h"

#include <math.h>
#include <stdlib.h>

void th_wbuf_init(struct th_wbuf *b, size_t max)
{
	*b = (struct th_wbuf){ .max = max };
}

void th_wbuf_init_fixed(struct th_wbuf *b, uint8_t *buf, size_t cap)
{
	*b = (struct th_wbuf){ .data = buf, .cap = cap, .borrowed = true };
}

void th_wbuf_fini(struct th_wbuf *b)
{
	if (!b->borrowed)
		free(b->data);
	*b = (struct th_wbuf){ 0 };
}

void th_wbuf_reset(struct th_wbuf *b)
{
	b->len = 0;
	b->oom = false;
	b->overflow = false;
}

uint8_t *th_wbuf_extend(struct th_wbuf *b, size_t n)
{
	if (b->oom || b->overflow)
		return NULL;
	if (n > SIZE_MAX - b->len || (b->max && b->len + n > b->max)) {
		b->overflow = true;
		return NULL;
	}
	if (b->borrowed && !b->data) { /* counting only */
		b->len += n;
		return NULL;
	}
	if (b->len + n > b->cap) {
		if (b->borrowed) {
			b->overflow = true;
			return NULL;
		}
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n)
			cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
		if (b->max && cap > b->max)
			cap = b->max;
		uint8_t *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	uint8_t *p = b->data + b->len;
	b->len += n;
	return p;
}

void th_wbuf_put(struct th_wbuf *b, const void *p, size_t n)
{
	uint8_t *d = th_wbuf_extend(b, n);
	if (d && n)
		memcpy(d, p, n);
}

void th_wbuf_u8(struct th_wbuf *b, uint8_t v)
{
	uint8_t *d = th_wbuf_extend(b, 1);
	if (d)
		d[0] = v;
}

void th_wbuf_u16(struct th_wbuf *b, uint16_t v)
{
	uint8_t *d = th_wbuf_extend(b, 2);
	if (d)
		th_put_le16(d, v);
}

void th_wbuf_u32(struct th_wbuf *b, uint32_t v)
{
	uint8_t *d = th_wbuf_extend(b, 4);
	if (d)
		th_put_le32(d, v);
}

void th_wbuf_u64(struct th_wbuf *b, uint64_t v)
{
	uint8_t *d = th_wbuf_extend(b, 8);
	if (d)
		th_put_le64(d, v);
}

void th_wbuf_str16(struct th_wbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (n > UINT16_MAX) {
		b->overflow = true;
		return;
	}
	th_wbuf_u16(b, (uint16_t)n);
	th_wbuf_put(b, s, n);
}

int th_wbuf_error(const struct th_wbuf *b)
{
	if (b->oom)
		return -ENOMEM;
	return b->overflow ? -EMSGSIZE : 0;
}

#define TH_RBUF_NEED(r, n) \
	do { \
		if (th_rbuf_left(r) < (n)) \
			return -EBADMSG; \
	} while (0)

int th_rbuf_u8(struct th_rbuf *r, uint8_t *v)
{
	TH_RBUF_NEED(r, 1);
	*v = r->p[r->off++];
	return 0;
}

int th_rbuf_u16(struct th_rbuf *r, uint16_t *v)
{
	TH_RBUF_NEED(r, 2);
	*v = th_get_le16(r->p + r->off);
	r->off += 2;
	return 0;
}

int th_rbuf_u32(struct th_rbuf *r, uint32_t *v)
{
	TH_RBUF_NEED(r, 4);
	*v = th_get_le32(r->p + r->off);
	r->off += 4;
	return 0;
}

int th_rbuf_u64(struct th_rbuf *r, uint64_t *v)
{
	TH_RBUF_NEED(r, 8);
	*v = th_get_le64(r->p + r->off);
	r->off += 8;
	return 0;
}

int th_rbuf_bytes(struct th_rbuf *r, void *out, size_t n)
{
	TH_RBUF_NEED(r, n);
	if (n)
		memcpy(out, r->p + r->off, n);
	r->off += n;
	return 0;
}

int th_rbuf_view(struct th_rbuf *r, const uint8_t **p, size_t n)
{
	TH_RBUF_NEED(r, n);
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int th_rbuf_str16(struct th_rbuf *r, char *out, size_t cap)
{
	uint16_t n;
	size_t save = r->off;

	if (th_rbuf_u16(r, &n) < 0)
		return -EBADMSG;
	if (th_rbuf_left(r) < n || (size_t)n + 1 > cap || memchr(r->p + r->off, 0, n)) {
		r->off = save;
		return -EBADMSG;
	}
	memcpy(out, r->p + r->off, n);
	out[n] = 0;
	r->off += n;
	return 0;
}

void th_wbuf_f32s(struct th_wbuf *b, const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &f[i], sizeof(u));
		th_wbuf_u32(b, u);
	}
}

int th_rbuf_f32s(struct th_rbuf *r, float *f, size_t n)
{
	if (n > th_rbuf_left(r) / 4)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = th_get_le32(r->p + r->off + 4 * i);
		memcpy(&f[i], &u, sizeof(u));
	}
	r->off += 4 * n;
	return 0;
}

bool th_f32s_finite(const float *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(f[i]))
			return false;
	return true;
}
