/* Export benchmark (make bench-mesh): a scene of 1 M triangles (strips of
 * quads by one author, tests/lib/th_exportscene.h's xs_big_strips, folded
 * by th_scene_apply), exported with th_export_scene into a file, beside a
 * baseline measured in the same run: write(2) of the same bytes, from
 * memory, in chunks of the exporter's buffer size, into a file in the same
 * directory. Prints JSON lines, per format (glb, gltf, obj):
 *   mesh.export.FMT_mb_per_s           bytes of the file / export time
 *   mesh.export.baseline.FMT_write_mb_per_s  the same bytes by write(2)
 *   mesh.export.FMT_vs_write_ratio     export time / write time
 *   mesh.export.FMT_mb                 the file's size
 * and mesh.export.triangles. Times are the median of RUNS runs. The files go
 * to $THETA_BENCH_DIR (default /tmp). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_bench.h"
#include "th_export.h"
#include "th_exportscene.h"
#include "th_scene.h"
#include "th_time.h"

#define TRIANGLES 1000000u
#define RUNS 5

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_export: %s failed (%s)\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

static int cmp_u64(const void *a, const void *b) { return th_bench_cmp_u64(a, b); }

static int open_out(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path, -errno);
	return fd;
}

static uint64_t median(uint64_t *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_u64);
	return v[RUNS / 2];
}

static void bench_format(const struct th_scene *s, const char *dir, const char *name, enum th_export_format fmt)
{
	char path[4096], base[4096], mtl[4096];
	snprintf(path, sizeof(path), "%s/theta-bench-export.%s", dir, name);
	snprintf(base, sizeof(base), "%s/theta-bench-export-write.%s", dir, name);
	snprintf(mtl, sizeof(mtl), "%s/theta-bench-export.mtl", dir);
	uint64_t t_exp[RUNS], t_wr[RUNS];
	struct th_export_stats st = { 0 };
	struct th_export_config c = { .format = fmt, .session = "bench", .mtl_name = "theta-bench-export.mtl" };
	for (int i = 0; i < RUNS; i++) {
		int fd = open_out(path), mfd = fmt == TH_EXPORT_OBJ ? open_out(mtl) : -1;
		uint64_t t0 = th_now_ns();
		int r = th_export_scene(s, &c, fd, mfd, &st);
		t_exp[i] = th_now_ns() - t0;
		if (r < 0)
			die("th_export_scene", r);
		close(fd);
		if (mfd >= 0)
			close(mfd);
	}
	/* The baseline: the same bytes from memory by write(2). */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, -errno);
	uint8_t *bytes = malloc(st.bytes ? st.bytes : 1);
	if (!bytes || pread(fd, bytes, st.bytes, 0) != (ssize_t)st.bytes)
		die("reading the export back", bytes ? -errno : -ENOMEM);
	close(fd);
	for (int i = 0; i < RUNS; i++) {
		int out = open_out(base);
		uint64_t t0 = th_now_ns();
		for (uint64_t off = 0; off < st.bytes;) {
			size_t n = st.bytes - off < TH_EXPORT_BUF_BYTES ? (size_t)(st.bytes - off) : TH_EXPORT_BUF_BYTES;
			ssize_t w = write(out, bytes + off, n);
			if (w <= 0)
				die("write", w < 0 ? -errno : -EIO);
			off += (uint64_t)w;
		}
		t_wr[i] = th_now_ns() - t0;
		close(out);
	}
	free(bytes);
	unlink(path);
	unlink(base);
	unlink(mtl);
	double te = (double)median(t_exp) / 1e9, tw = (double)median(t_wr) / 1e9, mb = (double)st.bytes / 1e6;
	char fig[128];
	snprintf(fig, sizeof(fig), "mesh.export.%s_mb_per_s", name);
	th_bench_figure(fig, mb / te, "MB/s");
	snprintf(fig, sizeof(fig), "mesh.export.baseline.%s_write_mb_per_s", name);
	th_bench_figure(fig, mb / tw, "MB/s");
	snprintf(fig, sizeof(fig), "mesh.export.%s_vs_write_ratio", name);
	th_bench_figure(fig, te / tw, "x");
	snprintf(fig, sizeof(fig), "mesh.export.%s_mb", name);
	th_bench_figure(fig, mb, "MB");
}

int main(void)
{
	const char *dir = getenv("THETA_BENCH_DIR");
	if (!dir || !dir[0])
		dir = "/tmp";
	struct sh_log l;
	struct lt_author a;
	lt_author_init(&a, 0x51);
	sh_init(&l, false);
	int r = xs_big_strips(&l, &a, TRIANGLES);
	if (r < 0)
		die("building the history", r);
	struct th_scene *s;
	if ((r = th_scene_create(&s)) < 0)
		die("th_scene_create", r);
	for (size_t i = 0; i < l.n; i++) {
		struct th_scene_refusal why = { 0 };
		if ((r = th_scene_apply(s, &l.v[i].e, NULL, &why)) < 0) {
			fprintf(stderr, "bench_export: entry %zu refused: %s\n", i, why.why ? why.why : "?");
			return 1;
		}
	}
	sh_fini(&l);
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	th_bench_figure("mesh.export.triangles", (double)(2 * st.faces), "triangles");
	bench_format(s, dir, "glb", TH_EXPORT_GLB);
	bench_format(s, dir, "gltf", TH_EXPORT_GLTF);
	bench_format(s, dir, "obj", TH_EXPORT_OBJ);
	th_scene_destroy(&s);
	return 0;
}
