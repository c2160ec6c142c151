/* proto/ipc: the voice messages (VOICE_STATE, VOICE_PCM, VOICE_OUT), their
 * channels (VOICE_PCM only on the client->daemon voice ring, VOICE_OUT only
 * on the daemon->client one, VOICE_STATE on the main ring), the flag masks,
 * SESSION_INFO's voice flags and WELCOME's voice ring fields. The generic
 * rules of every field kind are in test_ipc.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ipc.h"
#include "th_buf.h"
#include "th_ring.h"

#include <errno.h>
#include <string.h>

static uint8_t enc[PROTO_IPC_MAX_MSG];

static void voice_pcm_round_trips_a_chunk(void **state)
{
	(void)state;
	uint8_t pcm[PROTO_IPC_VOICE_PCM_BYTES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
		th_put_le16(pcm + 2 * i, (uint16_t)(int16_t)(i * 37 - 9000));
	struct proto_ipc_voice_pcm m = { .seq = 0xfffffffe, .t_ns = 123456789012345ull, .pcm = pcm,
					 .pcm_len = sizeof pcm },
				   d;
	int n = proto_ipc_encode_voice_pcm(&m, enc, sizeof enc);
	/* u32 seq, u64 t_ns, u32 length, the samples. */
	assert_int_equal(n, 4 + 8 + 4 + PROTO_IPC_VOICE_PCM_BYTES);
	assert_int_equal(n, PROTO_IPC_MAXSZ_VOICE_PCM);
	assert_int_equal(th_get_le32(enc), 0xfffffffe);
	assert_int_equal(th_get_le64(enc + 4), 123456789012345ull);
	assert_int_equal(th_get_le32(enc + 12), PROTO_IPC_VOICE_PCM_BYTES);
	assert_memory_equal(enc + 16, pcm, sizeof pcm);
	assert_int_equal(proto_ipc_decode_voice_pcm(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.seq, m.seq);
	assert_int_equal(d.t_ns, m.t_ns);
	assert_int_equal(d.pcm_len, sizeof pcm);
	assert_memory_equal(d.pcm, pcm, sizeof pcm);
	/* A chunk longer than 10 ms is refused both ways. */
	uint8_t big[PROTO_IPC_VOICE_PCM_BYTES + 2] = { 0 };
	m.pcm = big;
	m.pcm_len = sizeof big;
	assert_int_equal(proto_ipc_encode_voice_pcm(&m, enc, sizeof enc), -EINVAL);
	th_put_le32(enc + 12, PROTO_IPC_VOICE_PCM_BYTES + 2);
	const char *why = NULL;
	uint8_t raw[16 + sizeof big];
	memcpy(raw, enc, 16);
	memset(raw + 16, 0, sizeof big);
	assert_int_equal(proto_ipc_decode_voice_pcm(raw, sizeof raw, &d, &why), -EBADMSG);
	assert_string_equal(why, "pcm: blob too long");
}

static void voice_out_round_trips_a_stereo_chunk(void **state)
{
	(void)state;
	uint8_t pcm[PROTO_IPC_VOICE_OUT_BYTES];
	for (unsigned i = 0; i < sizeof pcm; i++)
		pcm[i] = (uint8_t)(i * 7);
	struct proto_ipc_voice_out m = { .seq = 7, .t_ns = 99, .pcm = pcm, .pcm_len = sizeof pcm }, d;
	int n = proto_ipc_encode_voice_out(&m, enc, sizeof enc);
	assert_int_equal(n, PROTO_IPC_MAXSZ_VOICE_OUT);
	assert_int_equal(proto_ipc_decode_voice_out(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.seq, 7);
	assert_int_equal(d.t_ns, 99);
	assert_memory_equal(d.pcm, pcm, sizeof pcm);
	/* Both fit one voice ring record, and the ring's geometry holds. */
	assert_true(PROTO_IPC_MAXSZ_VOICE_PCM <= PROTO_IPC_VOICE_MAX_RECORD);
	assert_true(PROTO_IPC_MAXSZ_VOICE_OUT <= PROTO_IPC_VOICE_MAX_RECORD);
	struct th_ring_geom g = { .capacity = PROTO_IPC_VOICE_RING_CAPACITY, .max_record = PROTO_IPC_VOICE_MAX_RECORD };
	assert_int_equal(th_ring_geom_check(&g), 0);
}

static void voice_messages_travel_only_on_their_rings(void **state)
{
	(void)state;
	/* Chunks: ephemeral, each on its own voice ring, never on the main ones. */
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_VOICE_PCM)->cls, PROTO_IPC_EPHEMERAL);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_PCM, PROTO_IPC_CHAN_VC2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_PCM, PROTO_IPC_CHAN_C2D), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_PCM, PROTO_IPC_CHAN_VD2C), -EPROTO);
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_VOICE_OUT)->cls, PROTO_IPC_EPHEMERAL);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_OUT, PROTO_IPC_CHAN_VD2C), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_OUT, PROTO_IPC_CHAN_D2C), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_OUT, PROTO_IPC_CHAN_VC2D), -EPROTO);
	/* The state: reliable, on the main client->daemon ring. */
	assert_int_equal(proto_ipc_desc(PROTO_IPC_T_VOICE_STATE)->cls, PROTO_IPC_RELIABLE);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_STATE, PROTO_IPC_CHAN_C2D), 0);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_STATE, PROTO_IPC_CHAN_VC2D), -EPROTO);
	assert_int_equal(proto_ipc_check_chan(PROTO_IPC_T_VOICE_STATE, PROTO_IPC_CHAN_D2C), -EPROTO);
	/* Nothing else is allowed on the voice rings. */
	for (size_t i = 0; i < proto_ipc_n_descs; i++) {
		uint16_t t = proto_ipc_descs[i].type;
		if (t != PROTO_IPC_T_VOICE_PCM)
			assert_int_equal(proto_ipc_check_chan(t, PROTO_IPC_CHAN_VC2D), -EPROTO);
		if (t != PROTO_IPC_T_VOICE_OUT)
			assert_int_equal(proto_ipc_check_chan(t, PROTO_IPC_CHAN_VD2C), -EPROTO);
	}
}

