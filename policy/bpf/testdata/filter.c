// filter.c: the C source filter.ll mirrors. clang is not installed where
// filter.o was built, so filter.o comes from filter.ll via llc; with clang:
//   clang -O2 -target bpf -c filter.c -o filter.o
typedef unsigned int u32;
typedef unsigned long long u64;

struct bpf_map_def {
	u32 type, key_size, value_size, max_entries, map_flags;
};

struct bpf_map_def counts __attribute__((section("maps"))) = {
	.type = 2, /* BPF_MAP_TYPE_ARRAY */
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
};

char _license[] __attribute__((section("license"))) = "GPL";

static void *(*map_lookup_elem)(void *map, void *key) = (void *)1;
static u64 (*trace)(u64 v) = (void *)0x1000;

struct ipc_ctx {
	u64 badge, endpoint, label, words[4], reserved;
};

struct event_ctx {
	u64 kind, subject, object, args[4], flags;
};

__attribute__((section("simpleos/ipc"))) int ipc_filter(struct ipc_ctx *ctx)
{
	u32 key = 0;
	u64 *v = map_lookup_elem(&counts, &key);
	if (v)
		*v += 1;
	return ctx->label == 7;
}

__attribute__((section("simpleos/event"))) int event_filter(struct event_ctx *ctx)
{
	u64 kind = ctx->kind;
	trace(kind);
	return kind > 3;
}
