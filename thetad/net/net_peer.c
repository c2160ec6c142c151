#include "net/net_peer.h"

#include "session.h"

void net_hb_init(struct net_hb *h, uint64_t interval_ns, uint64_t lost_after_ns, uint64_t now_ns)
{
	*h = (struct net_hb){
		.interval_ns = interval_ns ? interval_ns : NET_HB_INTERVAL_DEFAULT_NS,
		.lost_after_ns = lost_after_ns ? lost_after_ns : NET_HB_LOST_DEFAULT_NS,
		.next_ping_ns = now_ns + (interval_ns ? interval_ns : NET_HB_INTERVAL_DEFAULT_NS),
		.last_rx_ns = now_ns,
	};
}

bool net_hb_ping_due(struct net_hb *h, uint64_t now_ns, uint64_t *seq)
{
	if (now_ns < h->next_ping_ns)
		return false;
	h->seq++;
	h->pings++;
	h->sent_ns[h->seq % NET_HB_WINDOW] = now_ns;
	h->answered[h->seq % NET_HB_WINDOW] = false;
	/* Keep the cadence; after a stall, start again from now. */
	h->next_ping_ns += h->interval_ns;
	if (h->next_ping_ns <= now_ns)
		h->next_ping_ns = now_ns + h->interval_ns;
	*seq = h->seq;
	return true;
}

void net_hb_on_rx(struct net_hb *h, uint64_t now_ns)
{
	if (now_ns > h->last_rx_ns)
		h->last_rx_ns = now_ns;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

bool net_hb_on_pong(struct net_hb *h, uint64_t seq, uint64_t echo_t_ns, uint64_t now_ns)
{
	net_hb_on_rx(h, now_ns);
	if (seq == 0 || seq > h->seq || h->seq - seq >= NET_HB_WINDOW)
		return false;
	unsigned k = (unsigned)(seq % NET_HB_WINDOW);
	/* The echo must be what we sent: a peer cannot invent samples. */
	if (h->answered[k] || h->sent_ns[k] != echo_t_ns || now_ns < echo_t_ns)
		return false;
	h->answered[k] = true;
	h->pongs++;
	uint64_t rtt = now_ns - echo_t_ns;
	if (h->samples == 0) {
		h->srtt_ns = rtt;
		h->rttvar_ns = rtt / 2;
		h->min_rtt_ns = rtt;
	} else {
		h->rttvar_ns = (3 * h->rttvar_ns + absdiff(h->srtt_ns, rtt)) / 4;
		h->srtt_ns = (7 * h->srtt_ns + rtt) / 8;
		/* RFC 3550 A.8: J += (|D| - J) / 16 */
		uint64_t d = absdiff(rtt, h->last_rtt_ns);
		if (d > h->jitter_ns)
			h->jitter_ns += (d - h->jitter_ns) / 16;
		else
			h->jitter_ns -= (h->jitter_ns - d) / 16;
		if (rtt < h->min_rtt_ns)
			h->min_rtt_ns = rtt;
	}
	h->last_rtt_ns = rtt;
	h->samples++;
	return true;
}

bool net_hb_lost(const struct net_hb *h, uint64_t now_ns)
{
	return now_ns >= h->last_rx_ns && now_ns - h->last_rx_ns >= h->lost_after_ns;
}

uint64_t net_hb_next(const struct net_hb *h)
{
	uint64_t lost = h->last_rx_ns + h->lost_after_ns;
	return h->next_ping_ns < lost ? h->next_ping_ns : lost;
}

double net_hb_loss(const struct net_hb *h, uint64_t now_ns)
{
	uint64_t grace = 3 * h->srtt_ns;
	if (grace < NET_HB_GRACE_MIN_NS)
		grace = NET_HB_GRACE_MIN_NS;
	unsigned judged = 0, lost = 0;
	for (uint64_t s = h->seq; s >= 1 && h->seq - s < NET_HB_WINDOW; s--) {
		unsigned k = (unsigned)(s % NET_HB_WINDOW);
		if (h->answered[k]) {
			judged++;
		} else if (now_ns >= h->sent_ns[k] && now_ns - h->sent_ns[k] >= grace) {
			judged++;
			lost++;
		}
	}
	return judged ? (double)lost / judged : 0.0;
}

void net_backoff_init(struct net_backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t now_ns)
{
	*b = (struct net_backoff){
		.min_ns = min_ns ? min_ns : NET_BACKOFF_MIN_DEFAULT_NS,
		.max_ns = max_ns ? max_ns : NET_BACKOFF_MAX_DEFAULT_NS,
		.next_ns = now_ns,
	};
	if (b->max_ns < b->min_ns)
		b->max_ns = b->min_ns;
	b->cur_ns = b->min_ns;
}

uint64_t net_backoff_fail(struct net_backoff *b, uint64_t now_ns, uint32_t rand32)
{
	uint64_t d = b->cur_ns;
	uint64_t half = d / 2;
	b->next_ns = now_ns + half + (uint64_t)(((unsigned __int128)(d - half) * rand32) >> 32);
	b->cur_ns = d >= b->max_ns / 2 ? b->max_ns : d * 2;
	b->failures++;
	return b->next_ns;
}

void net_backoff_reset(struct net_backoff *b)
{
	b->cur_ns = b->min_ns;
	b->failures = 0;
}

bool net_peer_end_permanent(uint64_t app_code)
{
	switch (app_code) {
	case PROTO_SESS_ERR_WRONG_FINGERPRINT:
	case PROTO_SESS_ERR_BAD_TOKEN:
	case PROTO_SESS_ERR_TOKEN_EXPIRED:
	case PROTO_SESS_ERR_TOKEN_REUSED:
	case PROTO_SESS_ERR_TOKEN_REVOKED:
	case PROTO_SESS_ERR_VERSION:
	case PROTO_SESS_ERR_SCHEMA:
	case PROTO_SESS_ERR_BAD_SIGNATURE:
	case PROTO_SESS_ERR_NOT_AUTHORIZED:
	case PROTO_SESS_ERR_KICKED:
	case PROTO_SESS_ERR_NO_SESSION:
	case PROTO_SESS_ERR_HOST_ENDED:
		return true;
	default:
		return false;
	}
}
