/* thetactl asset put|get, assets: a session's assets (docs/network.md
 * "Assets", docs/operator.md "Assets").
 *
 * `asset put` reads the file itself, with the caller's rights, and streams
 * it to the daemon in base64 chunks (asset_begin / asset_chunk / asset_end)
 * on one control connection: the daemon runs as its own user and never
 * opens a path a caller names. The daemon answers asset_begin with the bytes
 * it already has, so an interrupted put resumes. `asset get` copies an
 * asset out (asset_read) into a temporary file next to OUT, checks its
 * SHA-256 and renames it into place. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "session.h"
#include "th_hex.h"

#define CTL_ASSET_CHUNK    (44u * 1024)     /* raw bytes per asset_chunk: base64 stays under 64 KiB */
#define CTL_ASSET_READ     (512u * 1024)    /* bytes per asset_read */

static int hash_file(int fd, uint64_t size, uint8_t h[32])
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

static int asset_put(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *session, *name;
	int first = ctl_parse_session_opts(ctx, "asset put", argc, argv, "name", &session, &name);
	if (first < 0)
		return CTL_EXIT_USAGE;
	if (first + 1 != argc)
		return ctl_usage_error(ctx, "asset put", "give one FILE");
	const char *path = argv[first];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "%s: cannot read %s: %s\n", ctx->prog, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CTL_EXIT_ERROR;
	}
	uint64_t size = (uint64_t)sb.st_size;
	if (!S_ISREG(sb.st_mode) || size < 1 || size > PROTO_SESS_ASSET_MAX_SIZE) {
		fprintf(stderr, "%s: %s is not a regular file of 1 byte to 256 MiB\n", ctx->prog, path);
		close(fd);
		return CTL_EXIT_ERROR;
	}
	char base[4096];
	snprintf(base, sizeof(base), "%s", path);
	if (!name)
		name = basename(base);
	if (!proto_sess_asset_name_ok((const uint8_t *)name, strlen(name))) {
		close(fd);
		return ctl_usage_error(ctx, "asset put", "a name has 1 to 255 bytes and no control characters (--name)");
	}
	uint8_t h[32];
	char hex[65];
	if (hash_file(fd, size, h) < 0) {
		fprintf(stderr, "%s: cannot read %s: %s\n", ctx->prog, path, strerror(errno));
		close(fd);
		return CTL_EXIT_ERROR;
	}
	th_hex_encode(h, sizeof(h), hex);

	struct json_object *args = base_args(session), *res = NULL;
	json_object_object_add(args, "hash", json_object_new_string(hex));
	json_object_object_add(args, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(args, "name", json_object_new_string(name));
	int r = ctl_call(ctx, "asset_begin", args, &res);
	json_object_put(args);
	if (r) {
		close(fd);
		return r;
	}
	uint64_t off = (uint64_t)ctl_jint(res, "have");
	bool complete = !strcmp(ctl_jstr(res, "state"), "complete");
	json_object_put(res);
	int cfd = ctl_open(ctx);
	if (cfd < 0) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	static uint8_t buf[CTL_ASSET_CHUNK];
	static char b64[sodium_base64_ENCODED_LEN(CTL_ASSET_CHUNK, sodium_base64_VARIANT_ORIGINAL)];
	while (!complete && off < size && r == 0) {
		size_t want = size - off < CTL_ASSET_CHUNK ? (size_t)(size - off) : CTL_ASSET_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n <= 0) {
			fprintf(stderr, "%s: cannot read %s: %s\n", ctx->prog, path, n < 0 ? strerror(errno) : "it shrank");
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
				fprintf(stderr, "%s: the daemon took no bytes at offset %" PRIu64 "\n", ctx->prog, off);
				r = CTL_EXIT_ERROR;
			}
			off = have;
		}
	}
	close(fd);
	if (r == 0) {
		args = base_args(session);
		json_object_object_add(args, "hash", json_object_new_string(hex));
		r = ctl_call_on(ctx, cfd, "asset_end", args, &res);
		json_object_put(args);
	}
	close(cfd);
	if (r)
		return r;
	if (ctx->json)
		ctl_print_json(res);
	else
		printf("asset %s (%s, %" PRIu64 " bytes) in session %s: %s\n", hex, ctl_jstr(res, "name"), size,
		       ctl_jstr(res, "session"), ctl_jstr(res, "shared"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

static int asset_get(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' }, { 0 } };
	const char *session = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'S')
			session = optarg;
		else
			return ctl_option_error(ctx, "asset get", argv);
	}
	if (optind + 2 != argc)
		return ctl_usage_error(ctx, "asset get", "give a HASH (or a prefix of 8+ digits) and an OUT file ('-': stdout)");
	const char *hash = argv[optind], *out = argv[optind + 1];
	bool to_stdout = !strcmp(out, "-");
	int cfd = -1, ofd = -1, r = CTL_EXIT_OK;
	char tmp[4200] = "";
	uint64_t off = 0, size = 0;
	char full[65] = "";
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	for (;;) {
		struct json_object *args = base_args(session), *res = NULL;
		json_object_object_add(args, "hash", json_object_new_string(full[0] ? full : hash));
		json_object_object_add(args, "offset", json_object_new_int64((int64_t)off));
		json_object_object_add(args, "len", json_object_new_int64(CTL_ASSET_READ));
		if (cfd < 0) {
			r = ctl_call(ctx, "asset_read", args, &res); /* the first: the usual messages */
			if (r == 0 && (cfd = ctl_open(ctx)) < 0)
				r = CTL_EXIT_ERROR;
		} else {
			r = ctl_call_on(ctx, cfd, "asset_read", args, &res);
		}
		json_object_put(args);
		if (r)
			break;
		if (!full[0]) {
			snprintf(full, sizeof(full), "%s", ctl_jstr(res, "hash"));
			size = (uint64_t)ctl_jint(res, "size");
			if (to_stdout) {
				ofd = STDOUT_FILENO;
			} else {
				snprintf(tmp, sizeof(tmp), "%s.part-XXXXXX", out);
				ofd = mkostemp(tmp, O_CLOEXEC);
				if (ofd < 0) {
					fprintf(stderr, "%s: cannot create %s: %s\n", ctx->prog, tmp, strerror(errno));
					tmp[0] = 0;
					json_object_put(res);
					r = CTL_EXIT_ERROR;
					break;
				}
			}
		}
		const char *b64 = ctl_jstr(res, "data");
		size_t blen = strlen(b64), n = 0;
		uint8_t *bin = malloc(blen / 4 * 3 + 3);
		if (!bin || sodium_base642bin(bin, blen / 4 * 3 + 3, b64, blen, NULL, &n, NULL,
					      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    (n == 0 && off < size)) {
			fprintf(stderr, "%s: the daemon sent bad data at offset %" PRIu64 "\n", ctx->prog, off);
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
				fprintf(stderr, "%s: cannot write %s: %s\n", ctx->prog, to_stdout ? "stdout" : tmp,
					strerror(errno));
				r = CTL_EXIT_ERROR;
				break;
			}
			done += (size_t)w;
		}
		free(bin);
		off += n;
		if (r || off >= size)
			break;
	}
	if (cfd >= 0)
		close(cfd);
	if (r == 0) {
		uint8_t h[32];
		char hex[65];
		crypto_hash_sha256_final(&st, h);
		th_hex_encode(h, sizeof(h), hex);
		if (strcmp(hex, full)) {
			fprintf(stderr, "%s: the bytes read do not match asset %s\n", ctx->prog, full);
			r = CTL_EXIT_ERROR;
		}
	}
	if (!to_stdout && ofd >= 0) {
		if (r == 0 && (fsync(ofd) < 0 || close(ofd) < 0 || rename(tmp, out) < 0)) {
			fprintf(stderr, "%s: cannot write %s: %s\n", ctx->prog, out, strerror(errno));
			r = CTL_EXIT_ERROR;
		} else if (r) {
			close(ofd);
		}
		if (r)
			unlink(tmp);
	}
	if (r == 0 && !to_stdout)
		fprintf(stderr, "asset %s: %" PRIu64 " bytes written to %s\n", full, size, out);
	return r;
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