static void voice_state_flags_are_checked(void **state)
{
	(void)state;
	assert_int_equal(PROTO_IPC_VOICE_F_ALL,
			 PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED | PROTO_IPC_VOICE_F_PTT | PROTO_IPC_VOICE_F_TALK);
	for (uint32_t f = 0; f <= PROTO_IPC_VOICE_F_ALL; f++) {
		struct proto_ipc_voice_state m = { .flags = f }, d;
		int n = proto_ipc_encode_voice_state(&m, enc, sizeof enc);
		assert_int_equal(n, 4);
		assert_int_equal(proto_ipc_decode_voice_state(enc, 4, &d, NULL), 0);
		assert_int_equal(d.flags, f);
	}
	struct proto_ipc_voice_state bad = { .flags = 16 }, d = { .flags = 3 };
	assert_int_equal(proto_ipc_encode_voice_state(&bad, enc, sizeof enc), -EINVAL);
	th_put_le32(enc, 16);
	const char *why = NULL;
	assert_int_equal(proto_ipc_decode_voice_state(enc, 4, &d, &why), -EBADMSG);
	assert_string_equal(why, "flags: unknown flag bits");
	assert_int_equal(d.flags, 3); /* untouched on failure */
}

static void session_info_carries_voice_flags(void **state)
{
	(void)state;
	assert_int_equal(PROTO_IPC_VINFO_F_ALL, PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_MUTED |
							PROTO_IPC_VINFO_F_ADMIN_MUTED | PROTO_IPC_VINFO_F_SENDING);
	struct proto_ipc_session_info m = { .session = 5, .host = PROTO_IPC_SINFO_HOST_LOCAL, .speaking = 2,
					    .voice = PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_SENDING },
				      d;
	strcpy(m.name, "studio");
	strcpy(m.speakers, "alice\nbob");
	int n = proto_ipc_encode_session_info(&m, enc, sizeof enc);
	assert_true(n > 4);
	/* The flags are the last field. */
	assert_int_equal(th_get_le32(enc + n - 4), PROTO_IPC_VINFO_F_ON | PROTO_IPC_VINFO_F_SENDING);
	assert_int_equal(proto_ipc_decode_session_info(enc, (size_t)n, &d, NULL), 0);
	assert_int_equal(d.voice, m.voice);
	assert_string_equal(d.speakers, "alice\nbob");
	th_put_le32(enc + n - 4, PROTO_IPC_VINFO_F_ALL + 1);
	assert_int_equal(proto_ipc_decode_session_info(enc, (size_t)n, &d, NULL), -EBADMSG);
	m.voice = 16;
	assert_int_equal(proto_ipc_encode_session_info(&m, enc, sizeof enc), -EINVAL);
}

static void welcome_carries_the_voice_rings(void **state)
{
	(void)state;
	struct proto_ipc_welcome w = { .client_id = 1, .shm_size = 1 << 20, .c2d_capacity = 4096,
				       .n_fds = PROTO_IPC_WELCOME_FDS, .vc2d_offset = 0x80000,
				       .vc2d_capacity = PROTO_IPC_VOICE_RING_CAPACITY,
				       .vc2d_max_record = PROTO_IPC_VOICE_MAX_RECORD, .vd2c_offset = 0x91000,
				       .vd2c_capacity = PROTO_IPC_VOICE_RING_CAPACITY,
				       .vd2c_max_record = PROTO_IPC_VOICE_MAX_RECORD },
				 d;
	uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
	int n = proto_ipc_sock_encode(PROTO_IPC_T_WELCOME, &w, b, sizeof b);
	assert_int_equal(n, PROTO_IPC_SOCK_HDR + PROTO_IPC_MAXSZ_WELCOME);
	assert_int_equal(PROTO_IPC_MAXSZ_WELCOME, 8 + 4 + 8 + 6 * 4 + 4 + 6 * 4);
	struct proto_ipc_sock_hdr h;
	union proto_ipc_any m;
	assert_int_equal(proto_ipc_sock_decode(b, (size_t)n, PROTO_IPC_CHAN_SOCK_D2C, &h, &m, NULL), 0);
	d = m.welcome;
	assert_int_equal(d.vc2d_offset, 0x80000);
	assert_int_equal(d.vc2d_capacity, PROTO_IPC_VOICE_RING_CAPACITY);
	assert_int_equal(d.vc2d_max_record, PROTO_IPC_VOICE_MAX_RECORD);
	assert_int_equal(d.vd2c_offset, 0x91000);
	assert_int_equal(d.vd2c_capacity, PROTO_IPC_VOICE_RING_CAPACITY);
	assert_int_equal(d.vd2c_max_record, PROTO_IPC_VOICE_MAX_RECORD);
	/* Still three descriptors: the voice rings share the memfd and the doorbells. */
	assert_int_equal(PROTO_IPC_WELCOME_FDS, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(voice_pcm_round_trips_a_chunk),
		cmocka_unit_test(voice_out_round_trips_a_stereo_chunk),
		cmocka_unit_test(voice_messages_travel_only_on_their_rings),
		cmocka_unit_test(voice_state_flags_are_checked),
		cmocka_unit_test(session_info_carries_voice_flags),
		cmocka_unit_test(welcome_carries_the_voice_rings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
