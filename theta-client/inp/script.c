/* Scripted input: parser and replaying source (see script.h). */
#include "inp/script.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_file.h"
#include "th_schema.h"

struct inp_script {
	struct inp_script_event *ev;
	size_t n, cap;
};

/* ---- tokenizer ----------------------------------------------------------- */

struct tok {
	const char *p;
	size_t len;
	unsigned col;
};

struct line_ctx {
	const char *p; /* line start */
	size_t len;
	size_t pos;
	unsigned line;
	struct inp_script_error *err;
};

static int fail(struct line_ctx *lc, unsigned col, const char *fmt, ...)
{
	if (lc->err) {
		va_list ap;
		lc->err->line = lc->line;
		lc->err->column = col;
		va_start(ap, fmt);
		vsnprintf(lc->err->msg, sizeof lc->err->msg, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

/* Next whitespace-separated token; false at end of line or at a comment. */
static bool next_tok(struct line_ctx *lc, struct tok *t)
{
	while (lc->pos < lc->len && (lc->p[lc->pos] == ' ' || lc->p[lc->pos] == '\t'))
		lc->pos++;
	if (lc->pos >= lc->len || lc->p[lc->pos] == '#')
		return false;
	t->p = lc->p + lc->pos;
	t->col = (unsigned)lc->pos + 1;
	while (lc->pos < lc->len && lc->p[lc->pos] != ' ' && lc->p[lc->pos] != '\t' && lc->p[lc->pos] != '#')
		lc->pos++;
	t->len = (size_t)(lc->p + lc->pos - t->p);
	return true;
}

static bool tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

/* Column just past the line's content, for "missing ..." errors. */
static unsigned end_col(const struct line_ctx *lc) { return (unsigned)lc->pos + 1; }

/* Strict decimal number: [-+]digits[.digits][e[-+]digits], finite. */
static int parse_float(struct line_ctx *lc, const char *what, float lo, float hi, float *out)
{
	struct tok t;
	if (!next_tok(lc, &t))
		return fail(lc, end_col(lc), "missing %s", what);
	char buf[64];
	if (t.len >= sizeof buf)
		return fail(lc, t.col, "%s is too long", what);
	memcpy(buf, t.p, t.len);
	buf[t.len] = '\0';
	size_t i = 0;
	if (buf[i] == '-' || buf[i] == '+')
		i++;
	size_t digits = 0;
	while (buf[i] >= '0' && buf[i] <= '9')
		i++, digits++;
	if (buf[i] == '.') {
		i++;
		while (buf[i] >= '0' && buf[i] <= '9')
			i++, digits++;
	}
	if (digits && (buf[i] == 'e' || buf[i] == 'E')) {
		i++;
		if (buf[i] == '-' || buf[i] == '+')
			i++;
		size_t ed = 0;
		while (buf[i] >= '0' && buf[i] <= '9')
			i++, ed++;
		if (!ed)
			digits = 0;
	}
	if (!digits || buf[i] != '\0')
		return fail(lc, t.col, "%s: '%s' is not a number", what, buf);
	double v = strtod(buf, NULL);
	if (!isfinite(v) || v < lo || v > hi)
		return fail(lc, t.col, "%s %s is outside [%g, %g]", what, buf, (double)lo, (double)hi);
	*out = (float)v;
	return 0;
}

/* <digits>[.<digits>](ms|s), exact to the nanosecond. */
static int parse_time(struct line_ctx *lc, const struct tok *t, uint64_t *out)
{
	size_t i = 0;
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	size_t wd = 0, fd = 0;
	while (i < t->len && t->p[i] >= '0' && t->p[i] <= '9') {
		if (++wd > 12)
			return fail(lc, t->col, "time is too large");
		whole = whole * 10 + (uint64_t)(t->p[i++] - '0');
	}
	if (i < t->len && t->p[i] == '.') {
		i++;
		while (i < t->len && t->p[i] >= '0' && t->p[i] <= '9') {
			if (++fd > 9)
				return fail(lc, t->col + (unsigned)i, "time has more than 9 fraction digits");
			frac = frac * 10 + (uint64_t)(t->p[i++] - '0');
			frac_scale *= 10;
		}
		if (!fd)
			return fail(lc, t->col + (unsigned)i, "digits expected after '.'");
	}
	if (!wd && !fd)
		return fail(lc, t->col, "time expected (e.g. 0s, 250ms, 1.5s)");
	uint64_t unit;
	size_t rest = t->len - i;
	if (rest == 2 && memcmp(t->p + i, "ms", 2) == 0)
		unit = 1000000ull;
	else if (rest == 1 && t->p[i] == 's')
		unit = 1000000000ull;
	else
		return fail(lc, t->col + (unsigned)i, "time unit 'ms' or 's' expected");
	/* whole < 10^12 and unit <= 10^9 could overflow: check against the limit. */
	if (whole > INP_SCRIPT_MAX_TIME_NS / unit)
		return fail(lc, t->col, "time is past the %llu s limit",
			    (unsigned long long)(INP_SCRIPT_MAX_TIME_NS / 1000000000ull));
	uint64_t ns = whole * unit + frac * unit / frac_scale;
	if (ns > INP_SCRIPT_MAX_TIME_NS)
		return fail(lc, t->col, "time is past the %llu s limit",
			    (unsigned long long)(INP_SCRIPT_MAX_TIME_NS / 1000000000ull));
	*out = ns;
	return 0;
}

static int parse_vec(struct line_ctx *lc, float *v, const char *what)
{
	for (int k = 0; k < 3; k++) {
		int r = parse_float(lc, what, -INP_SCRIPT_MAX_COORD, INP_SCRIPT_MAX_COORD, &v[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_quat(struct line_ctx *lc, float *q)
{
	unsigned col = 0;
	for (int k = 0; k < 4; k++) {
		while (lc->pos < lc->len && (lc->p[lc->pos] == ' ' || lc->p[lc->pos] == '\t'))
			lc->pos++;
		if (k == 0)
			col = (unsigned)lc->pos + 1;
		int r = parse_float(lc, "quaternion component", -2.0f, 2.0f, &q[k]);
		if (r < 0)
			return r;
	}
	double n = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
	if (n < 1e-3)
		return fail(lc, col, "rotation quaternion has zero length");
	for (int k = 0; k < 4; k++)
		q[k] = (float)(q[k] / n);
	return 0;
}

static const struct {
	const char *name;
	uint32_t bit;
} buttons[] = {
	{ "a", TH_BUTTON_A }, { "b", TH_BUTTON_B }, { "x", TH_BUTTON_X }, { "y", TH_BUTTON_Y },
	{ "menu", TH_BUTTON_MENU }, { "thumbstick", TH_BUTTON_THUMBSTICK },
	{ "trigger", TH_BUTTON_TRIGGER }, { "grip", TH_BUTTON_GRIP },
};

/* One non-blank, non-comment line after the header. */
static int parse_event(struct line_ctx *lc, uint64_t prev_time, struct inp_script_event *ev)
{
	struct tok t;
	memset(ev, 0, sizeof *ev);
	ev->line = lc->line;
	next_tok(lc, &t); /* the caller saw a token */
	int r = parse_time(lc, &t, &ev->time_ns);
	if (r < 0)
		return r;
	if (ev->time_ns < prev_time)
		return fail(lc, t.col, "time goes backwards (events must be in time order)");
	if (!next_tok(lc, &t))
		return fail(lc, end_col(lc), "target expected: head, left, right or quit");
	if (tok_is(&t, "quit")) {
		ev->kind = INP_EV_QUIT;
		ev->target = INP_TARGET_NONE;
	} else {
		if (tok_is(&t, "head"))
			ev->target = INP_TARGET_HEAD;
		else if (tok_is(&t, "left"))
			ev->target = INP_TARGET_LEFT;
		else if (tok_is(&t, "right"))
			ev->target = INP_TARGET_RIGHT;
		else
			return fail(lc, t.col, "unknown target '%.*s' (head, left, right or quit)", (int)(t.len > 32 ? 32 : t.len), t.p);
		struct tok a;
		if (!next_tok(lc, &a))
			return fail(lc, end_col(lc), "action expected after '%.*s'", (int)t.len, t.p);
		bool hand = ev->target != INP_TARGET_HEAD;
		if (tok_is(&a, "pose")) {
			ev->kind = INP_EV_POSE;
			if ((r = parse_vec(lc, ev->v, "position")) < 0 || (r = parse_quat(lc, ev->v + 3)) < 0)
				return r;
		} else if (tok_is(&a, "position")) {
			ev->kind = INP_EV_POSITION;
			if ((r = parse_vec(lc, ev->v, "position")) < 0)
				return r;
		} else if (tok_is(&a, "rotation")) {
			ev->kind = INP_EV_ROTATION;
			if ((r = parse_quat(lc, ev->v)) < 0)
				return r;
		} else if (tok_is(&a, "lost")) {
			ev->kind = INP_EV_LOST;
		} else if (hand && tok_is(&a, "trigger")) {
			ev->kind = INP_EV_TRIGGER;
			if ((r = parse_float(lc, "trigger value", 0, 1, &ev->v[0])) < 0)
				return r;
		} else if (hand && tok_is(&a, "grip")) {
			ev->kind = INP_EV_GRIP;
			if ((r = parse_float(lc, "grip value", 0, 1, &ev->v[0])) < 0)
				return r;
		} else if (hand && tok_is(&a, "thumbstick")) {
			ev->kind = INP_EV_THUMBSTICK;
			if ((r = parse_float(lc, "thumbstick x", -1, 1, &ev->v[0])) < 0 ||
			    (r = parse_float(lc, "thumbstick y", -1, 1, &ev->v[1])) < 0)
				return r;
		} else if (hand && (tok_is(&a, "press") || tok_is(&a, "release"))) {
			ev->kind = tok_is(&a, "press") ? INP_EV_PRESS : INP_EV_RELEASE;
			struct tok b;
			if (!next_tok(lc, &b))
				return fail(lc, end_col(lc), "button name expected");
			for (size_t i = 0; i < sizeof buttons / sizeof buttons[0]; i++)
				if (tok_is(&b, buttons[i].name))
					ev->button = buttons[i].bit;
			if (!ev->button)
				return fail(lc, b.col, "unknown button '%.*s' (a b x y menu thumbstick trigger grip)",
					    (int)(b.len > 32 ? 32 : b.len), b.p);
		} else {
			return fail(lc, a.col, hand ? "unknown action '%.*s' (pose position rotation lost trigger grip "
						      "thumbstick press release)"
						    : "unknown head action '%.*s' (pose position rotation lost)",
				    (int)(a.len > 32 ? 32 : a.len), a.p);
		}
	}
	if (next_tok(lc, &t))
		return fail(lc, t.col, "unexpected '%.*s' at end of line", (int)(t.len > 32 ? 32 : t.len), t.p);
	return 0;
}

int inp_script_parse(const char *text, size_t len, struct inp_script **out, struct inp_script_error *err)
{
	struct line_ctx lc = { .err = err };
	if (err)
		memset(err, 0, sizeof *err);
	if (len > INP_SCRIPT_MAX_BYTES) {
		if (err)
			snprintf(err->msg, sizeof err->msg, "script is larger than %u bytes", INP_SCRIPT_MAX_BYTES);
		return -EFBIG;
	}
	struct inp_script *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	bool header = false;
	uint64_t prev = 0;
	int r = 0;
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;
		lc.p = text + off;
		lc.len = end - off;
		lc.pos = 0;
		lc.line++;
		off = nl ? end + 1 : len;
		if (lc.len && lc.p[lc.len - 1] == '\r')
			lc.len--;
		if (lc.len > INP_SCRIPT_MAX_LINE) {
			r = fail(&lc, INP_SCRIPT_MAX_LINE + 1, "line is longer than %d bytes", INP_SCRIPT_MAX_LINE);
			goto bad;
		}
		for (size_t i = 0; i < lc.len; i++) {
			unsigned char c = (unsigned char)lc.p[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				r = fail(&lc, (unsigned)i + 1, "control character 0x%02x", c);
				goto bad;
			}
		}
		struct tok t;
		size_t save = lc.pos;
		if (!next_tok(&lc, &t))
			continue; /* blank or comment */
		if (!header) {
			if (!tok_is(&t, "theta-script")) {
				r = fail(&lc, t.col, "first line must be 'theta-script 1'");
				goto bad;
			}
			struct tok v;
			if (!next_tok(&lc, &v)) {
				r = fail(&lc, end_col(&lc), "format version expected after 'theta-script'");
				goto bad;
			}
			if (!tok_is(&v, "1")) {
				r = fail(&lc, v.col, "unsupported format version '%.*s' (this client reads 1)",
					 (int)(v.len > 16 ? 16 : v.len), v.p);
				goto bad;
			}
			if (next_tok(&lc, &v)) {
				r = fail(&lc, v.col, "unexpected text after the version");
				goto bad;
			}
			header = true;
			continue;
		}
		lc.pos = save;
		if (s->n >= INP_SCRIPT_MAX_EVENTS) {
			r = fail(&lc, t.col, "more than %u events", INP_SCRIPT_MAX_EVENTS);
			goto bad;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct inp_script_event *n = realloc(s->ev, cap * sizeof *n);
			if (!n) {
				r = -ENOMEM;
				goto bad;
			}
			s->ev = n;
			s->cap = cap;
		}
		r = parse_event(&lc, prev, &s->ev[s->n]);
		if (r < 0)
			goto bad;
		prev = s->ev[s->n++].time_ns;
	}
	if (!header) {
		lc.line = lc.line ? lc.line : 1;
		r = fail(&lc, 1, "empty script: first line must be 'theta-script 1'");
		goto bad;
	}
	*out = s;
	return 0;
bad:
	inp_script_destroy(&s);
	return r;
}

int inp_script_load(const char *path, struct inp_script **out, struct inp_script_error *err)
{
	char *text;
	size_t len;
	int r = th_file_read(path, INP_SCRIPT_MAX_BYTES, &text, &len);
	if (r < 0) {
		if (err) {
			memset(err, 0, sizeof *err);
			snprintf(err->msg, sizeof err->msg, "cannot read %s: %s", path,
				 r == -EFBIG ? "file too large" : strerror(-r));
		}
		return r;
	}
	r = inp_script_parse(text, len, out, err);
	free(text);
	return r;
}

void inp_script_destroy(struct inp_script **p)
{
	if (!p || !*p)
		return;
	free((*p)->ev);
	free(*p);
	*p = NULL;
}

size_t inp_script_count(const struct inp_script *s) { return s->n; }

const struct inp_script_event *inp_script_event(const struct inp_script *s, size_t i)
{
	return i < s->n ? &s->ev[i] : NULL;
}

uint64_t inp_script_duration_ns(const struct inp_script *s) { return s->n ? s->ev[s->n - 1].time_ns : 0; }

void inp_script_error_format(const struct inp_script_error *e, char *buf, size_t cap)
{
	if (e->line)
		snprintf(buf, cap, "line %u, column %u: %s", e->line, e->column, e->msg);
	else
		snprintf(buf, cap, "%s", e->msg);
}

/* ---- replaying source ---------------------------------------------------- */

struct script_source {
	struct inp_source base;
	struct inp_script *script;
	size_t next;
};

static void apply_pose(struct inp_pose *p, const struct inp_script_event *ev)
{
	switch (ev->kind) {
	case INP_EV_POSE:
		memcpy(p->position, ev->v, sizeof p->position);
		memcpy(p->rotation, ev->v + 3, sizeof p->rotation);
		p->valid = true;
		break;
	case INP_EV_POSITION:
		memcpy(p->position, ev->v, sizeof p->position);
		p->valid = true;
		break;
	case INP_EV_ROTATION:
		memcpy(p->rotation, ev->v, sizeof p->rotation);
		p->valid = true;
		break;
	case INP_EV_LOST:
		p->valid = false;
		break;
	}
}

static int script_poll(struct inp_source *src, uint64_t time_ns, struct inp_state *st)
{
	struct script_source *ss = (struct script_source *)src;
	int applied = 0;
	for (int h = 0; h < INP_HANDS; h++)
		st->hand[h].pressed = st->hand[h].released = 0;
	while (ss->next < ss->script->n && ss->script->ev[ss->next].time_ns <= time_ns) {
		const struct inp_script_event *ev = &ss->script->ev[ss->next++];
		applied++;
		if (ev->kind == INP_EV_QUIT) {
			st->quit = true;
			continue;
		}
		if (ev->target == INP_TARGET_HEAD) {
			apply_pose(&st->head, ev);
			continue;
		}
		struct inp_controller *c = &st->hand[ev->target == INP_TARGET_LEFT ? INP_LEFT : INP_RIGHT];
		switch (ev->kind) {
		case INP_EV_TRIGGER: c->trigger = ev->v[0]; break;
		case INP_EV_GRIP: c->grip = ev->v[0]; break;
		case INP_EV_THUMBSTICK: c->thumbstick[0] = ev->v[0], c->thumbstick[1] = ev->v[1]; break;
		case INP_EV_PRESS:
			if (!(c->buttons & ev->button))
				c->pressed |= ev->button;
			c->buttons |= ev->button;
			break;
		case INP_EV_RELEASE:
			if (c->buttons & ev->button)
				c->released |= ev->button;
			c->buttons &= ~ev->button;
			break;
		default: apply_pose(&c->pose, ev); break;
		}
	}
	/* A scripted controller points where its grip does (-Z of its rotation). */
	for (int h = 0; h < INP_HANDS; h++)
		st->hand[h].aim = st->hand[h].pose;
	st->events += (uint64_t)applied;
	return applied;
}

static void script_destroy(struct inp_source *src)
{
	struct script_source *ss = (struct script_source *)src;
	inp_script_destroy(&ss->script);
	free(ss);
}

static const struct inp_source_ops script_ops = {
	.poll = script_poll,
	.destroy = script_destroy,
};

int inp_script_source_create(struct inp_script *script, struct inp_source **out)
{
	struct script_source *ss = calloc(1, sizeof *ss);
	if (!ss) {
		inp_script_destroy(&script);
		return -ENOMEM;
	}
	ss->base.ops = &script_ops;
	ss->base.name = "script";
	ss->script = script;
	*out = &ss->base;
	return 0;
}
