/* Every thetactl subcommand; the table lives in commands.c. */
#pragma once
#include "ctl.h"


int ctl_cmd_help(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_log_level(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_reload(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_whoami(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_sessions(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_log_list(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_clients(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_net.c: sessions between daemons */
int ctl_cmd_session(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_invite(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_peers(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_kick(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_role(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_mute(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_unmute(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_impair(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_choose.c: session use / forget, invite list / revoke */
int ctl_session_use(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_session_forget(struct ctl_ctx *ctx, int argc, char **argv);
/* argv[1] "list" or "revoke": runs it; -1 otherwise (an invite to make). */
int ctl_invite_sub(struct ctl_ctx *ctx, int argc, char **argv);
/* The line under an invite link: role, expiry (UTC), reuse, invite id. */
void ctl_invite_print_terms(struct json_object *res);
/* cmd_members.c: local users of a session */
int ctl_session_allow(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_session_deny(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_session_members(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_asset.c: a session's assets */
int ctl_cmd_asset(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_assets(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_scene.c: the session's scene (live and offline diff) */
int ctl_cmd_scene(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_export.c: the scene as glTF or OBJ + MTL, written by the daemon */
int ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_undo.c: undo / redo an entry through the daemon's submit */
int ctl_cmd_undo(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_redo(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_import.c: a glTF / OBJ file as signed commands of the caller */
int ctl_cmd_import(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_voice.c: the daemon's voice pipeline, per speaker */
int ctl_cmd_voice(struct ctl_ctx *ctx, int argc, char **argv);
int ctl_cmd_web(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_complete.c: bash completion's words (hidden) */
int ctl_cmd_complete(struct ctl_ctx *ctx, int argc, char **argv);
/* cmd_presence.c: presence between daemons, per session */
int ctl_cmd_presence(struct ctl_ctx *ctx, int argc, char **argv);
