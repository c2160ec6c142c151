/* A member's side of presence (pres.h): its local users, coded to the host
 * every tick, and the host's frames decoded (thetad/pres/README.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pres/pres_int.h"

struct pres_luser {
	bool used;
	struct proto_pres_user u;
	uint64_t ver, ver_t; /* stamps of its last change, of its last newer t_ns */
};

struct pres_link {
	uint64_t period_ns, next_ns, ticks;
	uint64_t stamp;
	struct pres_luser users[PROTO_PRES_USERS_MAX];
	struct pres_chan ch;
	struct pres_stats st;
	struct pres_cand cand[PROTO_PRES_USERS_MAX];
	uint16_t cand_slot[PROTO_PRES_USERS_MAX];
	struct proto_pres_user out_users[PROTO_PRES_USERS_MAX];
	uint8_t out_gone[PRES_GONE_PER_FRAME][PROTO_PRES_KEY_LEN];
};

int pres_link_new(const struct pres_config *c, struct pres_link **out)
{
	if (pres_config_check(c))
		return -EINVAL;
	struct pres_link *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	int rc = pres_chan_init(&l->ch);
	if (rc < 0) {
		free(l);
		return rc;
	}
	l->period_ns = 1000000000ull / c->tick_hz;
	*out = l;
	return 0;
}

void pres_link_free(struct pres_link **pl)
{
	struct pres_link *l = *pl;
	if (!l)
		return;
	pres_chan_fini(&l->ch);
	free(l);
	*pl = NULL;
}

static int find(const struct pres_link *l, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++)
		if (l->users[i].used && !memcmp(l->users[i].u.key, key, PROTO_PRES_KEY_LEN))
			return (int)i;
	return -1;
}

int pres_link_local(struct pres_link *l, const struct proto_pres_user *u, uint64_t now_ns)
{
	(void)now_ns;
	int rc = pres_user_check(u);
	if (rc < 0)
		return rc;
	int i = find(l, u->key);
	if (i < 0) {
		for (unsigned k = 0; k < PROTO_PRES_USERS_MAX && i < 0; k++)
			if (!l->users[k].used)
				i = (int)k;
		if (i < 0)
			return -ENOSPC;
		struct pres_luser *x = &l->users[i];
		memset(x, 0, sizeof *x);
		x->used = true;
		memcpy(x->u.key, u->key, PROTO_PRES_KEY_LEN);
		pres_chan_slot_reset(&l->ch, (unsigned)i);
		pres_chan_gone_drop(&l->ch, u->key);
	}
	struct pres_luser *x = &l->users[i];
	if (u->t_ns < x->u.t_ns)
		return 0;
	bool newer_t = u->t_ns > x->u.t_ns;
	uint32_t ch = pres_user_merge(&x->u, u);
	if (ch || newer_t) {
		uint64_t s = ++l->stamp;
		if (ch)
			x->ver = s;
		if (newer_t)
			x->ver_t = s;
	}
	l->st.updates_in++;
	return 0;
}

void pres_link_local_gone(struct pres_link *l, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	int i = find(l, key);
	if (i < 0)
		return;
	if (l->ch.known[i])
		pres_chan_gone_add(&l->ch, key);
	pres_chan_slot_reset(&l->ch, (unsigned)i);
	l->users[i].used = false;
}

uint64_t pres_link_next(const struct pres_link *l)
{
	return l->next_ns;
}

int pres_link_tick(struct pres_link *l, uint64_t now_ns, uint8_t *out, size_t cap)
{
	if (now_ns < l->next_ns)
		return 0;
	l->next_ns = (l->next_ns && now_ns - l->next_ns < l->period_ns) ? l->next_ns + l->period_ns
									  : now_ns + l->period_ns;
	l->ticks++;
	l->st.ticks++;
	struct pres_chan *ch = &l->ch;
	unsigned nc = 0;
	for (unsigned i = 0; i < PROTO_PRES_USERS_MAX; i++) {
		const struct pres_luser *x = &l->users[i];
		if (!x->used)
			continue;
		bool changed = x->ver > ch->acked[i];
		bool refresh = x->ver_t > ch->acked[i] && now_ns - ch->last_sent_ns[i] >= PRES_REFRESH_NS;
		if (!changed && !refresh)
			continue;
		if (changed)
			l->st.considered++;
		l->cand[nc++] = (struct pres_cand){
			.slot = (uint16_t)i, .changed = changed, .last_tick = ch->last_sent_tick[i]
		};
	}
	unsigned ng = pres_chan_gone_count(ch);
	if (!nc && !ng && !ch->rx_content)
		return 0;
	pres_cand_sort(l->cand, nc);
	for (unsigned k = 0; k < nc; k++)
		l->out_users[k] = l->users[l->cand[k].slot].u;
	for (unsigned g = 0; g < ng; g++)
		memcpy(l->out_gone[g], ch->gone[g].key, PROTO_PRES_KEY_LEN);
	unsigned taken = 0;
	struct proto_pres_stats cs0, cs1;
	proto_pres_tx_stats(ch->tx, &cs0);
	int len = proto_pres_encode(ch->tx, now_ns, l->out_users, nc, (const uint8_t(*)[PROTO_PRES_KEY_LEN])l->out_gone,
				    ng, proto_pres_rx_ack(ch->rx), out, cap, &taken);
	if (len <= 0)
		return len < 0 ? len : -EIO;
	if (taken > nc)
		taken = nc;
	proto_pres_tx_stats(ch->tx, &cs1);
	for (unsigned k = 0; k < taken; k++) {
		l->cand_slot[k] = l->cand[k].slot;
	}
	pres_chan_sent(ch, ch->seq + 1, l->stamp, l->cand_slot, taken, ng, l->ticks, now_ns);
	l->st.records_out += cs1.records - cs0.records;
	l->st.poses_out += cs1.poses - cs0.poses;
	l->st.frames_out++;
	l->st.bytes_out += (uint64_t)len;
	return len;
}

int pres_link_on_frame(struct pres_link *l, const uint8_t *p, size_t len, struct proto_pres_frame *f)
{
	int e = proto_pres_decode(l->ch.rx, p, len, f);
	if (e < 0) {
		if (e != -EALREADY) /* a duplicate or a late one (datagrams reorder) is no fault */
			l->st.refused_in++;
		return e;
	}
	l->st.frames_in++;
	l->st.bytes_in += len;
	pres_chan_on_ack(&l->ch, f->ack);
	if (f->n || f->n_gone)
		l->ch.rx_content = true;
	return 0;
}

void pres_link_stats(const struct pres_link *l, struct pres_stats *st)
{
	*st = l->st;
}
