/* thetactl asset put|get, assets: a session's assets (docs/network.md
 * "Assets", docs/operator.md "Assets").
 *
 * `asset put FILE` opens FILE with the caller's rights and passes the open
 * file to the daemon with the request (asset_put_fd, SCM_RIGHTS over
 * control.sock): the daemon runs as its own user and never opens a path a
 * caller names; it reads the file on a thread of its own, hashes it and
 * stores it under its SHA-256. `asset get HASH OUT` creates a temporary
 * file beside OUT and passes it (asset_get_fd); the daemon writes the
 * asset into it, checking its hash, and thetactl renames it into place,
 * over an existing OUT only with --force. Both watch the
 * passed file's offset (shared with the daemon's copy) to draw a progress
 * line on a terminal.
 *
 * The older way moves the bytes base64 in JSON on the connection itself
 * (asset_begin / asset_chunk / asset_end with resume, asset_read): used
 * for `asset get HASH -` into a pipe, with a daemon that does not know the
 * fd commands, and with --stream (a benchmark's baseline). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "progress.h"
#include "session.h"
#include "th_fdpass.h"
#include "th_hex.h"
#include "th_time.h"

#define CTL_ASSET_CHUNK    (44u * 1024)     /* raw bytes per asset_chunk: base64 stays under 64 KiB */
#define CTL_ASSET_READ     (512u * 1024)    /* bytes per asset_read */
#define CTL_ASSET_POLL_MS  100              /* how often the progress line is redrawn while the daemon copies */
/* The daemon moved no byte of a copy for this long (unless --timeout
 * says): it is stuck. A sync of a large file at the end may take a while. */
#define CTL_ASSET_SILENCE_S 120u
#define CTL_ASSET_ERR_LEN   1024u
#define CTL_ASSET_PREFIX_MIN 8u             /* hex digits of the shortest hash prefix taken */

static volatile sig_atomic_t ctl_asset_stop;

static void ctl_asset_on_signal(int sig)
{
	ctl_asset_stop = 1;
}

/* Ctrl-C while the daemon copies: poll returns, the temporary file goes. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = ctl_asset_on_signal }; /* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int hash_file(int fd, uint64_t size, uint8_t h[32], struct ctl_progress *pr)
{
	crypto_hash_sha256_state st;
	static uint8_t buf[1u << 20];
	uint64_t off = 0;
	crypto_hash_sha256_init(&st);
	while (off < size) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		off += (uint64_t)n;
		ctl_progress_update(pr, off, size, false);
	}
	crypto_hash_sha256_final(&st, h);
	return 0;
}

static struct json_object *base_args(const char *session)
{
	struct json_object *a = json_object_new_object();
	if (session)
		json_object_object_add(a, "session", json_object_new_string(session));
	return a;
}

/* The file's offset, or where it was when it cannot be read. */
static uint64_t offset_of(int fd, uint64_t was)
{
	off_t o = lseek(fd, 0, SEEK_CUR);
	return o < 0 ? was : (uint64_t)o;
}

/* Sends cmd with fd and waits for the answer, drawing progress from fd's
 * offset (the daemon's copy moves it) from start over total bytes. 0 with
 * *res, 1 refused (the daemon's sentence in err, its code in code), -EINTR
 * interrupted, or another negative errno (err says). */
