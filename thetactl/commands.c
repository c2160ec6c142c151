#include <stddef.h>

#include "cmd_log.h"
#include "cmds.h"
#include "ctl.h"

#include <stdio.h>
#include <string.h>

/* thetactl log verify PATH works offline; other forms ask the daemon. */
static int ctl_cmd_log(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return ctl_cmd_log_verify(ctx, argc - 1, argv + 1);
	return ctl_cmd_log_list(ctx, argc, argv);
}

/* One line per subcommand, in the order `thetactl help` lists them. */
const struct ctl_command ctl_commands[] = {
	{ "status", "[--json]", "the daemon: version, pid, uptime, directories, sockets, counts", ctl_cmd_status },
	{ "metrics", "[--json | --prometheus]", "every counter, gauge and histogram the daemon keeps (--prometheus: the Prometheus text format)", ctl_cmd_metrics },
	{ "clients", "[--json]", "connected theta-clients: pid, user, input (interaction profiles), frames, ring figures", ctl_cmd_clients },
	{ "log-level", "[LEVEL]", "show or (admin) set the daemon's log level", ctl_cmd_log_level },
	{ "reload", "", "(admin) re-read the configuration file, like SIGHUP", ctl_cmd_reload },
	{ "whoami", "[--json]", "your signing key's fingerprint (created on first use)", ctl_cmd_whoami },
	{ "sessions", "[--json]", "sessions this daemon keeps", ctl_cmd_sessions },
	{ "session", "host [--name N] | join LINK [--name N] | leave [SESSION]", "host, join or leave a session between daemons", ctl_cmd_session },
	{ "session", "use SESSION | forget SESSION [--delete]", "which session local clients edit by default; take a left or ended session off the list (its log stays unless --delete)", ctl_cmd_session },
	{ "session", "allow USER [--role R] | deny USER | members [--session S]", "(admin) the local users who may work in a session", ctl_cmd_session },
	{ "invite", "[SESSION] [--role viewer|editor|admin] [--expires D|never] [--single-use] [--host H]", "an invite link to a session this daemon hosts (expires after 24h unless --expires says otherwise)", ctl_cmd_invite },
	{ "invite", "list [SESSION] [--json] | revoke ID [--session S]", "the invites this daemon issued (id, role, expiry, uses, state); revoke one so joins with it are refused", ctl_cmd_invite },
	{ "peers", "[--session S] [--wide] [--json]", "connected daemons, a block each: key, address, role, state, RTT, jitter, loss, bytes per stream (--wide: one line each)", ctl_cmd_peers },
	{ "kick", "PEER", "(admin) remove a member from a session this daemon hosts", ctl_cmd_kick },
	{ "role", "PEER ROLE", "(admin) change a member's role", ctl_cmd_role },
	{ "mute", "WHO [--session S]", "(admin) silence a speaker (name or key fingerprint) or every speaker of a member PEER for the whole session", ctl_cmd_mute },
	{ "unmute", "WHO [--session S]", "(admin) let a muted speaker or member be heard again", ctl_cmd_unmute },
	{ "impair", "SPEC|off | --partition on|off", "(admin) rehearse a bad network: loss, delay, jitter, partitions", ctl_cmd_impair },
	{ "assets", "[--session S] [--json]", "a session's assets: hash, name, size, complete / partial N% / missing", ctl_cmd_assets },
	{ "asset", "put FILE [--session S] [--name N] | get HASH OUT [--session S]", "share a file with a session (chunked, resumable) or copy one out", ctl_cmd_asset },
	{ "log", "[--session S] [--since POS] [--max N] [--follow] [--json] | verify [--at N] [--json] PATH", "the command log by position, page by page or followed; verify (offline) also rebuilds the scene, --at N as it stood at position N", ctl_cmd_log },
	{ "scene", "[--session S] [--json] | diff A B [--session S | LOGFILE] [--json]", "the session's folded scene: counts, world hash, log position, checkpoint; diff rebuilds two positions offline", ctl_cmd_scene },
	{ "export", "[--session S] [--at N] [--json] FILE.glb|FILE.gltf|FILE.obj", "the session's scene as glTF 2.0 or OBJ + MTL (FILE.mtl beside), as it stands or as of log position N, with who made each face", ctl_cmd_export },
	{ "import", "FILE.glb|FILE.gltf|FILE.obj [--session S] [--mtl FILE] [--material-base N] [--dry-run] [--no-wait] [--json]", "a model file as your signed commands: materials, one mesh.create per object and mesh.patch batches; a bad file changes nothing", ctl_cmd_import },
	{ "undo", "ENTRY [--session S] [--as-host] [--no-wait] [--json]", "undo an entry (LAMPORT[:AUTHOR] as log lists it), signed as you; prints what the scene made of it", ctl_cmd_undo },
	{ "redo", "ENTRY [--session S] [--as-host] [--no-wait] [--json]", "revoke an undo entry, signed as you", ctl_cmd_redo },
	{ "voice", "[--json]", "voice: settings, and per speaker packets, bytes, bitrate, loss, late, concealed and FEC-recovered frames, jitter buffer, speaking, muted", ctl_cmd_voice },
	{ "web", "[--json]", "the web endpoint for browsers: where it listens, the links' URL base, per browser its name, session, role, state, address, bytes, age", ctl_cmd_web },
	{ "version", "", "thetactl's version", ctl_cmd_version },
	{ "help", "", "this list", ctl_cmd_help },
	/* Hidden (no summary): the words bash completion offers (cmd_complete.c). */
	{ "__complete", "commands | options CMD | subcommands CMD | sessions | peers [SESSION] | roles", NULL, ctl_cmd_complete },
	{ NULL, NULL, NULL, NULL },
};
