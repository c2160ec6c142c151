/* A session's speaker table and the host's checks of a member's voice
 * frame (net_voice.h). No I/O. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net/net_voice.h"

void net_voice_sess_init(struct net_voice_sess *v, const char *id)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
}

struct net_voice_speaker *net_voice_find(struct net_voice_sess *v, const uint8_t key[PROTO_SESS_KEY_LEN])
{
	for (unsigned i = 0; i < v->n; i++)
		if (!memcmp(v->sp[i].key, key, PROTO_SESS_KEY_LEN))
			return &v->sp[i];
	return NULL;
}

bool net_voice_peer_muted(const struct net_voice_sess *v, uint32_t peer)
{
	for (unsigned i = 0; i < v->n_muted_peers; i++)
		if (v->muted_peers[i] == peer)
			return true;
	return false;
}

struct net_voice_speaker *net_voice_add(struct net_voice_sess *v, const uint8_t key[PROTO_SESS_KEY_LEN],
					uint32_t owner, uint64_t now_ns, bool *new_muted)
{
	*new_muted = false;
	struct net_voice_speaker *sp = net_voice_find(v, key);
	if (sp) {
		if (sp->owner != owner && owner != NET_VOICE_OWNER_NONE) {
			/* Ownership moved (an entry proved it elsewhere): a whole-member
			 * mute follows the new owner. */
			sp->owner = owner;
			if (!sp->muted && net_voice_peer_muted(v, owner))
				sp->muted = *new_muted = true;
		}
		return sp;
	}
	if (v->n < NET_VOICE_SPEAKERS_MAX) {
		sp = &v->sp[v->n++];
	} else {
		for (unsigned i = 0; i < v->n; i++)
			if (!v->sp[i].muted && (!sp || v->sp[i].last_ns < sp->last_ns))
				sp = &v->sp[i];
		if (!sp)
			return NULL;
	}
	memset(sp, 0, sizeof(*sp));
	memcpy(sp->key, key, PROTO_SESS_KEY_LEN);
	sp->owner = owner;
	sp->last_ns = now_ns;
	net_rate_init(&sp->rate, NET_VOICE_SPEAKER_RATE_PER_S, NET_VOICE_SPEAKER_BURST);
	net_rate_init(&sp->name_rate, NET_VOICE_NAME_RATE_PER_S, NET_VOICE_NAME_BURST);
	if (owner != NET_VOICE_OWNER_NONE && owner != NET_POSE_OWNER_LOCAL && net_voice_peer_muted(v, owner))
		sp->muted = *new_muted = true;
	return sp;
}

enum net_voice_verdict net_voice_host_take(struct net_voice_sess *v, struct net_pose_owners *o,
					   const uint8_t key[PROTO_SESS_KEY_LEN], uint32_t from, uint64_t now_ns)
{
	if (net_pose_owners_check(o, key, from) < 0)
		return NET_VOICE_NOT_OWNER;
	bool new_muted;
	struct net_voice_speaker *sp = net_voice_add(v, key, from, now_ns, &new_muted);
	if (!sp)
		return NET_VOICE_FULL;
	sp->last_ns = now_ns;
	if (sp->muted || net_voice_peer_muted(v, from)) {
		sp->dropped++;
		return NET_VOICE_MUTED;
	}
	if (!net_rate_take(&sp->rate, now_ns)) {
		sp->dropped++;
		return NET_VOICE_OVER_RATE;
	}
	sp->frames++;
	return NET_VOICE_OK;
}

bool net_voice_host_rename_ok(struct net_voice_speaker *sp, uint64_t now_ns)
{
	return net_rate_take(&sp->name_rate, now_ns);
}

int net_voice_host_may_name(struct net_pose_owners *o, const uint8_t key[PROTO_SESS_KEY_LEN], uint32_t from)
{
	return net_pose_owners_check(o, key, from);
}

int net_voice_mute_peer(struct net_voice_sess *v, uint32_t peer, bool muted)
{
	for (unsigned i = 0; i < v->n_muted_peers; i++)
		if (v->muted_peers[i] == peer) {
			if (muted)
				return 0;
			v->muted_peers[i] = v->muted_peers[--v->n_muted_peers];
			return 1;
		}
	if (!muted)
		return 0;
	if (v->n_muted_peers >= NET_VOICE_MUTED_PEERS_MAX)
		return -ENOSPC;
	v->muted_peers[v->n_muted_peers++] = peer;
	return 1;
}

unsigned net_voice_by_name(struct net_voice_sess *v, const char *name, struct net_voice_speaker **out)
{
	unsigned hits = 0;
	*out = NULL;
	for (unsigned i = 0; i < v->n; i++)
		if (v->sp[i].name[0] && !strcmp(v->sp[i].name, name)) {
			if (!hits)
				*out = &v->sp[i];
			hits++;
		}
	return hits;
}

unsigned net_voice_loss_pct(double rt_loss)
{
	if (!(rt_loss > 0)) /* NaN too */
		return 0;
	/* A ping is lost if either direction lost it: 1 - p = (1 - q)^2. */
	double one_way = rt_loss >= 1 ? 1 : 1 - sqrt(1 - rt_loss);
	unsigned pct = (unsigned)ceil(one_way * 100 - 1e-9);
	return pct > 100 ? 100 : pct;
}
