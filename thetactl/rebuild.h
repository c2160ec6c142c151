/* Offline scene rebuild: verifies a command log with the daemon's scanner
 * (th_logfile.h) and folds every verified entry (th_fold.h) up to a position,
 * for `thetactl log verify`, `log verify --at N` and `scene diff`. No daemon.
 *
 * Positions are record indexes in append order from 0, the daemon's
 * positions for a log directory (for a single segment file other than the
 * first, indexes from that file's first record). Entries at positions
 * below `at` are folded, in position order; th_fold orders them itself. An
 * entry that sorts below the rollback window (-ERANGE) makes the rebuild
 * fold the whole prefix again with a window as large as the prefix.
 *
 * The session's host key (admin throughout, th_fold_config) is, first
 * match: the one given (--host-key); the session directory around the log
 * (STATE/sessions/ID/log): session.conf's host_key for a member session,
 * the public line of STATE/keys/host.key for a session this daemon hosts;
 * else the author of the entry at position 0. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "th_buf.h"
#include "th_fold.h"
#include "th_logfile.h"
#include "th_scene.h"

#define CTL_REBUILD_ALL UINT64_MAX
#define CTL_REBUILD_HOST_FILE_MAX 4096u /* bytes of session.conf / host.key read */
#define CTL_REBUILD_ERR_LEN 512

enum ctl_host_from {
	CTL_HOST_GIVEN = 1,    /* --host-key */
	CTL_HOST_MEMBER_CONF,  /* session.conf host_key (member session) */
	CTL_HOST_KEY_FILE,     /* STATE/keys/host.key (hosted session) */
	CTL_HOST_FIRST_AUTHOR, /* the author at position 0 */
};

/* The latest outcome of one folded entry (a replay may change it). */
struct ctl_outcome {
	uint8_t status; /* enum th_fold_status; 0: none reported */
	uint8_t reason; /* enum th_refusal */
	uint16_t type;
	uint64_t seq;
	uint8_t author[TH_LOGREC_KEY_LEN];
	const char *why; /* static */
};

struct ctl_rebuild {
	/* in */
	const char *path;    /* a log directory or one segment file */
	uint64_t at;         /* fold positions < at; CTL_REBUILD_ALL: every one */
	uint64_t mark;       /* keep the scene's encoding as it stood at position mark
			      * (positions < mark folded); CTL_REBUILD_ALL: none */
	bool host_given;
	uint8_t host[TH_LOGREC_KEY_LEN];
	uint32_t window;     /* rollback window entries; 0: th_fold's default */
	bool outcomes;       /* keep each folded entry's latest outcome (rb->out) */
	/* Called as the scan goes (every few thousand records and at each
	 * segment) with the bytes of segment files read so far and in all;
	 * optional. A pass that folds again starts from 0. */
	void (*progress)(void *ud, uint64_t done_bytes, uint64_t total_bytes);
	void *progress_ud;
	/* out */
	char log_path[4096];       /* what is scanned: path, or path/log for a session directory */
	uint64_t log_bytes;        /* the segment files' sizes when the scan began */
	struct th_logscan_result scan;
	struct th_fold *fold;      /* the scene at min(at, records) */
	uint64_t folded_to;        /* positions folded: min(at, records) */
	struct th_wbuf marked;     /* th_scene_encode at mark (when mark set and <= records) */
	bool have_mark;
	int host_from;             /* enum ctl_host_from; 0: no entry to take it from */
	char host_path[4096];      /* the file it came from */
	bool rebuilt;              /* the -ERANGE fallback ran */
	struct ctl_outcome *out;   /* with outcomes: by position, folded_to of them */
	size_t out_cap;
	bool out_failed;
	char err[CTL_REBUILD_ERR_LEN];
};

/* Runs the rebuild described by rb's inputs. path may be a log directory,
 * a session directory (its log/ is scanned) or one segment file; anything
 * else (a directory without segments, a file that does not start with the
 * segment magic, an empty file, a device) is refused with a sentence
 * (-ENOENT, -EBADMSG, -ENODATA, -EINVAL). 0: the scan ran (read
 * rb->scan.ok: on a bad log nothing is folded and rb->fold is NULL, except
 * for a torn final batch (rb->scan.torn: a live log being appended looks
 * the same), where the verified records before it are folded);
 * negative errno with rb->err one sentence: the path could not be read, the
 * host key not found, the fold failed, or at / mark is past the end
 * (-ERANGE). */
int ctl_rebuild_run(struct ctl_rebuild *rb);
void ctl_rebuild_fini(struct ctl_rebuild *rb);

/* Parses 64 hex digits into key; 0 or -EINVAL. */
int ctl_rebuild_parse_key(const char *hex, uint8_t key[TH_LOGREC_KEY_LEN]);
/* A whole decimal number (no sign) into *out; false for anything else. */
bool ctl_rebuild_parse_u64(const char *s, uint64_t *out);
const char *ctl_host_from_text(int from);

struct json_object;
/* The rebuilt scene's figures as a JSON object (position, world_hash,
 * counts, fold outcomes, host key and its source); NULL on -ENOMEM or
 * a failed hash (rb->err). */
struct json_object *ctl_rebuild_json(struct ctl_rebuild *rb);
/* The same for people, a few lines on stdout. 0 or negative errno. */
int ctl_rebuild_print(struct ctl_rebuild *rb);
/* With rb->outcomes: the refused entries as a JSON array (position, author,
 * seq, type, reason, why), or a table on stdout. */
struct json_object *ctl_rebuild_refusals_json(const struct ctl_rebuild *rb);
void ctl_rebuild_refusals_print(const struct ctl_rebuild *rb);
