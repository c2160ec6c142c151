#include "srv/metrics.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const double srv_hist_fast_s[SRV_HIST_FAST_N] = { 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
						  0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1.0 };
const double srv_hist_slow_s[SRV_HIST_SLOW_N] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };

static uint64_t srv_metrics_scratch;
static struct srv_hist srv_hist_scratch;

uint64_t *srv_metrics_get(struct srv_metrics *m, const char *name, enum srv_metric_kind kind,
			  const char *help)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!strcmp(m->m[i].name, name))
			return &m->m[i].value;
	if (m->n == SRV_METRICS_MAX) {
		m->overflow++;
		return &srv_metrics_scratch;
	}
	m->m[m->n] = (struct srv_metric){ .name = name, .help = help, .kind = kind };
	return &m->m[m->n++].value;
}

struct srv_hist *srv_histogram(struct srv_metrics *m, const char *name, const char *help, const double *bounds,
			       unsigned n)
{
	for (unsigned i = 0; i < m->n_hists; i++)
		if (!strcmp(m->h[i].name, name))
			return &m->h[i];
	if (m->n_hists == SRV_HISTS_MAX || n > SRV_HIST_BOUNDS_MAX) {
		m->overflow++;
		return &srv_hist_scratch;
	}
	struct srv_hist *h = &m->h[m->n_hists++];
	*h = (struct srv_hist){ .name = name, .help = help, .n = n };
	memcpy(h->bound, bounds, n * sizeof bounds[0]);
	return h;
}

void srv_hist_observe_n(struct srv_hist *h, double v, uint64_t n)
{
	if (!n || v != v) /* NaN: not an observation */
		return;
	unsigned i = 0;
	while (i < h->n && v > h->bound[i])
		i++;
	h->bucket[i] += n;
	h->count += n;
	h->sum += v * (double)n;
}

void srv_hist_observe(struct srv_hist *h, double v)
{
	srv_hist_observe_n(h, v, 1);
}

void srv_metrics_add_collector(struct srv_metrics *m, srv_collect_fn fn, void *ud)
{
	if (m->n_collectors == SRV_COLLECTORS_MAX) {
		m->overflow++;
		return;
	}
	m->collectors[m->n_collectors].fn = fn;
	m->collectors[m->n_collectors++].ud = ud;
}

/* ---- labelled samples -------------------------------------------------- */

#define SRV_SAMPLE_LABELS_MAX 6 /* pairs */

struct srv_sample {
	const char *name, *help;
	enum srv_metric_kind kind;
	unsigned n_labels;
	char *label[SRV_SAMPLE_LABELS_MAX][2];
	double value;
};

struct srv_sample_sink {
	struct srv_sample *v;
	size_t n, cap;
	bool oom;
};

void srv_sample(struct srv_sample_sink *s, const char *name, const char *help, enum srv_metric_kind kind,
		const char *const *labels, double value)
{
	if (s->oom)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct srv_sample *v = realloc(s->v, cap * sizeof *v);
		if (!v) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	struct srv_sample *x = &s->v[s->n];
	*x = (struct srv_sample){ .name = name, .help = help, .kind = kind, .value = value };
	for (unsigned i = 0; labels && labels[2 * i] && labels[2 * i + 1] && i < SRV_SAMPLE_LABELS_MAX; i++) {
		x->label[i][0] = strdup(labels[2 * i]);
		x->label[i][1] = strdup(labels[2 * i + 1]);
		x->n_labels = i + 1;
		if (!x->label[i][0] || !x->label[i][1])
			s->oom = true;
	}
	s->n++;
}

static void srv_sink_collect(const struct srv_metrics *m, struct srv_sample_sink *s)
{
	*s = (struct srv_sample_sink){ .v = NULL };
	for (unsigned i = 0; i < m->n_collectors; i++)
		m->collectors[i].fn(m->collectors[i].ud, s);
}