static int ask_with_file(struct ctl_ctx *ctx, int cfd, const char *cmd, struct json_object *args, int fd,
			 uint64_t start, uint64_t total, struct ctl_progress *pr, struct json_object **res,
			 char code[CTL_CODE_LEN], char *err, size_t errlen)
{
	code[0] = 0;
	int r = ctl_send_request(cfd, cmd, args, &fd, 1);
	if (r < 0) {
		snprintf(err, errlen, "lost the connection to thetad during '%s': %s", cmd, strerror(-r));
		return r;
	}
	unsigned silence_s = ctx->timeout_s ? ctx->timeout_s : CTL_ASSET_SILENCE_S;
	uint64_t at = start, moved_ns = th_now_ns();
	for (;;) {
		struct pollfd p = { .fd = cfd, .events = POLLIN };
		int n = poll(&p, 1, CTL_ASSET_POLL_MS);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "cannot wait for thetad: %s", strerror(errno));
			return -errno;
		}
		if (ctl_asset_stop) {
			snprintf(err, errlen, "interrupted");
			return -EINTR;
		}
		uint64_t now = th_now_ns(), o = offset_of(fd, at);
		if (o != at) {
			at = o;
			moved_ns = now;
		}
		ctl_progress_update(pr, at > start ? at - start : 0, total, false);
		if (n > 0)
			break;
		if (now - moved_ns > (uint64_t)silence_s * TH_NS_PER_S) {
			snprintf(err, errlen,
				 "thetad moved no byte of '%s' for %u s; it may be stuck (see journalctl -u thetad) or its "
				 "disk slow (try --timeout)",
				 cmd, silence_s);
			return -ETIMEDOUT;
		}
	}
	return ctl_read_reply(ctx, cfd, cmd, res, code, err, errlen);
}

/* A daemon from before the fd commands answers "unknown command". */
static bool unknown_command(int r, const char *err)
{
	return r == 1 && strstr(err, "unknown command") != NULL;
}

static void print_put(struct ctl_ctx *ctx, struct json_object *res, uint64_t size)
{
	if (ctx->json)
		ctl_print_json(res);
	else
		printf("asset %s (%s, %" PRIu64 " bytes) in session %s: %s\n", ctl_jstr(res, "hash"), ctl_jstr(res, "name"),
		       size, ctl_jstr(res, "session"), ctl_jstr(res, "shared"));
}

/* The bytes through the connection, base64 in JSON: hashed here first,
 * then asset_begin (the daemon says what it has: an interrupted put
 * resumes), asset_chunk after asset_chunk, asset_end. */
