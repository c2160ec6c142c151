/* libFuzzer target: th_ring against an adversarial peer.
 *
 * Input: byte 0 picks the geometry's max_record; the rest is a program of
 * operations on one ring region, standing in for everything a hostile
 * process can do to shared memory between our calls:
 *   0 W off:u16 val:u64   write a u64 anywhere in the region (indices too)
 *   1 B off:u16 val:u8    write one byte anywhere
 *   2 P type:u16 len:u16  produce a record (and flush)
 *   3 C                   consume one record
 *   4 S                   prepare sleep / finish sleep
 *   5 I                   re-attach both ends (re-reads the shared indices)
 * Invariants checked: no out-of-bounds access (ASan), popped records are
 * within max_record and never padding, a broken ring stays broken. */
#include "th_err.h"
#include "th_ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CAP 4096u

static _Alignas(64) uint8_t region[TH_RING_HDR_SIZE + CAP];

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	struct th_ring_geom g = { .capacity = CAP, .max_record = 16u + (d[0] % 8u) * 250u };
	memset(region, 0, sizeof region);
	if (th_ring_format(region, sizeof region, &g) < 0)
		abort();
	struct th_ring_prod p;
	struct th_ring_cons c;
	if (th_ring_prod_init(&p, region, sizeof region, &g, -1) < 0 ||
	    th_ring_cons_init(&c, region, sizeof region, &g, -1) < 0)
		abort();
	bool have_p = true, have_c = true;
	static uint8_t buf[CAP], src[CAP];
	size_t i = 1;
	while (i < n) {
		uint8_t op = d[i++] % 6;
		switch (op) {
		case 0: {
			if (n - i < 10)
				return 0;
			uint16_t off = (uint16_t)(d[i] | d[i + 1] << 8) % (sizeof region - 7);
			memcpy(region + off, d + i + 2, 8);
			i += 10;
			break;
		}
		case 1: {
			if (n - i < 3)
				return 0;
			uint16_t off = (uint16_t)(d[i] | d[i + 1] << 8) % sizeof region;
			region[off] = d[i + 2];
			i += 3;
			break;
		}
		case 2: {
			if (n - i < 4)
				return 0;
			uint16_t type = (uint16_t)(d[i] | d[i + 1] << 8);
			uint16_t len = (uint16_t)(d[i + 2] | d[i + 3] << 8) % 1200;
			i += 4;
			if (have_p) {
				bool was_broken = p.broken;
				int r = th_ring_push(&p, type, src, len);
				if (was_broken && r != -TH_ECORRUPT)
					abort();
			}
			break;
		}
		case 3:
			if (have_c) {
				struct th_ring_rec rec;
				bool was_broken = c.broken;
				int r = th_ring_pop(&c, &rec, buf, sizeof buf);
				if (r == 1 && (rec.len > g.max_record || rec.type == TH_RING_TYPE_PAD))
					abort();
				if (was_broken && r != -TH_ECORRUPT)
					abort();
				if (r < 0 && r != -TH_ECORRUPT)
					abort();
			}
			break;
		case 4:
			if (have_c && th_ring_prepare_sleep(&c) == 0)
				th_ring_finish_sleep(&c, false);
			break;
		case 5:
			have_p = th_ring_prod_init(&p, region, sizeof region, &g, -1) == 0;
			have_c = th_ring_cons_init(&c, region, sizeof region, &g, -1) == 0;
			break;
		}
	}
	/* Drain whatever is left. */
	if (have_c) {
		struct th_ring_rec rec;
		for (int k = 0; k < 1024 && th_ring_pop(&c, &rec, buf, sizeof buf) == 1; k++)
			if (rec.len > g.max_record)
				abort();
	}
	return 0;
}
