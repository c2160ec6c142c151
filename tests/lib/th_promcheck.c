#include "th_promcheck.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAM_MAX 1024
#define NAME_MAX_ 256

struct fam {
	char name[NAME_MAX_];
	char type[16];
	bool help, typed, sampled, closed;
	/* histogram state */
	double last_le;
	double last_bucket;
	bool saw_inf;
	double inf_count;
	bool has_count;
	double count;
};

struct ck {
	struct fam f[FAM_MAX];
	unsigned n;
	int cur; /* the family of the previous sample line, -1 none */
	struct th_prom_report *rep;
	unsigned line;
};

static int bad(struct ck *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->rep->why, sizeof c->rep->why, "line %u: ", c->line);
	va_start(ap, fmt);
	vsnprintf(c->rep->why + n, sizeof c->rep->why - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool name_start(char ch) { return isalpha((unsigned char)ch) || ch == '_' || ch == ':'; }
static bool name_char(char ch) { return isalnum((unsigned char)ch) || ch == '_' || ch == ':'; }

/* A metric name at *p (advanced), copied to out. */
static bool take_name(const char **p, char *out, size_t cap, bool label)
{
	const char *s = *p;
	if (!(label ? (isalpha((unsigned char)*s) || *s == '_') : name_start(*s)))
		return false;
	size_t n = 0;
	while (label ? (isalnum((unsigned char)s[n]) || s[n] == '_') : name_char(s[n]))
		n++;
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = 0;
	*p = s + n;
	return true;
}

static bool take_value(const char **p, double *v)
{
	const char *s = *p;
	if (!strncmp(s, "NaN", 3)) {
		*v = NAN;
		*p = s + 3;
		return true;
	}
	if (!strncmp(s, "+Inf", 4) || !strncmp(s, "-Inf", 4)) {
		*v = s[0] == '+' ? INFINITY : -INFINITY;
		*p = s + 4;
		return true;
	}
	/* A Go ParseFloat-style number: [+-]digits[.digits][e[+-]digits] */
	const char *q = s;
	if (*q == '+' || *q == '-')
		q++;
	bool digits = false;
	while (isdigit((unsigned char)*q))
		q++, digits = true;
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q))
			q++, digits = true;
	}
	if (!digits)
		return false;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return false;
		while (isdigit((unsigned char)*q))
			q++;
	}
	char buf[64];
	if ((size_t)(q - s) >= sizeof buf)
		return false;
	memcpy(buf, s, (size_t)(q - s));
	buf[q - s] = 0;
	*v = strtod(buf, NULL);
	*p = q;
	return true;
}

static int find(struct ck *c, const char *name)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strcmp(c->f[i].name, name))
			return (int)i;
	return -1;
}

static int family(struct ck *c, const char *name)
{
	int i = find(c, name);
	if (i >= 0 || c->n == FAM_MAX)
		return i;
	snprintf(c->f[c->n].name, sizeof c->f[c->n].name, "%s", name);
	c->f[c->n].last_le = -INFINITY;
	return (int)c->n++;
}

static bool ends(const char *s, const char *e)
{
	size_t n = strlen(s), m = strlen(e);
	return n > m && !strcmp(s + n - m, e);
}

/* The family a sample name belongs to: a histogram's _bucket/_sum/_count
 * belong to the histogram's name when it is typed so. */
static int family_of_sample(struct ck *c, const char *name, const char **suffix)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	*suffix = "";
	for (int k = 0; k < 3; k++)
		if (ends(name, sfx[k])) {
			char base[NAME_MAX_];
			snprintf(base, sizeof base, "%.*s", (int)(strlen(name) - strlen(sfx[k])), name);
			int i = find(c, base);
			if (i >= 0 && (!strcmp(c->f[i].type, "histogram") || !strcmp(c->f[i].type, "summary"))) {
				*suffix = sfx[k];
				return i;
			}
		}
	return family(c, name);
}

static int comment(struct ck *c, const char *s)
{
	if (strncmp(s, "# HELP ", 7) && strncmp(s, "# TYPE ", 7))
		return 0; /* another comment */
	bool help = s[2] == 'H';
	const char *p = s + 7;
	char name[NAME_MAX_];
	if (!take_name(&p, name, sizeof name, false))
		return bad(c, "a metric name after # %s", help ? "HELP" : "TYPE");
	if (*p != ' ' && !(help && !*p))
		return bad(c, "a space after the name in # %s", help ? "HELP" : "TYPE");
	int i = family(c, name);
	if (i < 0)
		return bad(c, "too many families");
	struct fam *f = &c->f[i];
	if (help) {
		if (f->help)
			return bad(c, "a second HELP for %s", name);
		f->help = true;
		/* Escapes in HELP: only \\ and \n */
		for (const char *q = p; *q; q++)
			if (*q == '\\' && q[1] != '\\' && q[1] != 'n')
				return bad(c, "HELP of %s: a backslash that escapes nothing", name);
			else if (*q == '\\')
				q++;
		return 0;
	}
	if (f->typed)
		return bad(c, "a second TYPE for %s", name);
	if (f->sampled)
		return bad(c, "TYPE of %s after its samples", name);
	p++;
	static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
	bool ok = false;
	for (int k = 0; k < 5; k++)
		if (!strcmp(p, types[k]))
			ok = true;
	if (!ok)
		return bad(c, "TYPE of %s is '%s'", name, p);
	snprintf(f->type, sizeof f->type, "%s", p);
	f->typed = true;
	if (!strcmp(p, "counter") && !ends(name, "_total"))
		return bad(c, "the counter %s is not named ..._total", name);
	if (!strcmp(p, "histogram"))
		c->rep->histograms++;
	return 0;
}

