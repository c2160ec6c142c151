/* th_jbsim.h: one speaker through a voice_jb in simulated time. */
#include "th_jbsim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MS        1000000ull
#define SIM_T0        TH_JBSIM_T0_NS
#define SIM_TICK_PHASE (3 * SIM_MS)     /* ticks do not line up with frames */
#define SIM_DRAIN_MS  1000u             /* ticks after the sender stopped */
#define SIM_PAYLOAD   40u               /* bytes of one frame: seq, ts, filler */

struct arrival {
	uint64_t t_ns;
	unsigned k;  /* frame index in the order sent */
};

struct sim {
	const struct th_jbsim_config *cfg;
	struct th_jbsim_result *res;
	uint64_t frame_ns;
	unsigned periods;
	int *period_k;       /* frame sent in that period, -1 in a gap */
	unsigned *k_period;  /* period of frame k */
	uint8_t *given;      /* per frame: given as FRAME, FEC or CONCEAL */
	uint8_t (*pkt)[VOICE_OPUS_MAX]; /* per frame: what was sent */
	uint16_t *pkt_len;
	uint8_t *pkt_flags;
	bool have_end;
	uint32_t end_ts;     /* where the last stream piece ended */
};

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static bool in_list(const unsigned *l, unsigned n, unsigned k)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == k)
			return true;
	return false;
}

static void violation(struct sim *m, const char *fmt, ...)
{
	if (!m->res->violations++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->res->first_violation, sizeof(m->res->first_violation), fmt, ap);
		va_end(ap);
	}
}

