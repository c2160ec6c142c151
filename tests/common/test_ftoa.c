/* th_f32_text: every float's text reads back (strtof) as the same bits,
 * over millions of random bit patterns (every exponent, subnormals, both
 * zeros, infinities) and of the values meshes hold (decimal grid values,
 * uniform coordinates, unit normals); the text has at most 9 significant
 * digits, equals "%.6g"'s wherever that round-trips a normal float, and
 * finite values are JSON numbers. THETA_FTOA_RANDOM sets how many random
 * patterns (default 2 000 000), THETA_FTOA_SEED the seed. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "th_ftoa.h"
#include "th_meshfix.h"

#define RANDOM_DEFAULT 2000000ul
#define MESHLIKE 500000ul

#define SEED_DEFAULT 0x9e3779b97f4a7c15ull /* of mf_rng (th_meshfix.h's xorshift64) */

static uint32_t bits(float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	return u;
}

static float of_bits(uint32_t u)
{
	float v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == 0;
}

/* Significant digits of a decimal text (leading zeros not counted). */
static int sig_digits(const char *s)
{
	int n = 0;
	bool lead = true;
	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		lead = lead && *s == '0';
		n += !lead;
	}
	return n;
}

static unsigned long checked, six_equal;

/* Every property of one value; a failure names it. */
static void check(float v)
{
	char t[TH_F32_TEXT_MAX + 8], g6[40];
	memset(t, 0x55, sizeof(t));
	size_t n = th_f32_text(v, t);
	if (n >= TH_F32_TEXT_MAX || t[n] != 0 || strlen(t) != n)
		fail_msg("%08x: length %zu past the buffer or not terminated", bits(v), n);
	if (isnan(v)) {
		assert_true(isnan(strtof(t, NULL)));
		return;
	}
	float r = strtof(t, NULL);
	if (bits(r) != bits(v))
		fail_msg("%08x (%.9g): \"%s\" reads back as %08x", bits(v), (double)v, t, bits(r));
	if (isinf(v))
		return;
	if (!json_number(t))
		fail_msg("%08x: \"%s\" is not a JSON number", bits(v), t);
	if (sig_digits(t) > 9)
		fail_msg("%08x: \"%s\" has more than 9 significant digits", bits(v), t);
	snprintf(g6, sizeof(g6), "%.6g", (double)v);
	if (fpclassify(v) == FP_NORMAL && bits(strtof(g6, NULL)) == bits(v)) {
		if (strcmp(t, g6))
			fail_msg("%08x: \"%s\", but %%.6g round-trips as \"%s\"", bits(v), t, g6);
		six_equal++;
	}
	checked++;
}

static void known_values_read_as_expected(void **state)
{
	(void)state;
	static const struct {
		float v;
		const char *text;
	} k[] = {
		{ 0.0f, "0" },          { -0.0f, "-0" },           { 1.0f, "1" },
		{ -1.5f, "-1.5" },      { 0.35f, "0.35" },         { 0.6f, "0.6" },
		{ 100.0f, "100" },      { 1e6f, "1e+06" },         { 1e-5f, "1e-05" },
		{ 0.0001f, "0.0001" },  { 16777216.0f, "16777216" }, { 123456.7f, "123456.7" },
		{ 0.1f, "0.1" },        { 1e22f, "1e+22" },        { FLT_MAX, "3.4028235e+38" },
		{ FLT_MIN, "1.1754944e-38" }, { 1e-45f, "1e-45" }, { 0.70710677f, "0.70710677" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		char t[TH_F32_TEXT_MAX];
		th_f32_text(k[i].v, t);
		if (strcmp(t, k[i].text))
			fail_msg("%.9g: \"%s\", want \"%s\"", (double)k[i].v, t, k[i].text);
		check(k[i].v);
	}
	char t[TH_F32_TEXT_MAX];
	th_f32_text(INFINITY, t);
	assert_string_equal(t, "inf");
	th_f32_text(-INFINITY, t);
	assert_string_equal(t, "-inf");
}

/* Powers of two and of ten across the whole range, with both neighbours:
 * the interval's lopsided edge (m = 2^23) and exact decimals. */
static void powers_and_their_neighbours_round_trip(void **state)
{
	(void)state;
	for (int e = -149; e <= 127; e++) {
		float p = ldexpf(1.0f, e);
		check(p);
		check(nextafterf(p, 0));
		check(nextafterf(p, INFINITY));
		check(-p);
	}
	for (int e = -45; e <= 38; e++) {
		char b[16];
		snprintf(b, sizeof(b), "1e%d", e);
		float p = strtof(b, NULL);
		check(p);
		check(nextafterf(p, 0));
		check(nextafterf(p, INFINITY));
	}
	for (uint32_t u = 0; u < 100000; u++) { /* the smallest subnormals, and the largest finite */
		check(of_bits(u));
		check(of_bits(0x7f7fffffu - u));
	}
}

static void random_bit_patterns_round_trip(void **state)
{
	(void)state;
	const char *n_s = getenv("THETA_FTOA_RANDOM"), *seed_s = getenv("THETA_FTOA_SEED");
	unsigned long n = n_s && *n_s ? strtoul(n_s, NULL, 10) : RANDOM_DEFAULT;
	if (seed_s && *seed_s)
		mf_rng = strtoull(seed_s, NULL, 0) | 1;
	checked = six_equal = 0;
	for (unsigned long i = 0; i < n; i++)
		check(of_bits((uint32_t)mf_rnd()));
	print_message("random: %lu finite values checked, %lu equal to %%.6g (seed %s)\n", checked, six_equal,
		      seed_s ? seed_s : "default");
	assert_true(checked > n / 2);
}

/* What an export writes most: coordinates on a decimal grid (a 1 mm
 * snap), uniform coordinates, and unit normal components. */
static void mesh_values_round_trip(void **state)
{
	(void)state;
	checked = six_equal = 0;
	for (unsigned long i = 0; i < MESHLIKE; i++) {
		int64_t k = (int64_t)(mf_rnd() % 2000001) - 1000000;
		check((float)((double)k / 1000.0));
		check((float)((double)(mf_rnd() >> 11) / 9007199254740992.0 * 200.0 - 100.0));
		double x = (double)(mf_rnd() >> 11) / 9007199254740992.0 * 2 - 1, y = sqrt(1 - x * x);
		check((float)x);
		check((float)y);
	}
	print_message("mesh values: %lu checked, %lu equal to %%.6g\n", checked, six_equal);
	assert_true(six_equal > MESHLIKE / 2); /* the grid values print as %.6g does */
}

int main(void)
{
	mf_rng = SEED_DEFAULT;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_values_read_as_expected),
		cmocka_unit_test(powers_and_their_neighbours_round_trip),
		cmocka_unit_test(random_bit_patterns_round_trip),
		cmocka_unit_test(mesh_values_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