static void srv_sink_free(struct srv_sample_sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		for (unsigned k = 0; k < s->v[i].n_labels; k++) {
			free(s->v[i].label[k][0]);
			free(s->v[i].label[k][1]);
		}
	free(s->v);
	*s = (struct srv_sample_sink){ .v = NULL };
}

static const char *srv_kind_name(enum srv_metric_kind k)
{
	return k == SRV_METRIC_COUNTER ? "counter" : k == SRV_METRIC_GAUGE ? "gauge" : "histogram";
}

/* ---- JSON -------------------------------------------------------------- */

static struct json_object *srv_hist_json(const struct srv_hist *h)
{
	struct json_object *e = json_object_new_object(), *b = json_object_new_array();
	json_object_object_add(e, "kind", json_object_new_string("histogram"));
	json_object_object_add(e, "help", json_object_new_string(h->help ? h->help : ""));
	json_object_object_add(e, "count", json_object_new_uint64(h->count));
	json_object_object_add(e, "sum", json_object_new_double(h->sum));
	uint64_t cum = 0;
	for (unsigned i = 0; i <= h->n; i++) {
		cum += h->bucket[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "le", i < h->n ? json_object_new_double(h->bound[i]) : json_object_new_string("+Inf"));
		json_object_object_add(x, "count", json_object_new_uint64(cum));
		json_object_array_add(b, x);
	}
	json_object_object_add(e, "buckets", b);
	return e;
}

struct json_object *srv_metrics_to_json(const struct srv_metrics *m)
{
	struct json_object *o = json_object_new_object();
	for (unsigned i = 0; i < m->n; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "kind", json_object_new_string(srv_kind_name(m->m[i].kind)));
		json_object_object_add(e, "value", json_object_new_uint64(m->m[i].value));
		json_object_object_add(e, "help", json_object_new_string(m->m[i].help ? m->m[i].help : ""));
		json_object_object_add(o, m->m[i].name, e);
	}
	for (unsigned i = 0; i < m->n_hists; i++)
		json_object_object_add(o, m->h[i].name, srv_hist_json(&m->h[i]));
	struct srv_sample_sink s;
	srv_sink_collect(m, &s);
	for (size_t i = 0; i < s.n; i++) {
		struct srv_sample *x = &s.v[i];
		struct json_object *fam, *samples;
		if (!json_object_object_get_ex(o, x->name, &fam)) {
			fam = json_object_new_object();
			json_object_object_add(fam, "kind", json_object_new_string(srv_kind_name(x->kind)));
			json_object_object_add(fam, "help", json_object_new_string(x->help ? x->help : ""));
			json_object_object_add(fam, "samples", json_object_new_array());
			json_object_object_add(o, x->name, fam);
		}
		if (!json_object_object_get_ex(fam, "samples", &samples))
			continue; /* a registered metric of the same name: the collector's sample is not shown */
		struct json_object *e = json_object_new_object(), *l = json_object_new_object();
		for (unsigned k = 0; k < x->n_labels; k++)
			json_object_object_add(l, x->label[k][0], json_object_new_string(x->label[k][1]));
		json_object_object_add(e, "labels", l);
		json_object_object_add(e, "value", json_object_new_double(x->value));
		json_object_array_add(samples, e);
	}
	srv_sink_free(&s);
	return o;
}

/* ---- Prometheus text format -------------------------------------------- */

/* A metric name as the format takes it: the prefix, then [a-zA-Z0-9_:] (any
 * other character becomes '_'), then suffix. */
static void srv_prom_name(FILE *f, const char *name, const char *suffix)
{
	fputs(SRV_METRICS_PREFIX, f);
	for (const char *p = name; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
		fputc(ok ? c : '_', f);
	}
	fputs(suffix, f);
}

static bool srv_ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), e = strlen(end);
	return n >= e && !strcmp(s + n - e, end);
}

