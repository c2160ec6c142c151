/* common/th_schema.c: descriptors, ids, canonical encoding, schema hash. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "th_hash.h"
#include "th_schema.h"

static void ids_are_siphash_of_names(void **state)
{
	static const char *names[] = { "Transform", "Velocity", "TrackedPose", "ControllerState",
				       "MeshRef", "Selection", "ToolState" };
	assert_int_equal(TH_COMP_COUNT, 7);
	for (unsigned i = 0; i < TH_COMP_COUNT; i++) {
		const struct th_schema_record *r = th_component_record(i);
		assert_non_null(r);
		assert_string_equal(r->name, names[i]);
		assert_int_equal(th_component_id(i), th_siphash_str(names[i]));
		assert_int_equal(th_component_find(th_component_id(i)), (int)i);
		assert_int_equal(th_component_find_name(names[i]), (int)i);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(th_component_id(i), th_component_id(j));
	}
	assert_null(th_component_record(TH_COMP_COUNT));
	assert_int_equal(th_component_id(TH_COMP_COUNT), 0);
	assert_int_equal(th_component_find(12345), -ENOENT);
	assert_int_equal(th_component_find_name("Nope"), -ENOENT);
	/* Pinned: the daemon and every client must agree on this value. */
	assert_int_equal(th_component_id(TH_COMP_TRANSFORM), th_siphash("Transform", 9));
}

static void descriptors_match_the_c_structs(void **state)
{
	const struct th_schema_record *r = th_component_record(TH_COMP_CONTROLLER_STATE);
	assert_int_equal(r->c_size, sizeof(struct th_c_controller_state));
	assert_int_equal(r->nfields, 7);
	assert_string_equal(r->fields[6].name, "hand");
	assert_int_equal(r->fields[6].type, TH_FT_u8);
	assert_int_equal(r->fields[6].offset, offsetof(struct th_c_controller_state, hand));
	assert_int_equal(TH_F(controller_state, thumbstick), offsetof(struct th_c_controller_state, thumbstick));
	assert_int_equal(r->wire_size, 4 * (3 + 4 + 1 + 1 + 1 + 2) + 1);
	assert_string_equal(r->attrs, "LOCAL");
	assert_int_equal(th_component_record(TH_COMP_TRANSFORM)->kind, TH_KIND_REPLICATED);
	assert_int_equal(th_component_record(TH_COMP_TRACKED_POSE)->kind, TH_KIND_EPHEMERAL);
	for (unsigned i = 0; i < TH_COMP_COUNT; i++) {
		const struct th_schema_record *c = th_component_record(i);
		uint32_t wire = 0;
		for (uint32_t f = 0; f < c->nfields; f++) {
			assert_true(c->fields[f].offset + th_ftype_size(c->fields[f].type) * c->fields[f].count <= c->c_size);
			wire += (uint32_t)(th_ftype_size(c->fields[f].type) * c->fields[f].count);
		}
		assert_int_equal(wire, c->wire_size);
	}
}

