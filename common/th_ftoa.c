/* Short round-trip text of floats (th_ftoa.h).
 *
 * v = m 2^e (m the 24-bit significand of a normal float) is nearest to
 * every real in its rounding interval [v - hl, v + hu] (hu = 2^(e-1); hl
 * the same, or half of it when m = 2^23, where the float below is closer;
 * the ends belong to v only when m is even). A decimal strictly inside
 * reads back as v. Scaled by 10^j so that s = |v| 10^j lies in
 * [10^8, 10^9), the interval is about 3 to 60 units wide (s / 2^25 and
 * more), so the integers inside, [L, H], are never empty (9 digits always
 * do), and the fewest digits come from dividing L (up) and H (down) by 10
 * while some multiple of the next power of ten stays inside; of the
 * multiples k 10^t left, the nearest to s is written.
 *
 * Error bound: 10^|j| for |j| <= 22 is an exact double, so s and the
 * scaled half-gaps each take one rounding (relative error <= 2^-53, under
 * 6e-8 units at s < 10^9), and lo = s - hl, hi = s + hu one more (under
 * 6e-8 units): each bound is within 1.3e-7 units of the true one. When
 * an integer lies within FT_MARGIN (1e-5 units) of either bound, the value
 * goes to the slow path (snprintf + strtof), which decides exactly, so the
 * answer never depends on the error. */
#include "th_ftoa.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FT_MARGIN 1e-5       /* units of s an integer must keep from the interval's edges (75 x the error) */
#define FT_POW10_EXACT 22    /* 10^0 .. 10^22 are exact doubles */
#define FT_DIGITS 9          /* significant digits that always round-trip a float */
#define FT_SHORT_DIGITS 6    /* up to this many digits: %.6g's layout */
#define FT_EXP_LOW (-4)      /* a decimal exponent below this: exponent form (as %g) */

static const double ft_pow10[FT_POW10_EXACT + 1] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static const uint64_t ft_pow10_u[FT_DIGITS + 1] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
};

/* a 10^j, one rounding (|j| <= FT_POW10_EXACT). */
static inline double ft_scale(double a, int j) { return j >= 0 ? a * ft_pow10[j] : a / ft_pow10[-j]; }

/* The text of sign, the digits of d (nd of them, no trailing zero unless
 * d is 0) times 10^(X - nd + 1), in th_ftoa.h's %g layout. */
static size_t ft_layout(char *out, bool neg, uint64_t d, int nd, int x)
{
	char dig[FT_DIGITS + 1];
	for (int i = nd - 1; i >= 0; i--, d /= 10)
		dig[i] = (char)('0' + d % 10);
	char *p = out;
	if (neg)
		*p++ = '-';
	int limit = nd <= FT_SHORT_DIGITS ? FT_SHORT_DIGITS : FT_DIGITS;
	if (x < FT_EXP_LOW || x >= limit) {
		*p++ = dig[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, dig + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		*p++ = 'e';
		*p++ = x < 0 ? '-' : '+';
		unsigned ax = (unsigned)(x < 0 ? -x : x);
		if (ax >= 100)
			*p++ = (char)('0' + ax / 100);
		*p++ = (char)('0' + ax / 10 % 10);
		*p++ = (char)('0' + ax % 10);
	} else if (x >= 0) {
		if (nd <= x + 1) {
			memcpy(p, dig, (size_t)nd);
			p += nd;
			memset(p, '0', (size_t)(x + 1 - nd));
			p += x + 1 - nd;
		} else {
			memcpy(p, dig, (size_t)x + 1);
			p += x + 1;
			*p++ = '.';
			memcpy(p, dig + x + 1, (size_t)(nd - x - 1));
			p += nd - x - 1;
		}
	} else {
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)(-x - 1));
		p += -x - 1;
		memcpy(p, dig, (size_t)nd);
		p += nd;
	}
	*p = 0;
	return (size_t)(p - out);
}

static inline uint32_t ft_bits(float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	return u;
}

/* Exactly, by the C library: the fewest digits p whose "%.*e" reads back
 * as v's bits, laid out as the fast path does. */
