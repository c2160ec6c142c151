#include "net/net_chan.h"

#define NET_NS_PER_S 1000000000ull

void net_rate_init(struct net_rate *r, uint32_t per_s, uint32_t burst)
{
	*r = (struct net_rate){ 0 };
	if (!per_s)
		return;
	r->interval_ns = NET_NS_PER_S / per_s;
	if (!r->interval_ns)
		r->interval_ns = 1;
	r->tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * r->interval_ns;
}

bool net_rate_take(struct net_rate *r, uint64_t now_ns)
{
	if (!r->interval_ns)
		return true;
	uint64_t tat = r->tat_ns > now_ns ? r->tat_ns : now_ns;
	if (tat - now_ns > r->tolerance_ns)
		return false;
	r->tat_ns = tat + r->interval_ns;
	return true;
}
