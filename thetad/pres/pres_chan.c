/* A sending channel's record of what it sent and what the peer
 * acknowledged, shared by pres_relay.c and pres_link.c (pres_int.h). */
#include <stdlib.h>
#include <string.h>

#include "pres/pres_int.h"

int pres_chan_init(struct pres_chan *ch)
{
	memset(ch, 0, sizeof *ch);
	int rc = proto_pres_tx_new(&ch->tx);
	if (rc < 0)
		return rc;
	/* only the users offered: the relay and the link re-offer each until acked, at its rate */
	proto_pres_tx_set_resend(ch->tx, false);
	rc = proto_pres_rx_new(&ch->rx);
	if (rc < 0) {
		proto_pres_tx_free(&ch->tx);
		return rc;
	}
	return 0;
}

void pres_chan_fini(struct pres_chan *ch)
{
	proto_pres_tx_free(&ch->tx);
	proto_pres_rx_free(&ch->rx);
}

void pres_chan_reset_acked(struct pres_chan *ch)
{
	memset(ch->acked, 0, sizeof ch->acked);
	for (unsigned i = 0; i < PROTO_PRES_HISTORY; i++)
		memset(ch->hist[i].slots, 0, sizeof ch->hist[i].slots);
}

void pres_chan_slot_reset(struct pres_chan *ch, unsigned s)
{
	ch->acked[s] = 0;
	ch->last_sent_ns[s] = 0;
	ch->last_sent_tick[s] = 0;
	ch->known[s] = false;
	ch->pending[s] = false;
	for (unsigned i = 0; i < PROTO_PRES_HISTORY; i++)
		ch->hist[i].slots[s / 64] &= ~(1ull << (s % 64));
}

void pres_chan_on_ack(struct pres_chan *ch, uint64_t seq)
{
	/* an ack of a frame not coded yet is a peer's error: ignored */
	if (seq == 0 || seq > ch->seq || seq <= ch->acked_seq)
		return;
	ch->acked_seq = seq;
	proto_pres_tx_on_ack(ch->tx, seq);
	const struct pres_sent *h = &ch->hist[seq % PROTO_PRES_HISTORY];
	if (h->seq == seq)
		for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++)
			if ((h->slots[s / 64] >> (s % 64)) & 1u)
				if (ch->acked[s] < h->stamp)
					ch->acked[s] = h->stamp;
	unsigned keep = 0;
	for (unsigned i = 0; i < ch->n_gone; i++)
		if (!ch->gone[i].first_seq || ch->gone[i].first_seq > seq)
			ch->gone[keep++] = ch->gone[i];
	ch->n_gone = keep;
}

void pres_chan_gone_add(struct pres_chan *ch, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	for (unsigned i = 0; i < ch->n_gone; i++)
		if (!memcmp(ch->gone[i].key, key, PROTO_PRES_KEY_LEN))
			return;
	if (ch->n_gone == PROTO_PRES_USERS_MAX) {
		memmove(&ch->gone[0], &ch->gone[1], (ch->n_gone - 1) * sizeof ch->gone[0]);
		ch->n_gone--;
	}
	memcpy(ch->gone[ch->n_gone].key, key, PROTO_PRES_KEY_LEN);
	ch->gone[ch->n_gone].first_seq = 0;
	ch->n_gone++;
}

void pres_chan_gone_drop(struct pres_chan *ch, const uint8_t key[PROTO_PRES_KEY_LEN])
{
	for (unsigned i = 0; i < ch->n_gone; i++)
		if (!memcmp(ch->gone[i].key, key, PROTO_PRES_KEY_LEN)) {
			memmove(&ch->gone[i], &ch->gone[i + 1], (ch->n_gone - i - 1) * sizeof ch->gone[0]);
			ch->n_gone--;
			return;
		}
}

unsigned pres_chan_gone_count(const struct pres_chan *ch)
{
	return ch->n_gone < PRES_GONE_PER_FRAME ? ch->n_gone : PRES_GONE_PER_FRAME;
}

void pres_chan_sent(struct pres_chan *ch, uint64_t seq, uint64_t stamp, const uint16_t *slots, unsigned n,
		    unsigned n_gone, uint64_t tick, uint64_t now_ns)
{
	ch->seq = seq;
	ch->rx_content = false;
	struct pres_sent *h = &ch->hist[seq % PROTO_PRES_HISTORY];
	h->seq = seq;
	h->stamp = stamp;
	memset(h->slots, 0, sizeof h->slots);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = slots[i];
		h->slots[s / 64] |= 1ull << (s % 64);
		ch->last_sent_ns[s] = now_ns;
		ch->last_sent_tick[s] = tick;
		ch->known[s] = true;
		ch->pending[s] = false;
	}
	for (unsigned i = 0; i < n_gone && i < ch->n_gone; i++)
		if (!ch->gone[i].first_seq)
			ch->gone[i].first_seq = seq;
}

static int cand_cmp(const void *pa, const void *pb)
{
	const struct pres_cand *a = pa, *b = pb;
	if (a->last_tick != b->last_tick)
		return a->last_tick < b->last_tick ? -1 : 1;
	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

void pres_cand_sort(struct pres_cand *c, unsigned n)
{
	qsort(c, n, sizeof *c, cand_cmp);
}