static int sample(struct ck *c, const char *s)
{
	const char *p = s;
	char name[NAME_MAX_], le[64] = "";
	bool has_le = false;
	if (!take_name(&p, name, sizeof name, false))
		return bad(c, "a sample line does not start with a metric name");
	if (*p == '{') {
		p++;
		while (*p != '}') {
			char lname[NAME_MAX_];
			if (!take_name(&p, lname, sizeof lname, true))
				return bad(c, "a label name in %s", name);
			if (p[0] != '=' || p[1] != '"')
				return bad(c, "label %s of %s: =\" expected", lname, name);
			p += 2;
			char val[512];
			size_t n = 0;
			while (*p && *p != '"') {
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
						return bad(c, "label %s of %s: a backslash that escapes nothing", lname, name);
					if (n < sizeof val - 1)
						val[n++] = p[1] == 'n' ? '\n' : p[1];
					p += 2;
					continue;
				}
				if (*p == '\n')
					return bad(c, "a raw newline in a label value");
				if (n < sizeof val - 1)
					val[n++] = *p;
				p++;
			}
			val[n] = 0;
			if (*p != '"')
				return bad(c, "label %s of %s: no closing quote", lname, name);
			p++;
			if (!strcmp(lname, "le")) {
				has_le = true;
				snprintf(le, sizeof le, "%s", val);
			}
			if (*p == ',')
				p++;
			else if (*p != '}')
				return bad(c, "labels of %s: ',' or '}' expected", name);
		}
		p++;
	}
	if (*p != ' ')
		return bad(c, "a space before the value of %s", name);
	p++;
	double v;
	if (!take_value(&p, &v))
		return bad(c, "the value of %s is not a number", name);
	if (*p == ' ') {
		p++;
		if (*p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return bad(c, "the timestamp of %s is not an integer", name);
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return bad(c, "trailing characters after the sample of %s", name);
	const char *suffix;
	int i = family_of_sample(c, name, &suffix);
	if (i < 0)
		return bad(c, "too many families");
	struct fam *f = &c->f[i];
	if (f->closed || (c->cur >= 0 && c->cur != i && f->sampled))
		return bad(c, "the samples of %s are not together", f->name);
	if (c->cur >= 0 && c->cur != i)
		c->f[c->cur].closed = true;
	c->cur = i;
	if (!f->sampled) {
		f->sampled = true;
		c->rep->families++;
	}
	if (!strcmp(f->type, "counter") && v < 0)
		return bad(c, "the counter %s is negative", name);
	if (!strcmp(f->type, "histogram")) {
		if (!*suffix)
			return bad(c, "a sample of the histogram %s without _bucket, _sum or _count", f->name);
		if (!strcmp(suffix, "_bucket")) {
			if (!has_le)
				return bad(c, "%s without an le label", name);
			const char *lp = le;
			double bound;
			if (!take_value(&lp, &bound) || *lp)
				return bad(c, "%s: le=\"%s\" is not a number", name, le);
			if (f->saw_inf)
				return bad(c, "%s: a bucket after le=\"+Inf\"", name);
			if (bound <= f->last_le)
				return bad(c, "%s: le=\"%s\" does not ascend", name, le);
			if (v < f->last_bucket)
				return bad(c, "%s: the counts are not cumulative", name);
			f->last_le = bound;
			f->last_bucket = v;
			if (isinf(bound)) {
				f->saw_inf = true;
				f->inf_count = v;
			}
		} else if (!strcmp(suffix, "_count")) {
			f->has_count = true;
			f->count = v;
			if (!f->saw_inf)
				return bad(c, "%s: no le=\"+Inf\" bucket before _count", f->name);
			if (f->count != f->inf_count)
				return bad(c, "%s: _count %g is not the +Inf bucket's %g", f->name, f->count, f->inf_count);
		}
	}
	c->rep->samples++;
	return 0;
}

int th_prom_check(const char *text, struct th_prom_report *rep)
{
	struct ck *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(rep->why, sizeof rep->why, "out of memory");
		return -1;
	}
	*rep = (struct th_prom_report){ .lines = 0 };
	c->rep = rep;
	c->cur = -1;
	int r = 0;
	if (*text && text[strlen(text) - 1] != '\n') {
		snprintf(rep->why, sizeof rep->why, "the text does not end with a newline");
		r = -1;
	}
	for (const char *l = text; r == 0 && *l;) {
		size_t n = strcspn(l, "\n");
		char *line = strndup(l, n);
		if (!line) {
			r = -1;
			break;
		}
		c->line = ++rep->lines;
		if (!*line)
			r = 0;
		else if (line[0] == '#')
			r = comment(c, line);
		else
			r = sample(c, line);
		free(line);
		l += n + (l[n] == '\n');
	}
	for (unsigned i = 0; r == 0 && i < c->n; i++)
		if (!strcmp(c->f[i].type, "histogram") && c->f[i].sampled && !c->f[i].has_count) {
			c->line = rep->lines;
			r = bad(c, "the histogram %s has no _count", c->f[i].name);
		}
	free(c);
	return r;
}

double th_prom_value(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *l = text; *l;) {
		size_t len = strcspn(l, "\n");
		if (len > n && !strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
		l += len + (l[len] == '\n');
	}
	return -1;
}
