/* Explicit little-endian encoding: growable write buffers and bounds-checked
 * readers. Every wire and file format in Theta is written with these. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void th_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void th_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void th_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t th_get_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t th_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t th_get_le64(const uint8_t *p)
{
	return (uint64_t)th_get_le32(p) | (uint64_t)th_get_le32(p + 4) << 32;
}

/* Growable buffer. A failed allocation latches `oom`; callers check once at
 * the end with th_wbuf_error(). */
struct th_wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;   /* 0: unlimited; else writes past it latch an error */
	bool oom;      /* an allocation failed */
	bool overflow; /* a write went past max */
	bool borrowed; /* data is the caller's (th_wbuf_init_fixed): never grown or freed */
};

void th_wbuf_init(struct th_wbuf *b, size_t max);
/* Writes into the caller's buf[cap] (no allocation); a write past cap
 * latches overflow (th_wbuf_error: -EMSGSIZE) and writes nothing. With buf
 * NULL it only counts: len grows, th_wbuf_extend returns NULL without
 * latching, nothing is written (the size of an encoding). */
void th_wbuf_init_fixed(struct th_wbuf *b, uint8_t *buf, size_t cap);
void th_wbuf_fini(struct th_wbuf *b);
void th_wbuf_reset(struct th_wbuf *b);
/* Reserves n bytes at the end and returns them, or NULL (and latches). */
uint8_t *th_wbuf_extend(struct th_wbuf *b, size_t n);
void th_wbuf_put(struct th_wbuf *b, const void *p, size_t n);
void th_wbuf_u8(struct th_wbuf *b, uint8_t v);
void th_wbuf_u16(struct th_wbuf *b, uint16_t v);
void th_wbuf_u32(struct th_wbuf *b, uint32_t v);
void th_wbuf_u64(struct th_wbuf *b, uint64_t v);
/* u16 length + bytes. */
void th_wbuf_str16(struct th_wbuf *b, const char *s);
/* n floats, each as its IEEE-754 binary32 bits in a u32. */
void th_wbuf_f32s(struct th_wbuf *b, const float *f, size_t n);
/* 0 or -ENOMEM (allocation failed) / -EMSGSIZE (past max). */
int th_wbuf_error(const struct th_wbuf *b);

/* Bounds-checked reader over bytes it does not own. Reads past the end fail
 * with -EBADMSG and leave the output untouched. */
struct th_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void th_rbuf_init(struct th_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}
static inline size_t th_rbuf_left(const struct th_rbuf *r) { return r->len - r->off; }

int th_rbuf_u8(struct th_rbuf *r, uint8_t *v);
int th_rbuf_u16(struct th_rbuf *r, uint16_t *v);
int th_rbuf_u32(struct th_rbuf *r, uint32_t *v);
int th_rbuf_u64(struct th_rbuf *r, uint64_t *v);
int th_rbuf_bytes(struct th_rbuf *r, void *out, size_t n);
/* Points *p at n bytes inside the buffer (no copy). */
int th_rbuf_view(struct th_rbuf *r, const uint8_t **p, size_t n);
/* n floats written by th_wbuf_f32s; all of them or, when fewer are left,
 * -EBADMSG and none. Any bit pattern comes back: see th_f32s_finite. */
int th_rbuf_f32s(struct th_rbuf *r, float *f, size_t n);
/* True when none of the n floats is an infinity or a NaN (the check a
 * decoder makes on floats from outside). */
bool th_f32s_finite(const float *f, size_t n);
/* u16 length + bytes, copied NUL-terminated into out[cap]; -EBADMSG if it
 * does not fit, or contains NUL. */
int th_rbuf_str16(struct th_rbuf *r, char *out, size_t cap);
