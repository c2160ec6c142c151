#include "th_link.h"

#include "app/transport.h"
#include "link/link.h"

void th_link_step(struct link *l)
{
	struct app_transport *t = link_transport(l);
	app_transport_drain(t, NULL, th_now_ns());
	struct app_outgoing o = { 0 };
	app_transport_publish(t, &o, th_now_ns());
}