static void encoding_is_little_endian_and_round_trips(void **state)
{
	const struct th_schema_record *r = th_component_record(TH_COMP_MESH_REF);
	struct th_c_mesh_ref m = { .mesh = 0x0102030405060708ull, .material = 0x0a0b0c0d, .flags = 1 }, back;
	uint8_t buf[64];
	assert_int_equal(th_schema_encode(r, &m, buf, sizeof buf), 16);
	static const uint8_t want[16] = { 8, 7, 6, 5, 4, 3, 2, 1, 0x0d, 0x0c, 0x0b, 0x0a, 1, 0, 0, 0 };
	assert_memory_equal(buf, want, 16);
	memset(&back, 0xff, sizeof back);
	assert_int_equal(th_schema_decode(r, buf, 16, &back), 0);
	assert_memory_equal(&back, &m, sizeof m);

	const struct th_schema_record *t = th_component_record(TH_COMP_TRANSFORM);
	struct th_c_transform tf = { .position = { 1.0f, -2.5f, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	assert_int_equal(th_schema_encode(t, &tf, buf, sizeof buf), 40);
	assert_int_equal(th_get_le32(buf), 0x3f800000u);  /* 1.0f */
	assert_int_equal(th_get_le32(buf + 4), 0xc0200000u); /* -2.5f */
	struct th_wbuf wb;
	th_wbuf_init(&wb, 0);
	assert_int_equal(th_schema_encode_wbuf(t, &tf, &wb), 0);
	assert_int_equal(wb.len, 40);
	assert_memory_equal(wb.data, buf, 40);
	th_wbuf_fini(&wb);
	/* Padding is zeroed, so decoded values compare bytewise. */
	const struct th_schema_record *c = th_component_record(TH_COMP_CONTROLLER_STATE);
	struct th_c_controller_state cs;
	memset(&cs, 0, sizeof cs);
	cs.hand = 1, cs.trigger = 0.5f, cs.buttons = TH_BUTTON_A;
	assert_int_equal(th_schema_encode(c, &cs, buf, sizeof buf), 49);
	struct th_c_controller_state cb;
	memset(&cb, 0xaa, sizeof cb);
	assert_int_equal(th_schema_decode(c, buf, 49, &cb), 0);
	assert_memory_equal(&cb, &cs, sizeof cs);
}

static void codec_rejects_bad_input(void **state)
{
	const struct th_schema_record *t = th_component_record(TH_COMP_TRANSFORM);
	struct th_c_transform tf = { .rotation = { 0, 0, 0, 1 } }, out;
	uint8_t buf[64];
	assert_int_equal(th_schema_encode(t, &tf, buf, 39), -ENOBUFS);
	tf.position[1] = NAN;
	assert_int_equal(th_schema_encode(t, &tf, buf, sizeof buf), -EINVAL);
	tf.position[1] = 0;
	assert_int_equal(th_schema_encode(t, &tf, buf, sizeof buf), 40);
	memset(&out, 0x5a, sizeof out);
	struct th_c_transform before = out;
	assert_int_equal(th_schema_decode(t, buf, 39, &out), -EBADMSG);
	assert_int_equal(th_schema_decode(t, buf, 41, &out), -EBADMSG);
	th_put_le32(buf + 8, 0x7f800000u); /* +inf */
	assert_int_equal(th_schema_decode(t, buf, 40, &out), -EBADMSG);
	th_put_le32(buf + 8, 0x7fc00001u); /* NaN */
	assert_int_equal(th_schema_decode(t, buf, 40, &out), -EBADMSG);
	assert_memory_equal(&out, &before, sizeof out); /* untouched */
}

static void schema_hash_covers_the_canonical_text(void **state)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	assert_int_equal(th_schema_render(&b), 0);
	th_wbuf_u8(&b, 0);
	const char *text = (const char *)b.data;
	assert_true(strncmp(text, "theta-schema 1\nsource components 7\nrecord Transform REPLICATED 3 40\n"
				  "field position f32 3\n", 86) == 0);
	assert_non_null(strstr(text, "record ControllerState LOCAL 7 49\n"));
	assert_non_null(strstr(text, "field hand u8 1\n"));
	assert_int_equal(th_schema_hash(), th_siphash(b.data, b.len - 1));
	/* Any change to the text changes the hash. */
	b.data[b.len - 3] ^= 1;
	assert_int_not_equal(th_schema_hash(), th_siphash(b.data, b.len - 1));
	th_wbuf_fini(&b);
}

/* The text the hash covers names every component and every field with its
 * type and count, in declaration order: a daemon and a client built from
 * schemas that differ in any field (added, renamed, retyped, resized,
 * reordered) get different hashes and refuse each other. */
static void schema_text_lists_every_field_of_every_component_in_order(void **state)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	assert_int_equal(th_schema_render(&b), 0);
	th_wbuf_u8(&b, 0);
	const char *at = (const char *)b.data;
	char line[256];
	snprintf(line, sizeof line, "source components %u\n", (unsigned)TH_COMP_COUNT);
	assert_non_null(at = strstr(at, line));
	for (unsigned i = 0; i < TH_COMP_COUNT; i++) {
		const struct th_schema_record *r = th_component_record(i);
		snprintf(line, sizeof line, "\nrecord %s %s %u %u\n", r->name, r->attrs, r->nfields, r->wire_size);
		const char *next = strstr(at, line);
		if (!next)
			fail_msg("record line '%s' missing after offset %td", line + 1, at - (const char *)b.data);
		at = next + strlen(line) - 1;
		for (uint32_t k = 0; k < r->nfields; k++) {
			const struct th_field_desc *f = &r->fields[k];
			snprintf(line, sizeof line, "\nfield %s %s %u\n", f->name, th_ftype_name(f->type), f->count);
			/* the very next line, not one further down */
			assert_int_equal(strncmp(at, line, strlen(line)), 0);
			at += strlen(line) - 1;
		}
	}
	th_wbuf_fini(&b);
}

/* The hash is computed from descriptors only (no addresses, no uninitialised
 * bytes): a second process, with its own address layout, computes the same. */
static void schema_hash_is_the_same_in_another_process(void **state)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		char *argv[] = { "/proc/self/exe", "--print-schema-hash", NULL };
		dup2(fds[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	char buf[64] = "";
	ssize_t n = read(fds[0], buf, sizeof buf - 1);
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(n > 0);
	buf[n] = 0;
	char want[32];
	snprintf(want, sizeof want, "%016llx\n", (unsigned long long)th_schema_hash());
	assert_string_equal(buf, want);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--print-schema-hash")) {
		printf("%016llx\n", (unsigned long long)th_schema_hash());
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_are_siphash_of_names),
		cmocka_unit_test(descriptors_match_the_c_structs),
		cmocka_unit_test(encoding_is_little_endian_and_round_trips),
		cmocka_unit_test(codec_rejects_bad_input),
		cmocka_unit_test(schema_hash_covers_the_canonical_text),
		cmocka_unit_test(schema_text_lists_every_field_of_every_component_in_order),
		cmocka_unit_test(schema_hash_is_the_same_in_another_process),
	};
	return cmocka_run_group_tests_name("th_schema", tests, NULL, NULL);
}
