/* The link's voice rings (docs/ipc.md "Voice rings"): 10 ms PCM chunks
 * between the client's audio threads and the daemon, in a second ring pair
 * of the same memfd. link_voice_send / link_voice_recv run on the audio
 * threads; the frame loop maps and unmaps the rings. Both sides take
 * l->vlock, so an audio thread is never inside a ring whose mapping is
 * going away, and a chunk never lands in a mapping of an old connection.
 * VOICE_STATE (main ring, reliable) is kept and sent after every welcome. */
#include "link/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "th_buf.h"
#include "th_err.h"

_Static_assert(PROTO_IPC_VOICE_PCM_BYTES == PROTO_IPC_VOICE_SAMPLES * 2, "mono s16 chunk");
_Static_assert(PROTO_IPC_VOICE_OUT_BYTES == PROTO_IPC_VOICE_SAMPLES * 4, "stereo s16 chunk");

/* voice_fault values: why an audio thread gave up on the voice rings. */
enum { LINK_VFAULT_NONE, LINK_VFAULT_PROTOCOL, LINK_VFAULT_DOORBELL };

/* Two regions [a, a + na) and [b, b + nb) share a byte. */
static bool overlap(uint64_t a, uint64_t na, uint64_t b, uint64_t nb)
{
	return a < b + nb && b < a + na;
}

int link_voice_attach(struct link *l, const struct proto_ipc_welcome *w)
{
	struct th_ring_geom gvc, gvd;
	int r;
	if ((r = link_check_ring(l, "client->daemon voice", w->vc2d_offset, w->vc2d_capacity, w->vc2d_max_record,
				 &gvc)) < 0 ||
	    (r = link_check_ring(l, "daemon->client voice", w->vd2c_offset, w->vd2c_capacity, w->vd2c_max_record,
				 &gvd)) < 0)
		return r;
	/* The main rings were checked already; all four must be disjoint. */
	struct th_ring_geom gc = { .capacity = w->c2d_capacity, .max_record = w->c2d_max_record };
	struct th_ring_geom gd = { .capacity = w->d2c_capacity, .max_record = w->d2c_max_record };
	const uint64_t off[4] = { w->c2d_offset, w->d2c_offset, w->vc2d_offset, w->vd2c_offset };
	const uint64_t len[4] = { th_ring_region_size(&gc), th_ring_region_size(&gd), th_ring_region_size(&gvc),
				  th_ring_region_size(&gvd) };
	for (int i = 2; i < 4; i++) {
		for (int j = 0; j < i; j++) {
			if (overlap(off[i], len[i], off[j], len[j])) {
				snprintf(l->error, sizeof l->error, "welcome: the %s voice ring overlaps another ring",
					 i == 2 ? "client->daemon" : "daemon->client");
				return -EPROTO;
			}
		}
	}
	if (gvc.max_record < PROTO_IPC_MAXSZ_VOICE_PCM || gvd.max_record > sizeof l->vrec) {
		snprintf(l->error, sizeof l->error,
			 "welcome: voice record limits %" PRIu32 "/%" PRIu32 " do not fit the protocol (%u)",
			 gvc.max_record, gvd.max_record, (unsigned)PROTO_IPC_VOICE_MAX_RECORD);
		return -EPROTO;
	}
	uint8_t *base = l->shm.base;
	pthread_mutex_lock(&l->vlock);
	/* Our chunks ring the daemon's c2d doorbell (it sleeps on it for both
	 * of its rings); the playback thread polls the daemon's chunks and
	 * never sleeps on that ring, so it has no doorbell (its sleep epoch
	 * stays even). */
	r = th_ring_prod_init(&l->vout, base + w->vc2d_offset, len[2], &gvc, l->bell_c2d);
	if (r == 0)
		r = th_ring_cons_init(&l->vin, base + w->vd2c_offset, len[3], &gvd, -1);
	if (r == 0) {
		l->voice_on = true;
		l->vst.maps++;
	}
	__atomic_store_n(&l->voice_fault, LINK_VFAULT_NONE, __ATOMIC_RELAXED); /* a fault of an old mapping */
	pthread_mutex_unlock(&l->vlock);
	if (r < 0) {
		snprintf(l->error, sizeof l->error, "welcome: cannot attach the voice rings: %s", th_strerror(r));
		return -EPROTO;
	}
	return 0;
}

void link_voice_detach(struct link *l)
{
	pthread_mutex_lock(&l->vlock);
	l->voice_on = false;
	memset(&l->vout, 0, sizeof l->vout);
	memset(&l->vin, 0, sizeof l->vin);
	pthread_mutex_unlock(&l->vlock);
}

/* Under vlock: the rings are unusable until the next welcome; the frame
 * loop drops the connection on its next poll. */
