/* Commands signed as the caller: thetactl's side of the daemon's `submit`
 * and `entry` control commands (thetad/sess/submit.c), used by `thetactl
 * import` and `thetactl undo|redo`. One connection carries every request
 * of a run; a refusal comes back as the daemon's sentence, never printed
 * here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

struct json_object;

/* How long a submit the daemon answers "try again" (EAGAIN: the rate
 * limit, a full queue, edits being recovered) is retried, and how often. */
#define CTL_SUBMIT_RETRY_S 60u
#define CTL_SUBMIT_RETRY_WAIT_US (20 * 1000)
/* Largest payload one submit carries: its base64 and the request's JSON
 * fit PROTO_CTL_MAX_REQUEST (64 KiB). */
#define CTL_SUBMIT_PAYLOAD_MAX (46u * 1024)
#define CTL_ERR_LEN 512

struct ctl_submitted {
	uint64_t lamport, seq;
	uint8_t author[32];
	char fingerprint[64];
};

/* Signs type (a command name) with scope and payload as the caller (as_host:
 * with the session's host key, daemon admins, undo/redo only). Retries
 * while the daemon says EAGAIN, for CTL_SUBMIT_RETRY_S. 0 with *out, 1
 * refused (err), -errno (err). session may be NULL (the current one). */
int ctl_submit(const struct ctl_ctx *ctx, int fd, const char *session, const char *type, uint64_t scope,
	       const uint8_t *payload, size_t len, bool as_host, struct ctl_submitted *out, char *err,
	       size_t errlen);

/* The daemon's `entry`: the entry with that lamport (by the author given
 * as 64 hex digits or a fingerprint prefix, NULL: any). As ctl_ask. */
int ctl_entry(const struct ctl_ctx *ctx, int fd, const char *session, uint64_t lamport, const char *author,
	      struct json_object **result, char *err, size_t errlen);
