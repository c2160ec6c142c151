/* thetactl log verify: offline verification of a command log with the same
 * scanner the daemon's recovery uses (common/th_logfile.h). */
#include "cmd_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "th_err.h"
#include "th_logfile.h"

int ctl_cmd_log_verify(int argc, char **argv)
{
	const char *path = NULL;
	bool quiet = false;
	struct th_logscan_result res;
	struct stat st;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: thetactl log verify [--quiet] PATH\n"
			       "Verifies a command log directory (or one segment file) offline:\n"
			       "checksums, signatures, hash chains and order. Exit 0 when all hold.\n");
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "thetactl log verify: unknown option '%s'\n", argv[i]);
			return 2;
		} else if (path) {
			fprintf(stderr, "thetactl log verify: unexpected argument '%s'\n", argv[i]);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "usage: thetactl log verify [--quiet] PATH\n");
		return 2;
	}
	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		r = th_logscan_dir(path, NULL, NULL, &res);
	else
		r = th_logscan_file(path, NULL, NULL, &res);
	if (r < 0) {
		fprintf(stderr, "thetactl log verify: %s: %s\n", path, th_strerror(r));
		return 1;
	}
	if (!res.ok) {
		printf("record %" PRIu64 " at byte %" PRIu64 ": %s (segment %016" PRIx64 "%s)\n", res.bad_index,
		       res.bad_offset, th_logrec_fault_str(res.bad_reason), res.bad_segment,
		       res.torn ? "; unacknowledged torn tail, recovery truncates it" : "");
		return 1;
	}
	if (!quiet)
		printf("ok: %" PRIu64 " records, %" PRIu64 " batches, %" PRIu64 " segments, %" PRIu64
		       " authors, lamport %" PRIu64 "\n",
		       res.records, res.batches, res.segments, res.authors, res.max_lamport);
	return 0;
}
