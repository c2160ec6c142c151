/* `thetactl log ...` subcommands that need no daemon. */
#pragma once
#include "ctl.h"

/* thetactl log verify [--quiet] [--json] [--at N] [--host-key HEX]
 * [--window N] PATH: argv[0] is the subcommand name ("verify"), PATH a log
 * directory or one segment file; ctx may be NULL (its --json counts).
 * Verifies every record, then rebuilds the scene from positions 0..N-1
 * (all by default) and prints its world hash and counts. Exit status: 0
 * every record verified; 1 a bad record (one line on stdout: "record N at
 * byte OFFSET: REASON"), an unreadable PATH, a position past the end or a
 * fold that failed (stderr); 2 usage. */
int ctl_cmd_log_verify(const struct ctl_ctx *ctx, int argc, char **argv);
