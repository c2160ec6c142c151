/* A progress line for long work (asset put/get, log verify, session join):
 * one line on stderr, redrawn in place, only when stderr is a terminal and
 * the command does not print JSON; nothing at all when piped, so scripts
 * and logs never see it.
 *
 *   asset put: 48.0 MiB / 200.0 MiB  24%  160.2 MiB/s  ETA 1s
 *   catching up: 12 000 / 100 000 entries  12%  3 400 entries/s  ETA 26s
 *
 * The rate is the average since the first figure; the ETA follows from it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_ctx;

#define CTL_PROGRESS_REDRAW_NS (100ull * 1000 * 1000) /* at most 10 redraws a second */
#define CTL_PROGRESS_LINE_MAX 160

enum ctl_progress_unit {
	CTL_PROGRESS_BYTES,   /* KiB / MiB / GiB, per second */
	CTL_PROGRESS_ENTRIES, /* "12 000 / 100 000 entries" */
};

struct ctl_progress {
	bool on; /* stderr is a terminal and not --json */
	enum ctl_progress_unit unit;
	char what[48];
	uint64_t total; /* 0: unknown (no percentage, no ETA) */
	bool seen;      /* a figure came: start and t0_ns are its */
	uint64_t start, t0_ns, drawn_ns;
	size_t drawn_len; /* characters on the line now; 0: nothing drawn */
};

/* Whether a progress line would show for ctx (stderr a terminal, no
 * --json). ctx may be NULL (no --json). */
bool ctl_progress_wanted(const struct ctl_ctx *ctx);
/* Starts a line labelled what ("asset put") over total units (0: unknown). */
void ctl_progress_start(struct ctl_progress *p, const struct ctl_ctx *ctx, const char *what,
			enum ctl_progress_unit unit, uint64_t total);
/* done units so far; redraws at most every CTL_PROGRESS_REDRAW_NS unless
 * force. A changed total (a host whose log grew) may be given again. */
void ctl_progress_update(struct ctl_progress *p, uint64_t done, uint64_t total, bool force);
/* A status sentence in place of the figures ("no answer from H:P yet,
 * retrying…"), drawn at once. */
void ctl_progress_say(struct ctl_progress *p, const char *text);
/* Erases the line (the command's result follows on a clean line). */
void ctl_progress_end(struct ctl_progress *p);

/* The figures part of a line, for tests too: done/total in unit, elapsed
 * seconds since the start (start units were there already), into buf. */
size_t ctl_progress_format(char *buf, size_t len, const char *what, enum ctl_progress_unit unit, uint64_t done,
			   uint64_t total, uint64_t start, double elapsed_s);
/* 12345678 -> "12 345 678" */
void ctl_format_count(uint64_t n, char *buf, size_t len);
