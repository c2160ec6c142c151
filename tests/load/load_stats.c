/* theta-load's figures (load.h, tests/load/README.md "Output"): CPU of the
 * generator and of the host (from /proc), the host's RSS, and the JSON
 * document of a run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "th_time.h"

#define LOAD_MISSING_TOLD 10 /* members lacking entries named on stderr */

uint64_t load_cpu_self_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * TH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* utime + stime (fields 14 and 15 of /proc/PID/stat, after the command's
 * closing parenthesis), in clock ticks. */
int load_proc_cpu_ticks(int pid, uint64_t *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	unsigned long long ut, st;
	/* after ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EBADMSG;
	*ticks = ut + st;
	return 0;
}

int load_proc_rss_kb(int pid, uint64_t *kb)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int r = -ENOENT;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			unsigned long long v;
			r = sscanf(line + 6, "%llu", &v) == 1 ? 0 : -EBADMSG;
			*kb = v;
			break;
		}
	fclose(f);
	return r;
}

void load_window_begin(struct load *L, uint64_t now)
{
	struct load_stats *s = &L->s;
	th_hist_reset(&s->age);
	s->win_start_ns = now;
	s->gen_cpu0_ns = load_cpu_self_ns();
	for (unsigned i = 0; i < L->o.n; i++) {
		struct load_member *m = &L->m[i];
		memset(m->peers, 0, L->o.n * sizeof(*m->peers));
		m->voice_in = 0;
	}
	if (L->o.host_pid > 0) {
		load_proc_cpu_ticks(L->o.host_pid, &s->host_cpu0_ticks);
		load_proc_rss_kb(L->o.host_pid, &s->host_rss_warm_kb);
		s->host_rss_max_kb = s->host_rss_warm_kb;
	}
	s->next_rss_ns = now + TH_NS_PER_S;
	L->in_window = true;
}

void load_window_end(struct load *L, uint64_t now)
{
	struct load_stats *s = &L->s;
	s->win_end_ns = now;
	for (unsigned i = 0; i < L->o.n; i++)
		L->m[i].active_end = L->m[i].st == LM_ACTIVE;
	s->gen_cpu1_ns = load_cpu_self_ns();
	if (L->o.host_pid > 0) {
		load_proc_cpu_ticks(L->o.host_pid, &s->host_cpu1_ticks);
		load_proc_rss_kb(L->o.host_pid, &s->host_rss_end_kb);
		if (s->host_rss_end_kb > s->host_rss_max_kb)
			s->host_rss_max_kb = s->host_rss_end_kb;
	}
	L->in_window = false;
}

void load_sample_rss(struct load *L, uint64_t now)
{
	struct load_stats *s = &L->s;
	uint64_t kb;
	if (!L->in_window || L->o.host_pid <= 0 || now < s->next_rss_ns)
		return;
	s->next_rss_ns = now + TH_NS_PER_S;
	if (load_proc_rss_kb(L->o.host_pid, &kb) == 0 && kb > s->host_rss_max_kb)
		s->host_rss_max_kb = kb;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

bool load_report(struct load *L, FILE *f, bool completed)
{
	const struct load_opts *o = &L->o;
	struct load_stats *s = &L->s;
	double win_s = s->win_end_ns > s->win_start_ns ? (double)(s->win_end_ns - s->win_start_ns) / 1e9 : 0;
	unsigned active = 0, speakers = 0;
	uint64_t connects = 0, p_fo = 0, p_bo = 0, p_fi = 0, p_bi = 0, p_ref = 0, p_gaps = 0, poses_out = 0;
	uint64_t v_out = 0, v_in = 0, made = 0, expected = 0, held = 0, dups = 0, e_gaps = 0, bad = 0, rejected = 0;
	uint64_t resent = 0, peer_gaps = 0, max_gap = 0;
	for (unsigned i = 0; i < o->n; i++) {
		const struct load_member *m = &L->m[i];
		active += m->active_end;
		speakers += m->speaks;
		connects += m->connects;
		p_fo += m->pres_frames_out, p_bo += m->pres_bytes_out, p_fi += m->pres_frames_in;
		p_bi += m->pres_bytes_in, p_ref += m->pres_refused, p_gaps += m->pres_seq_gaps;
		poses_out += m->poses_out;
		v_out += m->voice_out, v_in += m->voice_in;
		made += m->n_own;
		rejected += m->rejected, resent += m->resent;
		for (unsigned a = 0; a < m->n_authors; a++)
			dups += m->authors[a].dups, e_gaps += m->authors[a].gaps, bad += m->authors[a].bad;
		for (unsigned k = 0; k < o->n; k++) {
			if (k == i)
				continue;
			const struct load_member *a = &L->m[k];
			uint64_t h = load_member_holds(m, a->user.pk);
			expected += a->n_own;
			held += h < a->n_own ? h : a->n_own;
			peer_gaps += m->peers[k].gaps;
			if (m->peers[k].max_gap_ns > max_gap)
				max_gap = m->peers[k].max_gap_ns;
		}
	}
	uint64_t missing = expected - held;
	unsigned told = 0;
	for (unsigned i = 0; missing && i < o->n; i++)
		for (unsigned k = 0; k < o->n && told < LOAD_MISSING_TOLD; k++) {
			uint64_t h = load_member_holds(&L->m[i], L->m[k].user.pk);
			if (k != i && h < L->m[k].n_own) {
				fprintf(stderr, "theta-load: member %u holds %" PRIu64 " of member %u's %u entries\n", i, h, k,
					L->m[k].n_own);
				told++;
			}
		}
	bool ok = completed && active == o->n && missing == 0 && bad == 0 && rejected == 0 && L->glue_errors == 0;
	double per_pose = s->poses_in ? (double)(s->pres_bytes_in + s->pres_dgrams_in * LOAD_DGRAM_OVERHEAD) /
						 (double)s->poses_in
				      : 0;
	fprintf(f, "{\n  \"ok\": %s,\n  \"completed\": %s,\n", ok ? "true" : "false", completed ? "true" : "false");
	fprintf(f, "  \"members\": %u,\n  \"far\": %u,\n  \"seconds\": %.3f,\n", o->n, o->far, win_s);
	fprintf(f, "  \"active\": %u,\n  \"connects\": %" PRIu64 ",\n", active, connects);
	fprintf(f, "  \"glue_errors\": %u,\n  \"glue_error\": ", L->glue_errors);
	json_str(f, L->glue_what);
	fprintf(f, ",\n  \"not_active\": [");
	for (unsigned i = 0, first = 1; i < o->n; i++) {
		const struct load_member *m = &L->m[i];
		if (m->active_end)
			continue;
		fprintf(f, "%s{\"member\": %u, \"why\": ", first ? "" : ", ", i);
		json_str(f, m->end_why[0] ? m->end_why : "never joined");
		fprintf(f, "}");
		first = 0;
	}
	fprintf(f, "],\n");
	fprintf(f, "  \"pres\": {\"frames_out\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"poses_out\": %" PRIu64
		   ", \"frames_in\": %" PRIu64 ", \"bytes_in\": %" PRIu64 ", \"refused\": %" PRIu64
		   ", \"host_frames_lost\": %" PRIu64 "},\n",
		p_fo, p_bo, poses_out, p_fi, p_bi, p_ref, p_gaps);
	fprintf(f, "  \"window\": {\"dgrams_in\": %" PRIu64 ", \"bytes_in\": %" PRIu64 ", \"records_in\": %" PRIu64
		   ", \"poses_in\": %" PRIu64 "},\n",
		s->pres_dgrams_in, s->pres_bytes_in, s->records_in, s->poses_in);
	fprintf(f, "  \"dgram_overhead\": %u,\n  \"bytes_per_pose\": %.3f,\n  \"raw_bytes_per_pose\": %u,\n",
		LOAD_DGRAM_OVERHEAD, per_pose, PROTO_PRES_RAW_POSE_BYTES + LOAD_DGRAM_OVERHEAD);
	fprintf(f, "  \"pose_age_ms\": {\"count\": %" PRIu64 ", \"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f},\n",
		s->age.count, ms(th_hist_quantile(&s->age, 0.5)), ms(th_hist_quantile(&s->age, 0.99)), ms(s->age.max));
	fprintf(f, "  \"gaps\": {\"count\": %" PRIu64 ", \"max_ms\": %.3f},\n", peer_gaps, ms(max_gap));
	fprintf(f, "  \"voice\": {\"speakers\": %u, \"out\": %" PRIu64 ", \"in\": %" PRIu64 "},\n", speakers, v_out, v_in);
	fprintf(f, "  \"entries\": {\"made\": %" PRIu64 ", \"expected\": %" PRIu64 ", \"missing\": %" PRIu64
		   ", \"dups\": %" PRIu64 ", \"gaps\": %" PRIu64 ", \"bad\": %" PRIu64 ", \"rejected\": %" PRIu64
		   ", \"resent\": %" PRIu64 "},\n",
		made, expected, missing, dups, e_gaps, bad, rejected, resent);
	double gen_pct = win_s > 0 ? (double)(s->gen_cpu1_ns - s->gen_cpu0_ns) / 1e9 / win_s * 100 : 0;
	double host_pct = -1;
	if (o->host_pid > 0 && win_s > 0)
		host_pct = (double)(s->host_cpu1_ticks - s->host_cpu0_ticks) / (double)sysconf(_SC_CLK_TCK) / win_s * 100;
	fprintf(f, "  \"cpu\": {\"generator_pct\": %.2f, \"host_pct\": %.2f},\n", gen_pct, host_pct);
	fprintf(f, "  \"host_rss_kb\": {\"warm\": %" PRIu64 ", \"end\": %" PRIu64 ", \"max\": %" PRIu64 "},\n",
		s->host_rss_warm_kb, s->host_rss_end_kb, s->host_rss_max_kb);
	/* seen[m][k]: records of member k's user member m took in the window */
	fprintf(f, "  \"seen\": [");
	for (unsigned i = 0; i < o->n; i++) {
		fprintf(f, "%s[", i ? ",\n    " : "\n    ");
		for (unsigned k = 0; k < o->n; k++)
			fprintf(f, "%s%" PRIu64, k ? "," : "", L->m[i].peers[k].updates);
		fprintf(f, "]");
	}
	fprintf(f, "\n  ]\n}\n");
	fflush(f);
	return ok;
}