/* HELP text: backslash and newline escaped. */
static void srv_prom_help(FILE *f, const char *name, const char *suffix, const char *help, const char *type)
{
	fputs("# HELP ", f);
	srv_prom_name(f, name, suffix);
	fputc(' ', f);
	for (const char *p = help && *help ? help : name; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputs("\n# TYPE ", f);
	srv_prom_name(f, name, suffix);
	fprintf(f, " %s\n", type);
}

/* A label value: backslash, double quote and newline escaped. */
static void srv_prom_label_value(FILE *f, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

/* A float as the format reads it: shortest round trip, +Inf/-Inf/NaN. */
static void srv_prom_double(FILE *f, double v)
{
	if (v != v)
		fputs("NaN", f);
	else if (v > 1.7976931348623157e308)
		fputs("+Inf", f);
	else if (v < -1.7976931348623157e308)
		fputs("-Inf", f);
	else {
		char b[40];
		snprintf(b, sizeof b, "%.15g", v);
		if (strtod(b, NULL) != v)
			snprintf(b, sizeof b, "%.17g", v);
		fputs(b, f);
	}
}

static void srv_prom_hist(FILE *f, const struct srv_hist *h)
{
	srv_prom_help(f, h->name, "", h->help, "histogram");
	uint64_t cum = 0;
	for (unsigned i = 0; i <= h->n; i++) {
		cum += h->bucket[i];
		srv_prom_name(f, h->name, "_bucket");
		fputs("{le=\"", f);
		if (i < h->n)
			fprintf(f, "%g", h->bound[i]);
		else
			fputs("+Inf", f);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	srv_prom_name(f, h->name, "_sum");
	fputc(' ', f);
	srv_prom_double(f, h->sum);
	fputc('\n', f);
	srv_prom_name(f, h->name, "_count");
	fprintf(f, " %llu\n", (unsigned long long)h->count);
}

int srv_metrics_prometheus(const struct srv_metrics *m, FILE *f)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct srv_metric *x = &m->m[i];
		const char *suffix = x->kind == SRV_METRIC_COUNTER && !srv_ends_with(x->name, "_total") ? "_total" : "";
		srv_prom_help(f, x->name, suffix, x->help, srv_kind_name(x->kind));
		srv_prom_name(f, x->name, suffix);
		fprintf(f, " %llu\n", (unsigned long long)x->value);
	}
	for (unsigned i = 0; i < m->n_hists; i++)
		srv_prom_hist(f, &m->h[i]);
	struct srv_sample_sink s;
	srv_sink_collect(m, &s);
	int r = s.oom ? -ENOMEM : 0;
	/* Each family once, its samples together, in the order families first appear. */
	bool *done = calloc(s.n ? s.n : 1, sizeof *done);
	if (!done)
		r = -ENOMEM;
	for (size_t i = 0; done && i < s.n; i++) {
		if (done[i])
			continue;
		const struct srv_sample *fam = &s.v[i];
		const char *suffix = fam->kind == SRV_METRIC_COUNTER && !srv_ends_with(fam->name, "_total") ? "_total" : "";
		srv_prom_help(f, fam->name, suffix, fam->help, fam->kind == SRV_METRIC_HISTOGRAM ? "untyped" : srv_kind_name(fam->kind));
		for (size_t j = i; j < s.n; j++) {
			const struct srv_sample *x = &s.v[j];
			if (done[j] || strcmp(x->name, fam->name))
				continue;
			done[j] = true;
			srv_prom_name(f, x->name, suffix);
			if (x->n_labels) {
				fputc('{', f);
				for (unsigned k = 0; k < x->n_labels; k++) {
					fprintf(f, "%s%s=\"", k ? "," : "", x->label[k][0]);
					srv_prom_label_value(f, x->label[k][1]);
					fputc('"', f);
				}
				fputc('}', f);
			}
			fputc(' ', f);
			srv_prom_double(f, x->value);
			fputc('\n', f);
		}
	}
	free(done);
	srv_sink_free(&s);
	return ferror(f) ? -EIO : r;
}
