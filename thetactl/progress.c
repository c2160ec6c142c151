/* The progress line (progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "th_time.h"

/* Below this much elapsed time a rate says nothing yet. */
#define CTL_PROGRESS_RATE_MIN_S 0.2

bool ctl_progress_wanted(const struct ctl_ctx *ctx)
{
	return !(ctx && ctx->json) && isatty(STDERR_FILENO);
}

void ctl_format_count(uint64_t n, char *buf, size_t len)
{
	char digits[24];
	int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;
	if (!len)
		return;
	for (int i = 0; i < nd; i++) {
		bool sep = i && (nd - i) % 3 == 0;
		if (o + (sep ? 2 : 1) >= len)
			break;
		if (sep)
			buf[o++] = ' ';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
}

/* Whole seconds, minutes or hours: "25s", "16m 30s", "2h 05m". */
static void fmt_eta(double s, char *buf, size_t len)
{
	unsigned long long t = (unsigned long long)(s + 0.5);
	if (t < 1)
		t = 1; /* "ETA 0s" reads as noise */
	if (t < 60)
		snprintf(buf, len, "%llus", t);
	else if (t < 3600)
		snprintf(buf, len, "%llum %02llus", t / 60, t % 60);
	else
		snprintf(buf, len, "%lluh %02llum", t / 3600, t % 3600 / 60);
}

static void fmt_amount(enum ctl_progress_unit unit, uint64_t n, char *buf, size_t len)
{
	if (unit == CTL_PROGRESS_BYTES)
		ctl_format_bytes(n, buf, len);
	else
		ctl_format_count(n, buf, len);
}

size_t ctl_progress_format(char *buf, size_t len, const char *what, enum ctl_progress_unit unit, uint64_t done,
			   uint64_t total, uint64_t start, double elapsed_s)
{
	char d[32], t[32], r[48] = "", eta[48] = "", pct[8] = "";
	const char *noun = unit == CTL_PROGRESS_ENTRIES ? " entries" : "";
	fmt_amount(unit, done, d, sizeof(d));
	if (total) {
		fmt_amount(unit, total, t, sizeof(t));
		snprintf(pct, sizeof(pct), "%3u%%", (unsigned)(done >= total ? 100 : done * 100 / total));
	}
	if (elapsed_s >= CTL_PROGRESS_RATE_MIN_S && done > start) {
		double rate = (double)(done - start) / elapsed_s;
		char rs[32];
		fmt_amount(unit, (uint64_t)(rate + 0.5), rs, sizeof(rs));
		snprintf(r, sizeof(r), "  %s%s/s", rs, noun);
		if (total && done < total) {
			char e[24];
			fmt_eta((double)(total - done) / rate, e, sizeof(e));
			snprintf(eta, sizeof(eta), "  ETA %s", e);
		}
	}
	int n;
	if (total)
		n = snprintf(buf, len, "%s: %s / %s%s  %s%s%s", what, d, t, noun, pct, r, eta);
	else
		n = snprintf(buf, len, "%s: %s%s%s", what, d, noun, r);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

void ctl_progress_start(struct ctl_progress *p, const struct ctl_ctx *ctx, const char *what,
			enum ctl_progress_unit unit, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = ctl_progress_wanted(ctx);
	p->unit = unit;
	p->total = total;
	p->t0_ns = th_now_ns();
	snprintf(p->what, sizeof(p->what), "%s", what);
}

static void draw(struct ctl_progress *p, const char *line, size_t n)
{
	/* \r, the line, and blanks over what a longer previous line left. */
	size_t pad = p->drawn_len > n ? p->drawn_len - n : 0;
	fprintf(stderr, "\r%s%*s", line, (int)pad, "");
	if (pad)
		fprintf(stderr, "\r%s", line);
	fflush(stderr);
	p->drawn_len = n;
	p->drawn_ns = th_now_ns();
}

void ctl_progress_update(struct ctl_progress *p, uint64_t done, uint64_t total, bool force)
{
	if (!p->on)
		return;
	uint64_t now = th_now_ns();
	if (total)
		p->total = total;
	if (!p->seen) { /* the rate counts from the first figure: what was there before is not work done now */
		p->seen = true;
		p->start = done;
		p->t0_ns = now;
	}
	if (!force && p->drawn_ns && now - p->drawn_ns < CTL_PROGRESS_REDRAW_NS)
		return;
	char line[CTL_PROGRESS_LINE_MAX];
	size_t n = ctl_progress_format(line, sizeof(line), p->what, p->unit, done, p->total, p->start,
				       (double)(now - p->t0_ns) / 1e9);
	draw(p, line, n);
}

void ctl_progress_say(struct ctl_progress *p, const char *text)
{
	if (!p->on)
		return;
	char line[CTL_PROGRESS_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s: %s", p->what, text);
	draw(p, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void ctl_progress_end(struct ctl_progress *p)
{
	if (!p->on || !p->drawn_len)
		return;
	fprintf(stderr, "\r%*s\r", (int)p->drawn_len, "");
	fflush(stderr);
	p->drawn_len = 0;
}
