/* Deferred structural changes: recorded while a stage runs or an iterator is
 * open, applied at the next sync point in a fixed order (system buffers in
 * registration order, then the world's own buffer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

enum { OP_SPAWN = 1, OP_DESPAWN, OP_ADD, OP_REMOVE };

struct cmd_hdr {
	uint8_t op;
	uint8_t n;      /* OP_SPAWN: number of OP_ADD records that follow */
	uint16_t comp;
	uint32_t size;  /* value bytes after the header (0: zeroed value) */
	sim_entity entity;
};

#define CMD_ALIGN 8u
static size_t cmd_len(uint32_t size) { return sizeof(struct cmd_hdr) + ((size + CMD_ALIGN - 1) & ~(size_t)(CMD_ALIGN - 1)); }

void sim_cmdbuf_fini(struct sim_cmdbuf *b)
{
	free(b->data);
	*b = (struct sim_cmdbuf){ 0 };
}

static int cmd_push(struct sim_cmdbuf *b, uint8_t op, uint8_t n, sim_entity e, unsigned comp, const void *value,
		    uint32_t size)
{
	size_t len = cmd_len(value ? size : 0);
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return -ENOMEM;
		}
		b->data = d;
		b->cap = cap;
	}
	struct cmd_hdr h = { .op = op, .n = n, .comp = (uint16_t)comp, .size = value ? size : 0, .entity = e };
	memcpy(b->data + b->len, &h, sizeof h);
	if (value)
		memcpy(b->data + b->len + sizeof h, value, size);
	b->len += len;
	return 0;
}

/* The buffer this thread records into, locking the world's own buffer. */
static struct sim_cmdbuf *cmd_buffer(struct sim_world *w, bool *locked)
{
	struct sim_exec *x = sim_tls_exec;
	if (x && x->w == w) {
		*locked = false;
		return &x->cmd;
	}
	pthread_mutex_lock(&w->lock);
	*locked = true;
	return &w->cmd;
}

static void cmd_release(struct sim_world *w, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&w->lock);
}

int sim_defer_spawn(struct sim_world *w, unsigned n, const unsigned *comps, const void *const *values,
		    sim_entity *out)
{
	if (n > UINT8_MAX)
		return -EINVAL;
	bool locked;
	struct sim_cmdbuf *b = cmd_buffer(w, &locked);
	sim_entity e;
	int r;
	if (!locked)
		pthread_mutex_lock(&w->lock);
	r = sim_reserve_slot(w, &e);
	if (!locked)
		pthread_mutex_unlock(&w->lock);
	if (r < 0)
		goto out;
	size_t mark = b->len;
	r = cmd_push(b, OP_SPAWN, (uint8_t)n, e, 0, NULL, 0);
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = cmd_push(b, OP_ADD, 0, e, comps[i], values ? values[i] : NULL, w->comps[comps[i]].size);
	if (r < 0) {
		b->len = mark;
		/* Give the slot back: nothing refers to it yet. */
		if (!locked)
			pthread_mutex_lock(&w->lock);
		struct sim_slot *s = sim_slot_at(w, sim_entity_slot(e));
		s->table = SIM_TABLE_FREE;
		s->next_free = w->free_head;
		w->free_head = sim_entity_slot(e);
		w->alive--;
		if (!locked)
			pthread_mutex_unlock(&w->lock);
		goto out;
	}
	*out = e;
	r = 1;
out:
	cmd_release(w, locked);
	return r;
}

static int defer(struct sim_world *w, uint8_t op, sim_entity e, unsigned comp, const void *value, uint32_t size)
{
	bool locked;
	struct sim_cmdbuf *b = cmd_buffer(w, &locked);
	int r = cmd_push(b, op, 0, e, comp, value, size);
	cmd_release(w, locked);
	return r < 0 ? r : 1;
}

int sim_defer_despawn(struct sim_world *w, sim_entity e) { return defer(w, OP_DESPAWN, e, 0, NULL, 0); }

int sim_defer_add(struct sim_world *w, sim_entity e, unsigned comp, const void *value)
{
	return defer(w, OP_ADD, e, comp, value, w->comps[comp].size);
}

int sim_defer_remove(struct sim_world *w, sim_entity e, unsigned comp) { return defer(w, OP_REMOVE, e, comp, NULL, 0); }

int sim_cmdbuf_apply(struct sim_world *w, struct sim_cmdbuf *b)
{
	int applied = 0;
	size_t off = 0;
	while (off < b->len) {
		struct cmd_hdr h;
		memcpy(&h, b->data + off, sizeof h);
		const void *val = h.size ? b->data + off + sizeof h : NULL;
		off += cmd_len(h.size);
		int r;
		switch (h.op) {
		case OP_SPAWN: {
			unsigned comps[UINT8_MAX];
			const void *vals[UINT8_MAX];
			for (unsigned i = 0; i < h.n; i++) {
				struct cmd_hdr a;
				memcpy(&a, b->data + off, sizeof a);
				comps[i] = a.comp;
				vals[i] = a.size ? b->data + off + sizeof a : NULL;
				off += cmd_len(a.size);
			}
			r = sim_place(w, h.entity, h.n, comps, vals);
			if (r == -ESTALE && sim_alive(w, h.entity)) {
				/* Materialised already by an add applied earlier. */
				r = 0;
				for (unsigned i = 0; r == 0 && i < h.n; i++)
					r = sim_do_add(w, h.entity, comps[i], vals[i]);
			}
			break;
		}
		case OP_DESPAWN: r = sim_do_despawn(w, h.entity); break;
		case OP_ADD: r = sim_do_add(w, h.entity, h.comp, val); break;
		case OP_REMOVE: r = sim_do_remove(w, h.entity, h.comp); break;
		default: r = -EINVAL; break;
		}
		if (r < 0)
			w->dropped++;
		else
			applied++;
	}
	b->len = 0;
	b->oom = false;
	return applied;
}

int sim_world_flush(struct sim_world *w)
{
	if (sim_world_locked(w))
		return -EBUSY;
	return sim_cmdbuf_apply(w, &w->cmd);
}