static int cmp_arrival(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

static uint32_t ts_of_period(const struct sim *m, unsigned p)
{
	return m->cfg->ts0 + p * m->cfg->frame_samples;
}

static uint64_t send_ns(const struct sim *m, unsigned k)
{
	return SIM_T0 + m->k_period[k] * m->frame_ns;
}

/* The frame whose first sample is ts, or -1. */
static int frame_at(const struct sim *m, uint32_t ts)
{
	uint32_t off = ts - m->cfg->ts0;
	if (off % m->cfg->frame_samples)
		return -1;
	uint32_t p = off / m->cfg->frame_samples;
	return p < m->periods ? m->period_k[p] : -1;
}

static bool same_packet(const struct sim *m, const struct voice_jb_out *o, unsigned k)
{
	return o->data && o->len == m->pkt_len[k] && o->flags == m->pkt_flags[k] && !memcmp(o->data, m->pkt[k], o->len);
}

static void check_piece(struct sim *m, const struct voice_jb_out *o, bool inserted, uint64_t now)
{
	struct th_jbsim_result *r = m->res;
	if (o->kind == VOICE_JB_CONCEAL && inserted) {
		r->inserted++;
		if (o->samples != VOICE_CHUNK_SAMPLES)
			violation(m, "an inserted concealment of %u samples", o->samples);
		return;
	}
	if (m->have_end && (int32_t)(o->ts - m->end_ts) < 0)
		violation(m, "a piece at ts %u overlaps what was given up to %u", o->ts, m->end_ts);
	m->have_end = true;
	m->end_ts = o->ts + o->samples;
	int k = frame_at(m, o->ts);
	switch (o->kind) {
	case VOICE_JB_FRAME:
		r->frames++;
		if (k < 0 || !same_packet(m, o, (unsigned)k) || o->samples != m->cfg->frame_samples) {
			violation(m, "FRAME at ts %u (%u samples) is not the frame sent there", o->ts, o->samples);
			return;
		}
		break;
	case VOICE_JB_FEC:
		r->fec++;
		if (k < 0 || (unsigned)k + 1 >= m->res->sent || !same_packet(m, o, (unsigned)k + 1) ||
		    m->k_period[k + 1] != m->k_period[k] + 1 || o->samples != m->cfg->frame_samples) {
			violation(m, "FEC at ts %u (%u samples) is not from the next frame sent", o->ts, o->samples);
			return;
		}
		break;
	case VOICE_JB_CONCEAL:
		r->conceal++;
		if (o->samples != m->cfg->frame_samples)
			violation(m, "a concealed frame of %u samples", o->samples);
		break;
	default:
		violation(m, "kind %d", (int)o->kind);
		return;
	}
	if (k < 0)
		return; /* concealment across a DTX gap's start */
	if (m->given[k]++)
		violation(m, "frame %d given twice", k);
	if (o->kind != VOICE_JB_CONCEAL) {
		r->delay_sum_ns += now - send_ns(m, (unsigned)k);
		r->delay_n++;
	}
}

static void tick(struct sim *m, struct voice_jb *jb, uint64_t now)
{
	struct voice_jb_out o;
	bool silent = false;
	for (unsigned n = 0;; n++) {
		if (n > 64) {
			violation(m, "more than 64 pieces in one tick");
			break;
		}
		uint64_t ins = jb->st.inserted;
		int rc = voice_jb_get(jb, now, &o);
		if (rc == 0)
			break;
		if (rc != 1) {
			violation(m, "voice_jb_get returned %d", rc);
			break;
		}
		if (o.kind == VOICE_JB_SILENT) {
			silent = true;
			m->res->silent_ticks++;
			break;
		}
		check_piece(m, &o, jb->st.inserted != ins, now);
		if (m->cfg->on_piece)
			m->cfg->on_piece(m->cfg->user, now, &o, jb->st.inserted != ins);
	}
	struct voice_jb_stats st;
	voice_jb_stats(jb, now, &st);
	if (st.target_ms > m->res->max_target_ms)
		m->res->max_target_ms = st.target_ms;
	if (m->cfg->on_tick)
		m->cfg->on_tick(m->cfg->user, now, &st, silent);
}

int th_jbsim_run(const struct th_jbsim_config *cfg, struct th_jbsim_result *res)
{
	memset(res, 0, sizeof(*res));
	struct sim m = { .cfg = cfg, .res = res };
	unsigned frame_ms = cfg->frame_samples / (VOICE_RATE / 1000u);
	m.frame_ns = frame_ms * SIM_MS;
	m.periods = (unsigned)(cfg->duration_ms / frame_ms);
	m.period_k = calloc(m.periods + 1, sizeof(*m.period_k));
	m.k_period = calloc(m.periods + 1, sizeof(*m.k_period));
	m.given = calloc(m.periods + 1, 1);
	m.pkt = calloc(m.periods + 1, sizeof(*m.pkt));
	m.pkt_len = calloc(m.periods + 1, sizeof(*m.pkt_len));
	m.pkt_flags = calloc(m.periods + 1, 1);
	struct arrival *arr = calloc(2 * (size_t)m.periods + 1, sizeof(*arr));
	struct voice_jb *jb = malloc(sizeof(*jb));
	int rc = 0;
	if (!m.period_k || !m.k_period || !m.given || !m.pkt || !m.pkt_len || !m.pkt_flags || !arr || !jb) {
		rc = -ENOMEM;
		goto out;
	}
	uint64_t seed = cfg->seed ? cfg->seed : 1;
	unsigned k = 0, na = 0;
	for (unsigned p = 0; p < m.periods; p++) {
		uint64_t t = (uint64_t)p * frame_ms;
		bool talking = !cfg->gap_ms || t % (cfg->talk_ms + cfg->gap_ms) < cfg->talk_ms;
		int len = SIM_PAYLOAD;
		uint8_t flags = VOICE_PKT_F_SPEECH;
		if (cfg->payload) {
			len = cfg->payload(cfg->user, p, m.pkt[k], VOICE_OPUS_MAX, &flags);
			if (len < 0 || len > (int)VOICE_OPUS_MAX) {
				rc = -EIO;
				goto out;
			}
			talking = len > 0;
		} else {
			uint32_t seq = cfg->seq0 + k, ts = ts_of_period(&m, p);
			memcpy(m.pkt[k], &seq, 4);
			memcpy(m.pkt[k] + 4, &ts, 4);
			memset(m.pkt[k] + 8, 0x5a, SIM_PAYLOAD - 8);
		}
		if (!talking) {
			m.period_k[p] = -1;
			continue;
		}
		m.pkt_len[k] = (uint16_t)len;
		m.pkt_flags[k] = flags;
		m.period_k[p] = (int)k;
		m.k_period[k] = p;
		bool lost = in_list(cfg->lose, cfg->n_lose, k) ||
			    (cfg->loss_permille && rnd(&seed) % 1000 < cfg->loss_permille);
		unsigned copies = cfg->dup_permille && rnd(&seed) % 1000 < cfg->dup_permille ? 2 : 1;
		if (lost)
			res->lost_net++;
		else
			for (unsigned c = 0; c < copies; c++) {
				unsigned jms = cfg->switch_ms && t >= cfg->switch_ms ? cfg->jitter2_ms : cfg->jitter_ms;
				uint64_t jit = jms ? rnd(&seed) % (jms * 1000ull + 1) * 1000ull : 0;
				uint64_t t_ns = SIM_T0 + p * m.frame_ns + cfg->base_ms * SIM_MS + jit;
				if (in_list(cfg->hold, cfg->n_hold, k))
					t_ns += cfg->hold_ms * SIM_MS;
				uint64_t stall = SIM_T0 + cfg->stall_at_ms * SIM_MS;
				if (cfg->stall_ms && t_ns >= stall && t_ns < stall + cfg->stall_ms * SIM_MS)
					t_ns = stall + cfg->stall_ms * SIM_MS;
				arr[na++] = (struct arrival){ t_ns, k };
				if (c)
					res->dups_sent++;
			}
		k++;
	}
	res->sent = k;
	qsort(arr, na, sizeof(*arr), cmp_arrival);

	voice_jb_init(jb, &cfg->jb);
	if (cfg->tell_loss)
		voice_jb_set_loss(jb, cfg->link_loss_pct);
	unsigned jmax = cfg->jitter_ms > cfg->jitter2_ms ? cfg->jitter_ms : cfg->jitter2_ms;
	uint64_t end = SIM_T0 + cfg->duration_ms * SIM_MS + (cfg->base_ms + jmax + cfg->hold_ms) * SIM_MS +
		       SIM_DRAIN_MS * SIM_MS;
	unsigned ai = 0, newest = 0;
	for (unsigned i = 0; i < na; i++) {
		if (i && arr[i].k < newest)
			res->reordered++;
		if (arr[i].k > newest)
			newest = arr[i].k;
	}
	for (uint64_t now = SIM_T0 + SIM_TICK_PHASE; now < end; now += VOICE_CHUNK_MS * SIM_MS) {
		for (; ai < na && arr[ai].t_ns <= now; ai++) {
			unsigned fk = arr[ai].k;
			uint32_t seq = cfg->seq0 + fk, ts = ts_of_period(&m, m.k_period[fk]);
			res->puts++;
			int pr = voice_jb_put(jb, seq, ts, cfg->frame_samples, m.pkt_flags[fk], m.pkt[fk], m.pkt_len[fk],
					      arr[ai].t_ns);
			if (pr == 0)
				res->put_ok++;
			else if (pr == -EALREADY)
				res->put_dup++;
			else if (pr == -ETIME)
				res->put_late++;
			else if (pr == -ERANGE)
				res->put_far++;
			else
				res->put_other++;
		}
		tick(&m, jb, now);
	}
	voice_jb_stats(jb, end, &res->st);
	if (res->st.played != res->frames || res->st.fec != res->fec || res->st.inserted != res->inserted)
		violation(&m, "stats (%llu played, %llu fec, %llu inserted) differ from what was given",
			  (unsigned long long)res->st.played, (unsigned long long)res->st.fec,
			  (unsigned long long)res->st.inserted);
	if (res->delay_n)
		res->mean_delay_ms = (double)res->delay_sum_ns / (double)res->delay_n / 1e6;
	if (res->sent) {
		res->concealed_pct = 100.0 * (double)res->st.concealed / (double)res->sent;
		res->fec_pct = 100.0 * (double)res->st.fec / (double)res->sent;
	}
out:
	free(m.period_k);
	free(m.k_period);
	free(m.given);
	free(m.pkt);
	free(m.pkt_len);
	free(m.pkt_flags);
	free(arr);
	free(jb);
	return rc;
}