static size_t ft_slow(float v, char out[TH_F32_TEXT_MAX])
{
	char b[TH_F32_TEXT_MAX];
	if (!isfinite(v))
		return (size_t)snprintf(out, TH_F32_TEXT_MAX, "%g", (double)v);
	for (int p = 1; p <= FT_DIGITS; p++) {
		snprintf(b, sizeof(b), "%.*e", p - 1, (double)v);
		if (ft_bits(strtof(b, NULL)) != ft_bits(v) && p < FT_DIGITS)
			continue;
		/* [-]D[.DDD]e(+|-)XX */
		const char *q = b;
		bool neg = *q == '-';
		q += neg;
		uint64_t d = 0;
		int nd = 0;
		for (; *q && *q != 'e'; q++) {
			if (*q >= '0' && *q <= '9') {
				d = d * 10 + (uint64_t)(*q - '0');
				nd++;
			}
		}
		int x = *q == 'e' ? atoi(q + 1) : 0;
		while (nd > 1 && d % 10 == 0) {
			d /= 10;
			nd--;
		}
		return ft_layout(out, neg, d, nd, x);
	}
	return 0; /* not reached: 9 digits always read back */
}

/* 2^k as a double (normal range). */
static inline double ft_pow2(int k)
{
	uint64_t b = (uint64_t)(k + 1023) << 52;
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

size_t th_f32_text(float v, char out[TH_F32_TEXT_MAX])
{
	uint32_t u = ft_bits(v), ef = (u >> 23) & 0xffu, frac = u & 0x7fffffu;
	if ((u & 0x7fffffffu) == 0) { /* "0", "-0" (as %g) */
		size_t n = u >> 31;
		memcpy(out, "-0", 3);
		if (!n)
			memcpy(out, "0", 2);
		return n + 1;
	}
	if (ef == 0 || ef == 0xffu) /* subnormal, infinite, NaN */
		return ft_slow(v, out);
	int e = (int)ef - 150; /* v = (frac | 2^23) 2^e */
	double a = fabs((double)v);
	/* x: the decimal exponent of a's leading digit, floor((e + 23) log10 2)
	 * (78913 / 2^18 = log10 2 to 1e-7, exact over |e + 23| < 1650; the
	 * shift floors negatives), off by at most one: corrected on s. */
	int x = ((e + 23) * 78913) >> 18;
	int j = FT_DIGITS - 1 - x;
	if (j > FT_POW10_EXACT - 1 || j < -FT_POW10_EXACT + 1)
		return ft_slow(v, out);
	double s = ft_scale(a, j);
	if (s >= ft_pow10[FT_DIGITS])
		s = ft_scale(a, --j);
	else if (s < ft_pow10[FT_DIGITS - 1])
		s = ft_scale(a, ++j);
	double hu = ft_scale(ft_pow2(e - 1), j);
	double hl = frac == 0 && ef > 1 ? hu / 2 : hu;
	double lo = s - hl, hi = s + hu;
	/* The integers inside, [L, H]; one within FT_MARGIN of an edge is
	 * decided exactly. */
	uint64_t L = (uint64_t)lo, H = (uint64_t)hi;
	L += (double)L < lo;
	if ((double)L - lo < FT_MARGIN || hi - (double)H < FT_MARGIN || L > H)
		return ft_slow(v, out);
	/* Drop digits while a multiple of the next power of ten is inside. */
	int t = 0;
	for (;;) {
		uint64_t lq = (L + 9) / 10, hq = H / 10;
		if (lq > hq)
			break;
		L = lq;
		H = hq;
		t++;
	}
	/* Of the k 10^t inside, the nearest to s. */
	uint64_t d = (uint64_t)(s / ft_pow10[t] + 0.5);
	d = d < L ? L : d > H ? H : d;
	int nd = 1;
	while (nd <= FT_DIGITS && d >= ft_pow10_u[nd])
		nd++;
	while (nd > 1 && d % 10 == 0) {
		d /= 10;
		nd--;
		t++;
	}
	return ft_layout(out, u >> 31, d, nd, nd - 1 + t - j);
}
