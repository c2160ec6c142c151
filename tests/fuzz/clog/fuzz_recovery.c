/* libFuzzer target: the recovery scan. The input is one segment file.
 * Properties: the in-memory scan never reads out of bounds; when it calls
 * the damage a torn tail, the daemon's recovery (clog_open on a real
 * directory) repairs it, and what it leaves verifies cleanly; when it
 * calls the log corrupt, recovery refuses it.
 *
 * Input: one mode byte, then the segment. Mode bit 0 set: every record's
 * CRC is recomputed first (walking the declared lengths), so mutations
 * reach entry, chain, signature and batch checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_logfile.h"

static char fz_dir[64];

static void fz_clean(void)
{
	char p[128];
	for (uint64_t i = 1; i <= 3; i++) {
		th_logseg_path(fz_dir, i, p, sizeof(p));
		unlink(p);
	}
}

static void fz_remove_dir(void)
{
	fz_clean();
	rmdir(fz_dir);
}

static void fz_fix_crcs(uint8_t *p, size_t size)
{
	size_t pos = TH_LOGSEG_HDR_LEN;
	while (pos + TH_LOGREC_FRAME_LEN <= size) {
		struct th_logrec_frame g = {
			.body_len = th_get_le32(p + pos + 4), .batch = th_get_le64(p + pos + 8),
			.kind = p[pos + 16], .flags = p[pos + 17]
		};
		if (g.body_len > size - pos - TH_LOGREC_FRAME_LEN)
			return;
		th_logrec_frame_put(p + pos, &g, p + pos + TH_LOGREC_FRAME_LEN);
		pos += TH_LOGREC_FRAME_LEN + g.body_len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_logscan *s;
	struct th_logscan_result res;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	if (mode & 1)
		fz_fix_crcs(p, size);
	if (th_logscan_create(NULL, NULL, &s) < 0) {
		free(p);
		return 0;
	}
	th_logscan_segment(s, 1, p, size, true, false);
	th_logscan_finish(s, &res);
	th_logscan_destroy(&s);

	if (!res.ok && !res.torn) {
		free(p);
		return 0; /* corrupt: nothing more to check cheaply */
	}
	if (!fz_dir[0]) {
		snprintf(fz_dir, sizeof(fz_dir), "/tmp/theta-fuzz-recovery-%d", (int)getpid());
		if (mkdir(fz_dir, 0700) < 0 && access(fz_dir, W_OK) < 0)
			abort();
		atexit(fz_remove_dir);
	}
	fz_clean();
	char path[128];
	th_logseg_path(fz_dir, 1, path, sizeof(path));
	FILE *fp = fopen(path, "w");
	if (!fp)
		abort();
	fwrite(p, 1, size, fp);
	fclose(fp);

	struct clog *c;
	struct clog_recovery rep;
	int r = clog_open(fz_dir, NULL, NULL, NULL, &c, &rep);
	if (r < 0)
		abort(); /* ok or torn must open */
	if (rep.records != res.records || rep.repaired != res.torn)
		abort();
	clog_close(&c);
	if (th_logscan_dir(fz_dir, NULL, NULL, &res) < 0 || !res.ok)
		abort(); /* recovery must leave a log that verifies */
	fz_clean();
	free(p);
	return 0;
}
