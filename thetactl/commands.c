/* The command table: every thetactl command with its help (synopsis,
 * options with their defaults, a description). `thetactl help`, `thetactl
 * help CMD`, `thetactl CMD --help`, tests/thetactl/test_help.c (against the
 * man page) and completion all read it; ctl.h says how to write an entry. */
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

#define CTL_OPT_NO_WAIT_ENTRY { "--no-wait", "only submit; do not wait for the scene to fold the entry (default: wait up to 10 s)" }
#define CTL_OPT_AS_HOST                                                                                       \
	{ "--as-host", "(root or the admin group, on the host) sign with the host key, which the fold treats as admin" }
#define CTL_OPT_HOST_KEY                                                                                      \
	{ "--host-key HEX", "the session host's public key, 64 hex digits (default: from the session directory "  \
			    "around the log, else the author at position 0)" }
#define CTL_OPT_WINDOW { "--window N", "the fold's rollback window in entries (default: 65536)" }

/* In the order `thetactl help` lists them. */
const struct ctl_command ctl_commands[] = {
	{ .name = "status", .args = "[--json]",
	  .summary = "the daemon: version, pid, uptime, directories, sockets, counts",
	  .run = ctl_cmd_status, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "The daemon's version, pid and uptime, its state and runtime directories, the configuration file "
		  "(or that the embedded defaults apply), its host key and certificate fingerprints, the sockets it "
		  "listens on, and how many clients and sessions it has." },
	{ .name = "metrics", .args = "[--json | --prometheus]",
	  .summary = "every counter, gauge and histogram the daemon keeps (--prometheus: the Prometheus text format)",
	  .run = ctl_cmd_metrics,
	  .opts = CTL_OPTS({ "--prometheus", "print the Prometheus text exposition format 0.0.4 (# HELP, # TYPE, "
					    "counters as _total, labels session and peer) instead of the table" },
			   CTL_OPT_JSON),
	  .desc = "One row per metric: its name, kind (counter, gauge or histogram), value and what it counts. "
		  "With [metrics] listen set the daemon also answers GET /metrics itself (docs/operator.md)." },
	{ .name = "clients", .args = "[--json]",
	  .summary = "connected theta-clients: pid, user, session, input (interaction profiles), frames, ring figures",
	  .run = ctl_cmd_clients, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "One row per connected theta-client: pid, user, the session it edits (+ when it chose it with "
		  "theta-client --session or a browser's link; the others follow thetactl session use), its input "
		  "(desktop, script, none, or openxr with "
		  "the active interaction profile of each hand), frames and frame times, its rings, and whether its "
		  "scene mirror matches the daemon's world hash at the same log position." },
	{ .name = "log-level", .args = "[LEVEL] [--json]", .summary = "show or (admin) set the daemon's log level",
	  .run = ctl_cmd_log_level, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "Without LEVEL prints the daemon's log level. With LEVEL (debug, info, notice, warning or error) "
		  "sets it until the daemon restarts or reloads its configuration; needs root or the admin group. "
		  "Another word is a usage error (exit 2)." },
	{ .name = "reload", .args = "[--json]", .summary = "(admin) re-read the configuration file, like SIGHUP",
	  .run = ctl_cmd_reload, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "Asks the daemon to read its configuration file again, as SIGHUP does; keys that need a restart "
		  "keep their value until then. Needs root or the admin group." },
	{ .name = "whoami", .args = "[--json]", .summary = "your signing key's fingerprint (created on first use)",
	  .run = ctl_cmd_whoami, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "Your user name, uid and the fingerprint of the key the daemon signs your edits with; the daemon "
		  "creates the key the first time you ask." },
	{ .name = "sessions", .args = "[--json]", .summary = "sessions this daemon keeps",
	  .run = ctl_cmd_sessions, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "One row per session: id, name, CURRENT (* for the session local clients edit unless they ask "
		  "for another: thetactl session use), this daemon's role (host or member), its state (a member "
		  "catching up shows syncing N%; ended: a session this daemon hosted and ended), the link to its "
		  "host, peers, clients, entries and lamport. A session with an error says it on stderr, one line "
		  "each." },
	{ .name = "session",
	  .args = "host [--name N] [--json]\n"
		  "join LINK [--name N] [--no-wait] [--timeout D] [--json]\n"
		  "leave [SESSION] [--json]\n"
		  "use SESSION [--json]\n"
		  "forget SESSION [--delete] [--json]\n"
		  "allow USER [--role R] [--session S] [--json]\n"
		  "deny USER [--session S] [--json]\n"
		  "members [--session S] [--json]",
	  .summary = "host, join, leave, choose or forget a session; (admin) the local users who may work in it",
	  .run = ctl_cmd_session,
	  .opts = CTL_OPTS({ "--name N", "host, join: the session's name here, 1 to 64 of A-Z a-z 0-9 . _ - "
				       "(default: session-XXXXXXXX, random; joined-XXXXXXXX from the id)" },
			   { "--no-wait", "join: return once the daemon took the link (default: wait until the host "
					  "admitted us)" },
			   { "--timeout D", "join: how long to wait for the host and the catch-up, e.g. 90, 30s, 5m "
					    "(default: 20s)" },
			   { "--delete", "forget: remove the session's directory, its log too (default: it moves to "
					 "STATE/sessions/forgotten/ID)" },
			   { "--role R", "allow: viewer, editor or admin (default: editor)" }, CTL_OPT_SESSION,
			   CTL_OPT_JSON),
	  .desc = "host: start a session this daemon hosts; 'thetactl invite' then makes links for others. join: "
		  "join a session hosted elsewhere with an invite link (theta://HOST:PORT/SESSION?fp=...&token=...); "
		  "the daemon joins in the background and thetactl waits until the host admitted it and the log "
		  "holds what the host had, saying on a terminal what it is doing (no answer yet, catching up N / M "
		  "entries); a port, host or network the kernel reports unreachable ends a first join at once. leave: leave "
		  "SESSION (default: the current one); on the host this ends the session for good: joins are "
		  "refused and its invites stop working. use: make SESSION the current one, the session local "
		  "clients edit by default (a name, an id or a unique id prefix of 8 hex digits or more; a name two "
		  "sessions share is refused with both ids). forget: take a left or ended session off the list "
		  "(its log stays unless --delete). A name another session has is refused at host and join.\n"
		  "allow, deny, members (root, the admin group or the session's creator): the local users who may "
		  "work in a session; a theta-client of any other user is refused. Root, the daemon's user, the "
		  "admin group and the session's creator are members without being listed." },
	{ .name = "invite",
	  .args = "[SESSION] [--role R] [--expires D|never] [--single-use] [--host H] [--json]\n"
		  "list [SESSION] [--session S] [--json]\n"
		  "revoke ID [--session S] [--json]",
	  .summary = "an invite link to a session this daemon hosts; list or revoke the invites it issued",
	  .run = ctl_cmd_invite,
	  .opts = CTL_OPTS({ "--role R", "the role the link grants: viewer, editor or admin (default: editor)" },
			   { "--expires D", "the link expires after D, e.g. 3600, 30m, 12h, 7d, or never (default: "
					    "24h)" },
			   { "--single-use", "the link admits one daemon only (default: reusable)" },
			   { "--host H", "the host name or address the link names (default: this machine's first "
					 "non-loopback IPv4 address)" },
			   CTL_OPT_SESSION, CTL_OPT_JSON),
	  .desc = "Prints a signed invite link theta://HOST:PORT/SESSION?fp=...&token=... to SESSION (default: the "
		  "current one) with its role, expiry and reuse on the next line and, when the web endpoint is on "
		  "([web] listen), a line for browsers. list: the invites this daemon issued (id, role, expiry, "
		  "uses, state: active, used, expired, revoked, ended). revoke ID (8 to 32 hex digits of the id "
		  "list shows): joins with that invite are refused from now on; daemons that joined with it stay "
		  "members (kick removes one)." },
	{ .name = "peers", .args = "[--session S] [--wide] [--json]",
	  .summary = "connected daemons, a block each: key, address, role, state, RTT, jitter, loss, bytes per "
		     "stream (--wide: one line each)",
	  .run = ctl_cmd_peers,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, { "--wide", "one line per peer, as a wide table (default: a block "
							 "per peer)" },
			   CTL_OPT_JSON),
	  .desc = "A block per daemon this one is connected with, and on a member the session's other members as "
		  "its host announced them. A joined session whose link to its host is down says why on stderr." },
	{ .name = "kick", .args = "PEER [--json]", .summary = "(admin) remove a member from a session this daemon hosts",
	  .run = ctl_cmd_kick, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "PEER is the member's id or key fingerprint as 'thetactl peers' shows it. On a member daemon with "
		  "the admin role the request goes to the host and thetactl waits for its answer (15 s)." },
	{ .name = "role", .args = "PEER ROLE [--json]", .summary = "(admin) change a member's role",
	  .run = ctl_cmd_role, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "ROLE is viewer, editor or admin; PEER as for kick. On a member daemon the request goes to the "
		  "host, as for kick." },
	{ .name = "mute", .args = "WHO [--session S] [--json]",
	  .summary = "(admin) silence a speaker (name or key fingerprint) or every speaker of a member PEER for the "
		     "whole session",
	  .run = ctl_cmd_mute, .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_JSON),
	  .desc = "WHO is a speaker's name as 'thetactl voice' shows it, a key fingerprint, or a member PEER (all "
		  "its speakers). The host stops relaying the speaker to everyone; on a member daemon the request "
		  "goes to the host." },
	{ .name = "unmute", .args = "WHO [--session S] [--json]",
	  .summary = "(admin) let a muted speaker or member be heard again", .run = ctl_cmd_unmute,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_JSON), .desc = "WHO as for mute." },
	{ .name = "impair", .args = "SPEC|off [--json]\n--partition on|off [--json]",
	  .summary = "(admin) rehearse a bad network: loss, delay, jitter, partitions", .run = ctl_cmd_impair,
	  .opts = CTL_OPTS({ "--partition on|off", "drop every session datagram both ways, or stop doing so" },
			   CTL_OPT_JSON),
	  .desc = "SPEC is a comma list such as loss=10%,delay=50ms,jitter=10ms,reorder=0.05,dup=0.01,"
		  "partition=2s-4s applied to this daemon's session datagrams both ways; 'off' removes it. A SPEC "
		  "the daemon cannot read is a usage error (exit 2)." },
	{ .name = "assets", .args = "[--session S] [--json]",
	  .summary = "a session's assets: hash, name, size, complete / partial N% / missing", .run = ctl_cmd_assets,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_JSON),
	  .desc = "One row per asset of the session: the start of its hash, its name, size and whether this daemon "
		  "holds all of it." },
	{ .name = "asset",
	  .args = "put FILE [--session S] [--name N] [--stream] [--json]\n"
		  "get HASH OUT|- [--session S] [--force] [--stream] [--json]",
	  .summary = "share a file with a session (the daemon reads the file you opened) or copy one out",
	  .run = ctl_cmd_asset,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, { "--name N", "put: the asset's name (default: FILE's base name)" },
			   { "--force", "get: replace OUT when it exists (default: refuse)" },
			   { "--stream", "send the bytes base64 through the control socket instead of passing the file "
					 "(what a daemon without asset_put_fd needs; default: pass the file)" },
			   CTL_OPT_JSON),
	  .desc = "put: share FILE (1 byte to 256 MiB) with the session. thetactl opens FILE with your rights and "
		  "passes the open file to the daemon, which reads, hashes and stores it; it never opens a path you "
		  "name. get: copy the asset HASH (its SHA-256, or a prefix of 8 or more hex digits) to OUT ('-': "
		  "stdout), checked against its hash, through a temporary file beside OUT renamed into place; an "
		  "existing OUT only with --force. On a terminal a progress line shows bytes, rate and time left." },
	{ .name = "log",
	  .args = "[--session S] [--since POS] [--max N] [--follow] [--json]\n"
		  "verify [--at N] [--refusals] [--host-key HEX] [--window N] [--quiet] [--json] PATH",
	  .summary = "the command log by position, page by page or followed; verify (offline) also rebuilds the "
		     "scene, --at N as it stood at position N",
	  .run = ctl_cmd_log,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, { "--since POS", "start at log position POS (default: 0, the first)" },
			   { "--max N", "list at most N entries per page (default: 1000)" },
			   { "-f, --follow", "keep printing entries as they arrive, until Ctrl-C" },
			   { "--at N", "verify: fold only positions 0 to N-1 (default: the whole log)" },
			   { "--refusals", "verify: list every entry the fold refused, with its reason" },
			   CTL_OPT_HOST_KEY, CTL_OPT_WINDOW,
			   { "-q, --quiet", "verify: print nothing when the log is sound" }, CTL_OPT_JSON),
	  .desc = "The session's command log in this daemon's append order: each entry has a position (0 for the "
		  "first, never changing). A page that does not reach the end says on stderr how to get the next "
		  "one.\n"
		  "verify PATH (no daemon): checks every checksum, signature, chain link and order of a log "
		  "directory or segment (or a session directory's log/), then rebuilds the scene from the verified "
		  "entries and prints its world hash and counts; a bad record is one line naming it, exit 1, and "
		  "anything that is not a log is refused with a sentence. On a terminal a progress line shows." },
	{ .name = "scene",
	  .args = "[--session S] [--json]\ndiff A B [--session S | LOGFILE] [--host-key HEX] [--window N] [--json]",
	  .summary = "the session's folded scene: counts, world hash, log position, checkpoint; diff rebuilds two "
		     "positions offline",
	  .run = ctl_cmd_scene, .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_HOST_KEY, CTL_OPT_WINDOW, CTL_OPT_JSON),
	  .desc = "The scene as the daemon folds it: entities, meshes, faces, vertices, edges, materials, world "
		  "hash, log position and the newest checkpoint.\n"
		  "diff A B: rebuilds the scene offline at log positions A and B and lists what changed: entities "
		  "created, destroyed or changed (which components), meshes with their vertex and face counts, "
		  "materials. The log is LOGFILE (a log directory or segment), else that of the session, read from "
		  "the daemon's state directory (needs read access)." },
	{ .name = "export", .args = "[--session S] [--at N] [--json] FILE.glb|FILE.gltf|FILE.obj",
	  .summary = "the session's scene as glTF 2.0 or OBJ + MTL (FILE.mtl beside), as it stands or as of log "
		     "position N, with who made each face",
	  .run = ctl_cmd_export,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, { "--at N", "the scene as it stood at log position N (default: as it "
							 "stands)" },
			   CTL_OPT_JSON),
	  .desc = "The format follows FILE's extension. thetactl opens FILE as you (a temporary file beside it, "
		  "renamed once the daemon is done) and passes it to the daemon, which never opens a path itself. "
		  "The default --timeout is 600 s here. See docs/export.md." },
	{ .name = "import",
	  .args = "FILE.glb|FILE.gltf|FILE.obj [--session S] [--mtl FILE] [--material-base N] [--dry-run] [--no-wait] "
		  "[--json]",
	  .summary = "a model file as your signed commands: materials, one mesh.create per object and mesh.patch "
		     "batches; a bad file changes nothing",
	  .run = ctl_cmd_import,
	  .opts = CTL_OPTS(CTL_OPT_SESSION,
			   { "--mtl FILE", "an OBJ's materials (default: the mtllib beside it)" },
			   { "--material-base N", "the first material table index to use (default: 1)" },
			   { "--dry-run", "read, check and plan the file; submit nothing" },
			   { "--no-wait", "submit and return (default: wait up to 60 s for the scene to fold it)" },
			   CTL_OPT_JSON),
	  .desc = "The whole file is read, checked and tried on scratch meshes before anything is submitted: a bad "
		  "file is one sentence naming what and where, and changes nothing. See docs/import.md." },
	{ .name = "undo", .args = "ENTRY [--session S] [--as-host] [--no-wait] [--json]",
	  .summary = "undo an entry (LAMPORT[:AUTHOR] as log lists it), signed as you; prints what the scene made of "
		     "it",
	  .run = ctl_cmd_undo, .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_AS_HOST, CTL_OPT_NO_WAIT_ENTRY, CTL_OPT_JSON),
	  .desc = "ENTRY is LAMPORT[:AUTHOR] as 'thetactl log' lists entries (AUTHOR: a fingerprint or a prefix of at "
		  "least 4 characters); LAMPORT alone when only one entry has it. Its author may undo their own "
		  "entry, a session admin anyone's; a refused undo prints the fold's reason, exit 1." },
	{ .name = "redo", .args = "ENTRY [--session S] [--as-host] [--no-wait] [--json]",
	  .summary = "revoke an undo entry, signed as you", .run = ctl_cmd_redo,
	  .opts = CTL_OPTS(CTL_OPT_SESSION, CTL_OPT_AS_HOST, CTL_OPT_NO_WAIT_ENTRY, CTL_OPT_JSON),
	  .desc = "ENTRY names the undo entry (undo prints it), as for undo." },
	{ .name = "voice", .args = "[--json]",
	  .summary = "voice: settings, and per speaker packets, bytes, bitrate, loss, late, concealed and "
		     "FEC-recovered frames, jitter buffer, speaking, muted",
	  .run = ctl_cmd_voice, .opts = CTL_OPTS(CTL_OPT_JSON), .desc = "See docs/voice.md, \"thetactl voice\"." },
	{ .name = "presence", .args = "[--json]",
	  .summary = "presence between daemons: per session users, receivers, frame rates, updates filtered by "
		     "interest, bytes per pose, voices culled",
	  .run = ctl_cmd_presence, .opts = CTL_OPTS(CTL_OPT_JSON),
	  .desc = "The [presence] settings, then one row per session this daemon hosts or has joined: its role, "
		  "users (local + others), receivers (members, on the host) or whether the link to the host is up, "
		  "frames a second out and in, the share of updates for far or culled users never sent, bytes per "
		  "pose sent, and voices culled of those asked about. See docs/presence.md, \"In the daemon\"." },
	{ .name = "web", .args = "[--json]",
	  .summary = "the web endpoint for browsers: where it listens, the links' URL base, per browser its name, "
		     "session, role, state, address, bytes, age",
	  .run = ctl_cmd_web, .opts = CTL_OPTS(CTL_OPT_JSON), .desc = "See docs/web.md, \"The web endpoint\"." },
	{ .name = "version", .args = "[--json]", .summary = "thetactl's version", .run = ctl_cmd_version,
	  .opts = CTL_OPTS(CTL_OPT_JSON), .desc = "Prints thetactl's version (the daemon's: thetactl status)." },
	{ .name = "help", .args = "[COMMAND [FORM]] [--json]", .summary = "this list, or a command's help",
	  .run = ctl_cmd_help, .opts = CTL_OPTS({ "--json", "the command table as JSON (names, synopses, options)" }),
	  .desc = "Without COMMAND lists every command; with one prints its synopsis, options and their defaults "
		  "(as 'thetactl COMMAND --help' does); with a FORM (help session join) only that form's synopsis "
		  "(as 'thetactl session join --help')." },
	{ .name = "__complete", .args = "commands | options CMD | subcommands CMD | sessions | peers [SESSION] | roles",
	  .summary = "the words bash completion offers (cmd_complete.c)", .run = ctl_cmd_complete,
	  .desc = "Used by scripts/thetactl.bash-completion; one word per line, always exit 0.",
	  .flags = CTL_CMD_HIDDEN },
	{ 0 },
};