static void voice_fault(struct link *l, int why)
{
	l->voice_on = false;
	if (why == LINK_VFAULT_PROTOCOL)
		l->vst.violations++;
	__atomic_store_n(&l->voice_fault, why, __ATOMIC_RELEASE);
}

void link_voice_poll(struct link *l, uint64_t now_ns)
{
	int why = __atomic_exchange_n(&l->voice_fault, LINK_VFAULT_NONE, __ATOMIC_ACQUIRE);
	if (why == LINK_VFAULT_PROTOCOL)
		link_lose(l, now_ns, true, "thetad broke the protocol (a voice ring or chunk); reconnecting");
	else if (why == LINK_VFAULT_DOORBELL)
		link_lose(l, now_ns, false, "cannot ring thetad's doorbell for a voice chunk; reconnecting");
}

int link_voice_send(struct link *l, uint32_t seq, uint64_t t_ns, const int16_t pcm[480])
{
	uint8_t le[PROTO_IPC_VOICE_PCM_BYTES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
		th_put_le16(le + 2 * i, (uint16_t)pcm[i]);
	struct proto_ipc_voice_pcm m = { .seq = seq, .t_ns = t_ns, .pcm = le, .pcm_len = sizeof le };
	int r;
	pthread_mutex_lock(&l->vlock);
	if (!l->voice_on) {
		l->vst.not_conn++;
		r = -ENOTCONN;
		goto out;
	}
	int n = proto_ipc_encode_voice_pcm(&m, l->venc, sizeof l->venc);
	if (n < 0) { /* cannot happen: a fixed-size chunk */
		r = n;
		goto out;
	}
	r = th_ring_send(&l->vout, PROTO_IPC_T_VOICE_PCM, l->venc, (uint32_t)n);
	if (r == -EAGAIN) {
		th_ring_note_drop(&l->vout);
		l->vst.drops++;
		r = -ENOBUFS;
		goto out;
	}
	if (r < 0) { /* -TH_ECORRUPT: the daemon broke the ring's tail */
		voice_fault(l, LINK_VFAULT_PROTOCOL);
		r = -ENOTCONN;
		goto out;
	}
	if (th_ring_flush(&l->vout) < 0) {
		voice_fault(l, LINK_VFAULT_DOORBELL);
		r = -ENOTCONN;
		goto out;
	}
	l->vst.sent++;
	r = 0;
out:
	pthread_mutex_unlock(&l->vlock);
	return r;
}

int link_voice_recv(struct link *l, int16_t stereo[960], uint64_t *t_ns)
{
	int r;
	pthread_mutex_lock(&l->vlock);
	if (!l->voice_on) {
		r = -ENOTCONN;
		goto out;
	}
	struct th_ring_rec rec;
	r = th_ring_pop(&l->vin, &rec, l->vrec, sizeof l->vrec);
	if (r == 0)
		goto out;
	struct proto_ipc_voice_out m;
	if (r < 0 || proto_ipc_check_chan(rec.type, PROTO_IPC_CHAN_VD2C) < 0 ||
	    proto_ipc_decode_voice_out(l->vrec, rec.len, &m, NULL) < 0 || m.pcm_len != PROTO_IPC_VOICE_OUT_BYTES) {
		voice_fault(l, LINK_VFAULT_PROTOCOL);
		r = -ENOTCONN;
		goto out;
	}
	for (unsigned i = 0; i < 2 * PROTO_IPC_VOICE_SAMPLES; i++)
		stereo[i] = (int16_t)th_get_le16(m.pcm + 2 * i);
	if (t_ns)
		*t_ns = m.t_ns;
	l->vst.received++;
	r = 1;
out:
	pthread_mutex_unlock(&l->vlock);
	return r;
}

int link_set_voice(struct link *l, uint32_t flags, uint64_t now_ns)
{
	if (flags & ~(uint32_t)PROTO_IPC_VOICE_F_ALL)
		return -EINVAL;
	if (l->voice_set && l->voice_flags == flags)
		return 0;
	l->voice_flags = flags;
	l->voice_set = true;
	l->voice_pending = true;
	link_io_pump(l, now_ns); /* not connected: the next welcome sends it */
	return 0;
}

int link_voice_pump(struct link *l, uint64_t now_ns)
{
	if (!l->voice_pending)
		return 0;
	struct proto_ipc_voice_state m = { .flags = l->voice_flags };
	int r = link_io_send(l, PROTO_IPC_T_VOICE_STATE, &m, now_ns);
	if (r == 0) {
		l->voice_pending = false;
		pthread_mutex_lock(&l->vlock);
		l->vst.states_sent++;
		pthread_mutex_unlock(&l->vlock);
	}
	return r;
}

void link_voice_stats(struct link *l, struct link_voice_stats *out)
{
	pthread_mutex_lock(&l->vlock);
	*out = l->vst;
	pthread_mutex_unlock(&l->vlock);
}
