/* Seeded impairment queue: see net_impair.h. */
#include "net/net_impair.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	uint64_t deliver_ns, seq, sent_ns;
	uint8_t *data;
	size_t len;
	struct sockaddr_storage from, to;
	socklen_t from_len, to_len;
};

struct net_impair {
	struct net_impair_config cfg;
	uint64_t start_ns;
	uint64_t s[4]; /* xoshiro256** state */
	struct entry *heap;
	size_t n, cap, bytes;
	uint64_t seq;
	uint64_t link_free_at;
	bool forced_partition;
	uint8_t *last; /* data of the last popped datagram */
	struct net_impair_stats st;
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(struct net_impair *im)
{
	uint64_t *s = im->s;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, 1). */
static double rnd01(struct net_impair *im) { return (double)(rnd(im) >> 11) * 0x1.0p-53; }

static bool chance(struct net_impair *im, double p)
{
	/* Always draw, so the random sequence does not depend on p. */
	double r = rnd01(im);
	return r < p;
}

static bool valid_prob(double p) { return isfinite(p) && p >= 0.0 && p <= 1.0; }

int net_impair_create(const struct net_impair_config *cfg, uint64_t start_ns, struct net_impair **out)
{
	static const struct net_impair_config none;
	if (!cfg)
		cfg = &none;
	if (!valid_prob(cfg->loss) || !valid_prob(cfg->dup) || !valid_prob(cfg->reorder) ||
	    cfg->npartitions > NET_IMPAIR_MAX_PARTITIONS)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->npartitions; i++)
		if (cfg->partitions[i].end_ns < cfg->partitions[i].start_ns)
			return -EINVAL;
	struct net_impair *im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->cfg = *cfg;
	im->start_ns = start_ns;
	uint64_t x = cfg->seed ? cfg->seed : 1;
	for (int i = 0; i < 4; i++)
		im->s[i] = splitmix64(&x);
	*out = im;
	return 0;
}

void net_impair_destroy(struct net_impair **p)
{
	struct net_impair *im = p ? *p : NULL;
	if (!im)
		return;
	for (size_t i = 0; i < im->n; i++)
		free(im->heap[i].data);
	free(im->heap);
	free(im->last);
	free(im);
	*p = NULL;
}

static bool before(const struct entry *a, const struct entry *b)
{
	return a->deliver_ns < b->deliver_ns || (a->deliver_ns == b->deliver_ns && a->seq < b->seq);
}

static void heap_up(struct net_impair *im, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&im->heap[i], &im->heap[p]))
			break;
		struct entry t = im->heap[i];
		im->heap[i] = im->heap[p];
		im->heap[p] = t;
		i = p;
	}
}

static void heap_down(struct net_impair *im, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < im->n && before(&im->heap[l], &im->heap[m]))
			m = l;
		if (r < im->n && before(&im->heap[r], &im->heap[m]))
			m = r;
		if (m == i)
			break;
		struct entry t = im->heap[i];
		im->heap[i] = im->heap[m];
		im->heap[m] = t;
		i = m;
	}
}

static bool partitioned(const struct net_impair *im, uint64_t now)
{
	if (im->forced_partition)
		return true;
	uint64_t rel = now >= im->start_ns ? now - im->start_ns : 0;
	for (unsigned i = 0; i < im->cfg.npartitions; i++)
		if (rel >= im->cfg.partitions[i].start_ns && rel < im->cfg.partitions[i].end_ns)
			return true;
	return false;
}

static int enqueue(struct net_impair *im, const void *data, size_t len, const struct sockaddr *from,
		   socklen_t from_len, const struct sockaddr *to, socklen_t to_len, uint64_t now)
{
	/* Draw every random number for this copy up front, in a fixed order. */
	double j = rnd01(im);
	bool reo = chance(im, im->cfg.reorder);
	if (im->n >= NET_IMPAIR_MAX_QUEUED || im->bytes + len > NET_IMPAIR_MAX_BYTES) {
		im->st.dropped_overflow++;
		return 0;
	}
	if (im->n == im->cap) {
		size_t nc = im->cap ? im->cap * 2 : 64;
		struct entry *h = realloc(im->heap, nc * sizeof(*h));
		if (!h)
			return -ENOMEM;
		im->heap = h;
		im->cap = nc;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);

	uint64_t depart = now;
	if (im->cfg.rate_bps) {
		if (im->link_free_at > depart)
			depart = im->link_free_at;
		uint64_t tx_ns = (uint64_t)((double)len * 8.0 * 1e9 / (double)im->cfg.rate_bps);
		depart += tx_ns;
		im->link_free_at = depart;
	}
	int64_t d = (int64_t)im->cfg.delay_ns;
	if (im->cfg.jitter_ns)
		d += (int64_t)((j * 2.0 - 1.0) * (double)im->cfg.jitter_ns);
	if (d < 0)
		d = 0;
	if (reo) {
		d += (int64_t)(im->cfg.reorder_delay_ns ? im->cfg.reorder_delay_ns
							: 2 * im->cfg.delay_ns + 1000000);
		im->st.reordered++;
	}
	struct entry *e = &im->heap[im->n];
	memset(e, 0, sizeof(*e));
	e->deliver_ns = depart + (uint64_t)d;
	e->seq = im->seq++;
	e->sent_ns = now;
	e->data = copy;
	e->len = len;
	if (from && (size_t)from_len <= sizeof(e->from)) {
		memcpy(&e->from, from, from_len);
		e->from_len = from_len;
	}
	if (to && (size_t)to_len <= sizeof(e->to)) {
		memcpy(&e->to, to, to_len);
		e->to_len = to_len;
	}
	im->bytes += len;
	heap_up(im, im->n++);
	return 1;
}

