#include "net/net_sl_pose.h"

#include <errno.h>
#include <string.h>

void net_pose_owners_init(struct net_pose_owners *o)
{
	o->n = 0;
}

static struct net_pose_owner *find(struct net_pose_owners *o, const uint8_t author[32])
{
	for (unsigned i = 0; i < o->n; i++)
		if (!memcmp(o->v[i].author, author, 32))
			return &o->v[i];
	return NULL;
}

static struct net_pose_owner *add(struct net_pose_owners *o, const uint8_t author[32])
{
	if (o->n == NET_POSE_OWNERS_MAX) {
		/* Full: a claim gives way to a proof (claims come back with the
		 * next pose; proofs would only come with the next entry). */
		unsigned i = 0;
		while (i < o->n && o->v[i].proven)
			i++;
		if (i == o->n)
			return NULL;
		o->v[i] = o->v[--o->n];
	}
	struct net_pose_owner *w = &o->v[o->n++];
	memcpy(w->author, author, 32);
	return w;
}

void net_pose_owners_prove(struct net_pose_owners *o, const uint8_t author[32], uint32_t owner)
{
	struct net_pose_owner *w = find(o, author);
	if (!w && !(w = add(o, author)))
		return;
	w->owner = owner;
	w->proven = true;
}

int net_pose_owners_check(struct net_pose_owners *o, const uint8_t author[32], uint32_t owner)
{
	struct net_pose_owner *w = find(o, author);
	if (w)
		return w->owner == owner ? 0 : -EPERM;
	unsigned claims = 0;
	for (unsigned i = 0; i < o->n; i++)
		claims += o->v[i].owner == owner && !o->v[i].proven;
	if (claims >= NET_POSE_CLAIMS_MAX || o->n == NET_POSE_OWNERS_MAX)
		return -ENOSPC;
	w = add(o, author);
	w->owner = owner;
	w->proven = false;
	return 0;
}

void net_pose_owners_release(struct net_pose_owners *o, uint32_t owner)
{
	for (unsigned i = 0; i < o->n;)
		if (o->v[i].owner == owner && !o->v[i].proven)
			o->v[i] = o->v[--o->n];
		else
			i++;
}