static int put_stream(struct ctl_ctx *ctx, const char *session, const char *name, const char *path, int fd,
		      uint64_t size, struct ctl_progress *pr)
{
	uint8_t h[32];
	char hex[65];
	snprintf(pr->what, sizeof(pr->what), "asset put (hashing)");
	if (hash_file(fd, size, h, pr) < 0) {
		ctl_progress_end(pr);
		ctl_eprintf(ctx, "%s: cannot read %s: %s\n", ctx->prog, path, strerror(errno));
		return CTL_EXIT_ERROR;
	}
	th_hex_encode(h, sizeof(h), hex);
	struct json_object *args = base_args(session), *res = NULL;
	json_object_object_add(args, "hash", json_object_new_string(hex));
	json_object_object_add(args, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(args, "name", json_object_new_string(name));
	ctl_progress_end(pr);
	int r = ctl_call(ctx, "asset_begin", args, &res);
	json_object_put(args);
	if (r)
		return r;
	uint64_t off = (uint64_t)ctl_jint(res, "have");
	bool complete = !strcmp(ctl_jstr(res, "state"), "complete");
	json_object_put(res);
	int cfd = ctl_open(ctx);
	if (cfd < 0)
		return CTL_EXIT_ERROR;
	static uint8_t buf[CTL_ASSET_CHUNK];
	static char b64[sodium_base64_ENCODED_LEN(CTL_ASSET_CHUNK, sodium_base64_VARIANT_ORIGINAL)];
	ctl_progress_start(pr, ctx, "asset put", CTL_PROGRESS_BYTES, size);
	while (!complete && off < size && r == 0) {
		size_t want = size - off < CTL_ASSET_CHUNK ? (size_t)(size - off) : CTL_ASSET_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n <= 0) {
			ctl_progress_end(pr);
			ctl_eprintf(ctx, "%s: cannot read %s: %s\n", ctx->prog, path, n < 0 ? strerror(errno) : "it shrank");
			r = CTL_EXIT_ERROR;
			break;
		}
		sodium_bin2base64(b64, sizeof(b64), buf, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
		args = base_args(session);
		json_object_object_add(args, "hash", json_object_new_string(hex));
		json_object_object_add(args, "offset", json_object_new_int64((int64_t)off));
		json_object_object_add(args, "data", json_object_new_string(b64));
		r = ctl_call_on(ctx, cfd, "asset_chunk", args, &res);
		json_object_put(args);
		if (r == 0) {
			uint64_t have = (uint64_t)ctl_jint(res, "have");
			json_object_put(res);
			if (have <= off) {
				ctl_progress_end(pr);
				ctl_eprintf(ctx, "%s: the daemon took no bytes at offset %" PRIu64 "\n", ctx->prog, off);
				r = CTL_EXIT_ERROR;
			}
			off = have;
			ctl_progress_update(pr, off, size, false);
		}
	}
	ctl_progress_end(pr);
	if (r == 0) {
		args = base_args(session);
		json_object_object_add(args, "hash", json_object_new_string(hex));
		r = ctl_call_on(ctx, cfd, "asset_end", args, &res);
		json_object_put(args);
	}
	close(cfd);
	if (r)
		return r;
	print_put(ctx, res, size);
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int asset_put(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' },
					      { "name", required_argument, NULL, 'n' },
					      { "stream", no_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *session = NULL, *name = NULL;
	bool stream = false;
	int c;
	optind = 0; /* a full reset: options may follow FILE */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'S')
			session = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 's')
			stream = true;
		else if (c == 'j')
			ctx->json = true;
		else
			return ctl_option_error(ctx, "asset put", argv);
	}
	if (optind + 1 != argc)
		return ctl_usage_error(ctx, "asset put", "give one FILE");
	const char *path = argv[optind];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ctl_eprintf(ctx, "%s: cannot read %s: %s\n", ctx->prog, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CTL_EXIT_ERROR;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (!S_ISREG(sb.st_mode) || size < 1 || size > PROTO_SESS_ASSET_MAX_SIZE) {
		ctl_eprintf(ctx, "%s: %s is not a regular file of 1 byte to 256 MiB\n", ctx->prog, path);
		close(fd);
		return CTL_EXIT_ERROR;
	}
	char base[PATH_MAX];
	snprintf(base, sizeof(base), "%s", path);
	if (!name)
		name = basename(base);
	if (!proto_sess_asset_name_ok((const uint8_t *)name, strlen(name))) {
		close(fd);
		return ctl_usage_error(ctx, "asset put", "a name has 1 to 255 bytes and no control characters (--name)");
	}
	struct ctl_progress pr;
	ctl_progress_start(&pr, ctx, "asset put", CTL_PROGRESS_BYTES, size);
	int r;
	if (stream) {
		r = put_stream(ctx, session, name, path, fd, size, &pr);
		close(fd);
		return r;
	}
	int cfd = ctl_open(ctx);
	if (cfd < 0) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	catch_signals();
	struct json_object *args = base_args(session), *res = NULL;
	json_object_object_add(args, "name", json_object_new_string(name));
	char code[CTL_CODE_LEN], err[CTL_ASSET_ERR_LEN];
	r = ask_with_file(ctx, cfd, "asset_put_fd", args, fd, 0, size, &pr, &res, code, err, sizeof(err));
	json_object_put(args);
	close(cfd);
	ctl_progress_end(&pr);
	if (unknown_command(r, err)) {
		r = put_stream(ctx, session, name, path, fd, size, &pr);
		close(fd);
		return r;
	}
	close(fd);
	if (r == -EINTR) {
		ctl_eprintf(ctx, "%s: interrupted; the daemon may still store what it read\n", ctx->prog);
		return CTL_EXIT_ERROR;
	}
	if (r)
		return ctl_error(ctx, r == 1 && code[0] ? code : ctl_errno_code(r), "%s", err);
	print_put(ctx, res, (uint64_t)ctl_jint(res, "size"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

/* The output file: a temporary one beside OUT (mode 0666 less the umask,
 * as open(2) would give), renamed to OUT once every byte is in; over a
 * file that exists only with --force. */
struct ctl_asset_out {
	const char *path;
	char tmp[PATH_MAX];
	int fd;
	bool force;
};

static int out_open(struct ctl_asset_out *o)
{
	if (snprintf(o->tmp, sizeof(o->tmp), "%s.part-XXXXXX", o->path) >= (int)sizeof(o->tmp))
		return -ENAMETOOLONG;
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		o->tmp[0] = 0;
		return -errno;
	}
	mode_t um = umask(0);
	umask(um);
	if (fchmod(o->fd, 0666 & ~um) < 0) {
		int r = -errno;
		close(o->fd);
		unlink(o->tmp);
		o->fd = -1;
		o->tmp[0] = 0;
		return r;
	}
	return 0;
}

/* Renames into place: 0, -EEXIST (OUT appeared and no --force) or
 * -errno. The temporary file is gone either way. Not synced, as cp(1)
 * does not: the asset stays in the daemon's store. */
static int out_commit(struct ctl_asset_out *o)
{
	int r = 0;
	if (close(o->fd) < 0)
		r = -errno;
	o->fd = -1;
	if (r == 0 && o->force) {
		if (rename(o->tmp, o->path) < 0)
			r = -errno;
	} else if (r == 0) {
		if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) < 0) {
			r = -errno;
			/* A file system without RENAME_NOREPLACE: link(2) refuses an existing name too. */
			if ((r == -EINVAL || r == -ENOSYS) && (r = link(o->tmp, o->path) < 0 ? -errno : 0) == 0)
				unlink(o->tmp);
		}
	}
	if (r < 0)
		unlink(o->tmp);
	o->tmp[0] = 0;
	return r;
}

static void out_drop(struct ctl_asset_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = 0;
}

/* asset_read from offset 0 to the end into ofd, base64 in JSON, hashing:
 * the older way, and the one into a pipe. full[65] and size are the
 * asset's (from the first read, done by the caller: first). */
static int get_stream(struct ctl_ctx *ctx, const char *session, const char *full, uint64_t size, int ofd,
		      const char *oname, struct ctl_progress *pr)
{
	int cfd = ctl_open(ctx), r = CTL_EXIT_OK;
	if (cfd < 0)
		return CTL_EXIT_ERROR;
	uint64_t off = 0;
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	while (off < size) {
		struct json_object *args = base_args(session), *res = NULL;
		json_object_object_add(args, "hash", json_object_new_string(full));
		json_object_object_add(args, "offset", json_object_new_int64((int64_t)off));
		json_object_object_add(args, "len", json_object_new_int64(CTL_ASSET_READ));
		r = ctl_call_on(ctx, cfd, "asset_read", args, &res);
		json_object_put(args);
		if (r)
			break;
		const char *b64 = ctl_jstr(res, "data");
		size_t blen = strlen(b64), n = 0;
		uint8_t *bin = malloc(blen / 4 * 3 + 3);
		if (!bin || sodium_base642bin(bin, blen / 4 * 3 + 3, b64, blen, NULL, &n, NULL,
					      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    n == 0) {
			ctl_progress_end(pr);
			ctl_eprintf(ctx, "%s: the daemon sent bad data at offset %" PRIu64 "\n", ctx->prog, off);
			free(bin);
			json_object_put(res);
			r = CTL_EXIT_ERROR;
			break;
		}
		json_object_put(res);
		crypto_hash_sha256_update(&st, bin, n);
		for (size_t done = 0; done < n;) {
			ssize_t w = write(ofd, bin + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				ctl_progress_end(pr);
				ctl_eprintf(ctx, "%s: cannot write %s: %s\n", ctx->prog, oname, strerror(errno));
				r = CTL_EXIT_ERROR;
				break;
			}
			done += (size_t)w;
		}
		free(bin);
		off += n;
		ctl_progress_update(pr, off, size, false);
		if (r || ctl_asset_stop)
			break;
	}
	close(cfd);
	ctl_progress_end(pr);
	if (r == 0 && ctl_asset_stop) {
		ctl_eprintf(ctx, "%s: interrupted\n", ctx->prog);
		return CTL_EXIT_ERROR;
	}
	if (r == 0) {
		uint8_t h[32];
		char hex[65];
		crypto_hash_sha256_final(&st, h);
		th_hex_encode(h, sizeof(h), hex);
		if (strcmp(hex, full)) {
			ctl_eprintf(ctx, "%s: the bytes read do not match asset %s\n", ctx->prog, full);
			r = CTL_EXIT_ERROR;
		}
	}
	return r;
}

static int asset_get(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' },
					      { "force", no_argument, NULL, 'f' },
					      { "stream", no_argument, NULL, 's' },
					      { "json", no_argument, NULL, 'j' }, { 0 } };
	const char *session = NULL;
	bool stream = false;
	struct ctl_asset_out o = { .fd = -1 };
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'S')
			session = optarg;
		else if (c == 'f')
			o.force = true;
		else if (c == 's')
			stream = true;
		else if (c == 'j')
			ctx->json = true;
		else
			return ctl_option_error(ctx, "asset get", argv);
	}
	if (optind + 2 != argc)
		return ctl_usage_error(ctx, "asset get", "give a HASH (or a prefix of 8+ digits) and an OUT file ('-': stdout)");
	const char *hash = argv[optind];
	o.path = argv[optind + 1];
	size_t hl = strlen(hash);
	bool hex = hl >= CTL_ASSET_PREFIX_MIN && hl <= 64;
	for (size_t i = 0; hex && i < hl; i++)
		hex = th_hex_digit(hash[i]) >= 0;
	if (!hex)
		return ctl_usage_error(ctx, "asset get", "'%s' is not an asset's hash (64 hex digits, or a prefix of %u or more)",
				       hash, CTL_ASSET_PREFIX_MIN);
	bool to_stdout = !strcmp(o.path, "-");
	struct stat sb;
	if (!to_stdout && !o.force && lstat(o.path, &sb) == 0) {
		ctl_eprintf(ctx, "%s: %s exists; pass --force to replace it\n", ctx->prog, o.path);
		return CTL_EXIT_ERROR;
	}
	/* The asset's full hash and size first (and the daemon's sentence
	 * when there is no such asset, or not all of it yet). */
	struct json_object *args = base_args(session), *res = NULL;
	json_object_object_add(args, "hash", json_object_new_string(hash));
	json_object_object_add(args, "offset", json_object_new_int64(0));
	json_object_object_add(args, "len", json_object_new_int64(1));
	int r = ctl_call(ctx, "asset_read", args, &res);
	json_object_put(args);
	if (r)
		return r;
	char full[65], name[300];
	snprintf(full, sizeof(full), "%s", ctl_jstr(res, "hash"));
	snprintf(name, sizeof(name), "%s", ctl_jstr(res, "name"));
	uint64_t size = (uint64_t)ctl_jint(res, "size");
	json_object_put(res);

	int ofd = STDOUT_FILENO;
	if (!to_stdout) {
		if ((r = out_open(&o)) < 0) {
			ctl_eprintf(ctx, "%s: cannot create a file beside %s: %s\n", ctx->prog, o.path, strerror(-r));
			return CTL_EXIT_ERROR;
		}
		ofd = o.fd;
	} else {
		/* Only a regular file that is not appended to takes the copy. */
		int fl = fcntl(STDOUT_FILENO, F_GETFL);
		if (th_fd_kind(STDOUT_FILENO) != TH_FD_REGULAR || fl < 0 || (fl & O_APPEND))
			stream = true;
	}
	struct ctl_progress pr;
	ctl_progress_start(&pr, ctx, "asset get", CTL_PROGRESS_BYTES, size);
	catch_signals();
	if (!stream) {
		int cfd = ctl_open(ctx);
		if (cfd < 0) {
			out_drop(&o);
			return CTL_EXIT_ERROR;
		}
		char code[CTL_CODE_LEN], err[CTL_ASSET_ERR_LEN];
		uint64_t start = offset_of(ofd, 0);
		args = base_args(session);
		json_object_object_add(args, "hash", json_object_new_string(full));
		r = ask_with_file(ctx, cfd, "asset_get_fd", args, ofd, start, size, &pr, &res, code, err, sizeof(err));
		json_object_put(args);
		close(cfd);
		ctl_progress_end(&pr);
		if (unknown_command(r, err)) {
			stream = true;
			if (ofd != STDOUT_FILENO && (ftruncate(ofd, 0) < 0 || lseek(ofd, 0, SEEK_SET) < 0)) {
				ctl_eprintf(ctx, "%s: cannot write %s: %s\n", ctx->prog, o.tmp, strerror(errno));
				out_drop(&o);
				return CTL_EXIT_ERROR;
			}
		} else if (r) {
			out_drop(&o);
			return ctl_error(ctx, r == 1 && code[0] ? code : ctl_errno_code(r), "%s%s", err,
					 r == -EINTR ? "; nothing was written" : "");
		} else {
			json_object_put(res);
		}
	}
	if (stream && (r = get_stream(ctx, session, full, size, ofd, to_stdout ? "stdout" : o.tmp, &pr)) != 0) {
		out_drop(&o);
		return r;
	}
	if (!to_stdout) {
		r = out_commit(&o);
		if (r == -EEXIST) {
			ctl_eprintf(ctx, "%s: %s appeared meanwhile; nothing was replaced (pass --force to replace it)\n",
				ctx->prog, o.path);
			return CTL_EXIT_ERROR;
		}
		if (r < 0) {
			ctl_eprintf(ctx, "%s: cannot write %s: %s\n", ctx->prog, o.path, strerror(-r));
			return CTL_EXIT_ERROR;
		}
	}
	if (ctx->json && !to_stdout) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "hash", json_object_new_string(full));
		json_object_object_add(j, "name", json_object_new_string(name));
		json_object_object_add(j, "size", json_object_new_uint64(size));
		json_object_object_add(j, "path", json_object_new_string(o.path));
		ctl_print_json(j);
		json_object_put(j);
	} else if (!to_stdout) {
		fprintf(stderr, "asset %s: %" PRIu64 " bytes written to %s\n", full, size, o.path);
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_asset(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error(ctx, "asset", "say put or get");
	if (!strcmp(argv[1], "put"))
		return asset_put(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "get"))
		return asset_get(ctx, argc - 1, argv + 1);
	return ctl_usage_error(ctx, "asset", "unknown subcommand '%s' (put, get)", argv[1]);
}

int ctl_cmd_assets(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res, *arr;
	int r = ctl_query_session(ctx, "assets", argc, argv, &res);
	if (r || !res)
		return r;
	static const char *const hdr[] = { "HASH", "NAME", "SIZE", "STATE" };
	struct ctl_table *t = ctl_table_new(4, hdr);
	if (json_object_object_get_ex(res, "assets", &arr)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *a = json_object_array_get_idx(arr, k);
			char hash[20], size[32], state[48];
			snprintf(hash, sizeof(hash), "%.16s", ctl_jstr(a, "hash"));
			ctl_format_bytes((uint64_t)ctl_jint(a, "size"), size, sizeof(size));
			uint64_t have = (uint64_t)ctl_jint(a, "have"), total = (uint64_t)ctl_jint(a, "size");
			if (!strcmp(ctl_jstr(a, "state"), "partial") && total)
				snprintf(state, sizeof(state), "partial %d%%", (int)(100.0 * (double)have / (double)total));
			else
				snprintf(state, sizeof(state), "%s", ctl_jstr(a, "state"));
			const char *row[] = { hash, ctl_jstr(a, "name"), size, state };
			ctl_table_row(t, row);
		}
	}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}