int net_impair_submit(struct net_impair *im, const void *data, size_t len,
		      const struct sockaddr *from, socklen_t from_len,
		      const struct sockaddr *to, socklen_t to_len, uint64_t now_ns)
{
	if (len > NET_IMPAIR_MAX_DGRAM)
		return -EMSGSIZE;
	im->st.in++;
	bool lost = chance(im, im->cfg.loss);
	bool dup = chance(im, im->cfg.dup);
	if (partitioned(im, now_ns)) {
		im->st.dropped_partition++;
		return 0;
	}
	if (lost) {
		im->st.dropped_loss++;
		return 0;
	}
	int n = enqueue(im, data, len, from, from_len, to, to_len, now_ns);
	if (n < 0)
		return n;
	if (dup) {
		int k = enqueue(im, data, len, from, from_len, to, to_len, now_ns);
		if (k > 0) {
			im->st.duplicated++;
			n += k;
		}
	}
	return n;
}

uint64_t net_impair_next(const struct net_impair *im)
{
	return im->n ? im->heap[0].deliver_ns : UINT64_MAX;
}

int net_impair_pop(struct net_impair *im, uint64_t now_ns, struct net_impair_dgram *out)
{
	if (!im->n || im->heap[0].deliver_ns > now_ns)
		return 0;
	struct entry e = im->heap[0];
	im->heap[0] = im->heap[--im->n];
	if (im->n)
		heap_down(im, 0);
	im->bytes -= e.len;
	free(im->last);
	im->last = e.data;
	out->data = e.data;
	out->len = e.len;
	out->from = e.from;
	out->from_len = e.from_len;
	out->to = e.to;
	out->to_len = e.to_len;
	out->sent_ns = e.sent_ns;
	out->deliver_ns = e.deliver_ns;
	im->st.out++;
	return 1;
}

void net_impair_set_partition(struct net_impair *im, bool on) { im->forced_partition = on; }
size_t net_impair_queued(const struct net_impair *im) { return im->n; }
void net_impair_get_stats(const struct net_impair *im, struct net_impair_stats *st) { *st = im->st; }

/* ---- spec parser ---------------------------------------------------------- */

static int parse_u64(const char *s, char **end, uint64_t *v)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, end, 10);
	if (errno)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	uint64_t v;
	if (parse_u64(s, &end, &v) < 0)
		return -EINVAL;
	uint64_t mul;
	if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1000000;
	else if (!strcmp(end, "s"))
		mul = 1000000000;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*ns = v * mul;
	return 0;
}

static int parse_prob(const char *s, double *p)
{
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	double v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (*end == '%') {
		v /= 100.0;
		end++;
	}
	if (*end || !valid_prob(v))
		return -EINVAL;
	*p = v;
	return 0;
}

static int parse_rate(const char *s, uint64_t *bps)
{
	char *end;
	uint64_t v;
	if (parse_u64(s, &end, &v) < 0)
		return -EINVAL;
	uint64_t mul = 1;
	if (*end == 'k')
		mul = 1000, end++;
	else if (*end == 'M')
		mul = 1000000, end++;
	else if (*end == 'G')
		mul = 1000000000, end++;
	if (*end || v > UINT64_MAX / mul)
		return -EINVAL;
	*bps = v * mul;
	return 0;
}

int net_impair_parse(const char *spec, struct net_impair_config *out)
{
	struct net_impair_config c = {0};
	char buf[NET_IMPAIR_SPEC_MAX + 1];
	size_t n = strnlen(spec, sizeof(buf));
	if (n > NET_IMPAIR_SPEC_MAX)
		return -EINVAL;
	memcpy(buf, spec, n);
	buf[n] = '\0';
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		int rv;
		if (!strcmp(k, "loss"))
			rv = parse_prob(v, &c.loss);
		else if (!strcmp(k, "dup"))
			rv = parse_prob(v, &c.dup);
		else if (!strcmp(k, "reorder"))
			rv = parse_prob(v, &c.reorder);
		else if (!strcmp(k, "delay"))
			rv = parse_duration(v, &c.delay_ns);
		else if (!strcmp(k, "jitter"))
			rv = parse_duration(v, &c.jitter_ns);
		else if (!strcmp(k, "reorder_delay"))
			rv = parse_duration(v, &c.reorder_delay_ns);
		else if (!strcmp(k, "rate"))
			rv = parse_rate(v, &c.rate_bps);
		else if (!strcmp(k, "seed")) {
			char *end;
			rv = parse_u64(v, &end, &c.seed);
			if (rv == 0 && *end)
				rv = -EINVAL;
		} else if (!strcmp(k, "partition")) {
			char a[64];
			const char *dash = strchr(v, '-');
			if (!dash || (size_t)(dash - v) >= sizeof(a) || c.npartitions >= NET_IMPAIR_MAX_PARTITIONS)
				return -EINVAL;
			memcpy(a, v, (size_t)(dash - v));
			a[dash - v] = '\0';
			struct net_impair_window *w = &c.partitions[c.npartitions];
			rv = parse_duration(a, &w->start_ns);
			if (rv == 0)
				rv = parse_duration(dash + 1, &w->end_ns);
			if (rv == 0 && w->end_ns < w->start_ns)
				rv = -EINVAL;
			if (rv == 0)
				c.npartitions++;
		} else {
			rv = -EINVAL;
		}
		if (rv < 0)
			return -EINVAL;
	}
	*out = c;
	return 0;
}
