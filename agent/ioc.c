/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IoC lists and IP prefix sets: parse list files into compact, immutable
 * sets, and look them up from the workers without locks.
 *
 * The control thread loads lists at start and on reload; worker threads
 * then call the vg_ioc_match_*() and vg_cidr_set_contains() functions per
 * flow or per event, concurrently. Nothing on the lookup side writes: no
 * lazy initialisation, no statistics, no move-to-front. All memory is
 * allocated while loading.
 *
 * Structures, and why:
 *
 *  - Real IP feeds are almost all host addresses. IPv4 hosts go into an
 *    open-addressing set of bare uint32_t (linear probing, at most half
 *    full: 8 to 16 bytes per address, one cache miss per lookup); IPv6
 *    hosts into a set of 16-byte keys. Only shorter prefixes go into a
 *    path-compressed binary trie (one per family), so a lookup is one
 *    probe plus a walk of at most 32 or 128 bits, and the trie stays
 *    small.
 *  - Domains, JA3 and SHA-256 values live in open-addressing tables of
 *    8-byte slots (a reference and the key's 32-bit hash, so a probe only
 *    touches a key whose hash matches). Hashes are stored as raw bytes (16
 *    or 32) in one dense array; domains as length-prefixed strings in one
 *    arena. Both grow by doubling while loading and are trimmed after.
 *  - Domain hashes are computed from the last character backwards, so the
 *    hashes of "a.b.example.com", "b.example.com", "example.com" and
 *    "com" all come out of one pass: a lookup is one pass plus one probe
 *    per label.
 *  - Every set has a random seed, so its layout cannot be predicted from
 *    the list file and a feed cannot be crafted into long probe chains
 *    on a given agent. (The seeded mix is not a cryptographic PRF; the
 *    feeds are chosen by the operator, and the half-full bound keeps
 *    ordinary chains short.)
 */
#include "ioc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024) /* must exceed VG_IOC_MAX_LINE + 2 */
#define TABLE_MIN  16          /* slots of a table's first allocation */
#define KEYS_MIN   256         /* keys of a dense key array's first one */
#define ARENA_MIN  (16 * 1024) /* bytes of the first domain arena */
#define DOMAIN_MAX 253         /* RFC 1035 limit, without the final dot */
#define LABEL_MAX  63
#define SHOW_MAX   64 /* bytes of a bad value quoted in an error */

/* VG_IOC_MAX_ENTRIES as text, for the error message. */
#define MAX_ENTRIES_TEXT "33554432"
_Static_assert(VG_IOC_MAX_ENTRIES == 33554432u, "update MAX_ENTRIES_TEXT");
#define TOO_MANY "too many entries (at most " MAX_ENTRIES_TEXT ")"

#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* ------------------------------------------------------------------ */
/* Hashing and growth helpers                                          */
/* ------------------------------------------------------------------ */

/*
 * splitmix64's finalizer: each input bit flips each output bit with
 * probability about 1/2, so the low bits used as a table index are as
 * good as any.
 */
static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
new_seed(void)
{
	uint64_t s = 0;
	ssize_t r;

	/* GRND_NONBLOCK: an agent starting at early boot must not wait for
	 * the entropy pool; a predictable seed only costs probe lengths. */
	do
		r = getrandom(&s, sizeof(s), GRND_NONBLOCK);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(s))
		s = (uint64_t)vg_now_wall_us() ^
		    ((uint64_t)vg_now_mono_us() << 20) ^
		    (uint64_t)(uintptr_t)&s;
	return mix64(s);
}

/* ASCII lower case, whatever the locale. */
static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline uint64_t
fnv_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/*
 * Realloc p to hold at least need elements of size bytes, doubling from
 * min; *cap is the current capacity in elements and is updated on
 * success. NULL on failure (p is then still valid and unchanged).
 */
static void *
grow(void *p, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t ncap = *cap ? *cap : min, bytes;
	int ovf = 0;
	void *np;

	if (p != NULL && need <= *cap)
		return p;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return NULL;
		ncap *= 2;
	}
	bytes = vg_mul_size(ncap, size, &ovf);
	if (ovf)
		return NULL;
	np = realloc(p, bytes);
	if (np != NULL)
		*cap = ncap;
	return np;
}

/* Give back the slack of a doubled array once loading is over. */
static void *
trim(void *p, size_t *cap, size_t n, size_t size)
{
	void *np;

	if (p == NULL || n == 0 || n >= *cap)
		return p;
	np = realloc(p, n * size); /* n <= *cap: cannot overflow */
	if (np == NULL)
		return p; /* keeping the bigger block is fine */
	*cap = n;
	return np;
}

/* ------------------------------------------------------------------ */
/* Tables of references                                                */
/* ------------------------------------------------------------------ */

/*
 * An open-addressing table with linear probing, kept at most half full so
 * that a miss ends after a couple of probes. A slot keeps the key's hash
 * beside the reference: the home slot is tag & mask, growing never looks
 * at the keys, and a probe compares a key only when the tags agree.
 */
struct slot {
	uint32_t ref; /* 1 + the key's index or offset; 0: empty */
	uint32_t tag; /* the key's hash */
};

struct table {
	struct slot *slot; /* NULL until the first key */
	uint32_t mask;     /* slot count - 1 (a power of two) */
	uint32_t n;        /* keys */
};

static size_t
table_slots(const struct table *t)
{
	return t->slot != NULL ? (size_t)t->mask + 1 : 0;
}

/* Make room for one more key. VG_OK or VG_ENOMEM. */
static enum vg_err
table_reserve(struct table *t)
{
	size_t cap = table_slots(t), ncap, i;
	struct slot *ns;
	uint32_t m;

	if ((size_t)t->n + 1 <= cap / 2)
		return VG_OK;
	/* VG_IOC_MAX_ENTRIES bounds n, so ncap stays far below 2^32. */
	ncap = cap != 0 ? cap * 2 : TABLE_MIN;
	ns = vg_calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return VG_ENOMEM;
	m = (uint32_t)(ncap - 1);
	for (i = 0; i < cap; i++) {
		uint32_t j;

		if (t->slot[i].ref == 0)
			continue;
		for (j = t->slot[i].tag & m; ns[j].ref != 0; j = (j + 1) & m)
			;
		ns[j] = t->slot[i];
	}
	free(t->slot);
	t->slot = ns;
	t->mask = m;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* IPv4 host addresses: a set of bare uint32_t                         */
/* ------------------------------------------------------------------ */

struct u32set {
	uint32_t *slot; /* 0: empty (the address 0.0.0.0 is has_zero) */
	uint32_t mask;  /* slot count - 1 */
	uint32_t n;     /* addresses in slot[] */
	bool has_zero;
};

static inline uint32_t
u32_home(uint32_t key, uint64_t seed)
{
	return (uint32_t)mix64(key ^ seed);
}

static inline uint32_t
load_u32(const uint8_t *a)
{
	uint32_t v;

	memcpy(&v, a, 4); /* byte order does not matter: only equality */
	return v;
}

static bool
u32set_has(const struct u32set *s, uint32_t key, uint64_t seed)
{
	uint32_t i;

	if (key == 0)
		return s->has_zero;
	if (s->slot == NULL)
		return false;
	for (i = u32_home(key, seed) & s->mask; s->slot[i] != 0;
	     i = (i + 1) & s->mask)
		if (s->slot[i] == key)
			return true;
	return false;
}

static enum vg_err
u32set_add(struct u32set *s, uint32_t key, uint64_t seed)
{
	size_t cap = s->slot != NULL ? (size_t)s->mask + 1 : 0;
	uint32_t i;

	if (key == 0) {
		s->has_zero = true;
		return VG_OK;
	}
	if (u32set_has(s, key, seed))
		return VG_OK;
	if ((size_t)s->n + 1 > cap / 2) {
		size_t ncap = cap != 0 ? cap * 2 : TABLE_MIN, j;
		uint32_t *ns = vg_calloc(ncap, sizeof(*ns));
		uint32_t m = (uint32_t)(ncap - 1);

		if (ns == NULL)
			return VG_ENOMEM;
		for (j = 0; j < cap; j++) {
			if (s->slot[j] == 0)
				continue;
			for (i = u32_home(s->slot[j], seed) & m; ns[i] != 0;
			     i = (i + 1) & m)
				;
			ns[i] = s->slot[j];
		}
		free(s->slot);
		s->slot = ns;
		s->mask = m;
	}
	for (i = u32_home(key, seed) & s->mask; s->slot[i] != 0;
	     i = (i + 1) & s->mask)
		;
	s->slot[i] = key;
	s->n++;
	return VG_OK;
}

/* ------------------------------------------------------------------ */
/* Fixed-size keys: IPv6 hosts, JA3 (16 bytes), SHA-256 (32 bytes)      */
/* ------------------------------------------------------------------ */

struct keyset {
	struct table t;
	uint8_t *keys;   /* t.n keys of ksize bytes, in insertion order */
	size_t keys_cap; /* room in keys[], in keys */
	unsigned ksize;  /* a multiple of 8 */
};

static uint32_t
key_tag(const uint8_t *k, unsigned ksize, uint64_t seed)
{
	uint64_t h = seed, w;
	unsigned i;

	for (i = 0; i < ksize; i += 8) {
		memcpy(&w, k + i, 8);
		h = mix64(h ^ w);
	}
	return (uint32_t)h;
}

/* Is key there? *pos is its slot, or the free slot where it would go. */
static bool
keyset_find(const struct keyset *k, const uint8_t *key, uint32_t tag,
	    uint32_t *pos)
{
	uint32_t i;

	for (i = tag & k->t.mask; k->t.slot[i].ref != 0;
	     i = (i + 1) & k->t.mask) {
		const struct slot *s = &k->t.slot[i];

		if (s->tag == tag &&
		    memcmp(k->keys + (size_t)(s->ref - 1) * k->ksize, key,
			   k->ksize) == 0) {
			*pos = i;
			return true;
		}
	}
	*pos = i;
	return false;
}

static bool
keyset_has(const struct keyset *k, const uint8_t *key, uint64_t seed)
{
	uint32_t pos;

	if (k->t.slot == NULL)
		return false;
	return keyset_find(k, key, key_tag(key, k->ksize, seed), &pos);
}

static enum vg_err
keyset_add(struct keyset *k, const uint8_t *key, uint64_t seed)
{
	uint32_t tag = key_tag(key, k->ksize, seed), pos;
	uint8_t *nk;

	if (k->t.slot != NULL && keyset_find(k, key, tag, &pos))
		return VG_OK;
	if (k->t.n >= VG_IOC_MAX_ENTRIES)
		return VG_ELIMIT;
	if (table_reserve(&k->t) != VG_OK)
		return VG_ENOMEM;
	nk =
	    grow(k->keys, &k->keys_cap, (size_t)k->t.n + 1, k->ksize, KEYS_MIN);
	if (nk == NULL)
		return VG_ENOMEM;
	k->keys = nk;
	(void)keyset_find(k, key, tag, &pos); /* the table may have grown */
	memcpy(k->keys + (size_t)k->t.n * k->ksize, key, k->ksize);
	k->t.slot[pos].ref = k->t.n + 1;
	k->t.slot[pos].tag = tag;
	k->t.n++;
	return VG_OK;
}

static void
keyset_trim(struct keyset *k)
{
	k->keys = trim(k->keys, &k->keys_cap, k->t.n, k->ksize);
}

static size_t
keyset_memory(const struct keyset *k)
{
	return table_slots(&k->t) * sizeof(struct slot) +
	       k->keys_cap * k->ksize;
}

static void
keyset_fini(struct keyset *k)
{
	free(k->t.slot);
	free(k->keys);
}

/* ------------------------------------------------------------------ */
/* Prefixes shorter than a host route: a path-compressed binary trie   */
/* ------------------------------------------------------------------ */

/*
 * Each node holds a prefix; a child's prefix extends its parent's, and
 * child[b] holds the prefixes whose next bit (the bit at position len)
 * is b. Chains of single children are compressed away: a node exists
 * only for an added prefix (term) or where two prefixes part (a branch
 * point), so n prefixes need at most 2n - 1 nodes whatever their
 * lengths. Nodes sit in one array and link by index, which halves the
 * link size and keeps the walk on few cache lines.
 */
struct tnode {
	uint32_t child[2]; /* node indexes; 0: none */
	uint8_t key[16];   /* the prefix; bits at and past len are zero */
	uint8_t len;       /* prefix length in bits: 0..127 */
	uint8_t term;      /* 1: an added prefix; 0: a branch point only */
};

struct trie {
	struct tnode *node; /* node[0] is unused, so that 0 means none */
	size_t cap;         /* nodes allocated */
	uint32_t n;         /* nodes in use, counting node[0] */
	uint32_t root;      /* 0: empty */
	uint32_t prefixes;  /* nodes with term set */
};

static inline unsigned
bit_at(const uint8_t *a, unsigned i)
{
	return ((unsigned)a[i / 8] >> (7 - i % 8)) & 1u;
}

/*
 * The first bit position in [from, limit) where a and b differ, or limit.
 * The bits before from must be known equal (they are compared again when
 * from is not on a byte boundary, harmlessly).
 */
static unsigned
first_diff(const uint8_t *a, const uint8_t *b, unsigned from, unsigned limit)
{
	unsigned i;

	for (i = from / 8 * 8; i < limit; i += 8) {
		unsigned x = (unsigned)(a[i / 8] ^ b[i / 8]);

		if (x != 0) {
			/* clz of a byte widened to unsigned counts the
			 * leading zero bytes too. */
			unsigned d = i + (unsigned)__builtin_clz(x) -
				     (unsigned)(8 * (sizeof(unsigned) - 1));

			return d < limit ? d : limit;
		}
	}
	return limit;
}

/* Are the bits of a from len up to bits all zero? */
static bool
host_bits_clear(const uint8_t *a, unsigned len, unsigned bits)
{
	unsigned i = len / 8;

	if (len % 8 != 0) {
		if ((a[i] & (0xffu >> (len % 8))) != 0)
			return false;
		i++;
	}
	for (; i < bits / 8; i++)
		if (a[i] != 0)
			return false;
	return true;
}

/* Take a node from the reserve (see trie_add). */
static uint32_t
trie_node(struct trie *t, const uint8_t *key, unsigned len, uint8_t term)
{
	struct tnode *n = &t->node[t->n];

	memset(n, 0, sizeof(*n));
	memcpy(n->key, key, (len + 7) / 8);
	if (len % 8 != 0)
		n->key[len / 8] &= (uint8_t)(0xffu << (8 - len % 8));
	n->len = (uint8_t)len;
	n->term = term;
	if (term)
		t->prefixes++;
	return t->n++;
}

/*
 * Add key/len (len below the family's width; host bits clear). Two nodes
 * are reserved first, so that no pointer into the array moves during the
 * walk. VG_OK or VG_ENOMEM (and the trie is unchanged).
 */
static enum vg_err
trie_add(struct trie *t, const uint8_t *key, unsigned len)
{
	uint32_t *link = &t->root;

	if (t->node == NULL || (size_t)t->n + 2 > t->cap) {
		struct tnode *nn = grow(t->node, &t->cap, (size_t)t->n + 2,
					sizeof(*nn), TABLE_MIN);

		if (nn == NULL)
			return VG_ENOMEM;
		if (t->node == NULL)
			t->n = 1;
		t->node = nn;
	}
	for (;;) {
		uint32_t i = *link, m, g;
		struct tnode *n;
		unsigned lim, d;

		if (i == 0) {
			*link = trie_node(t, key, len, 1);
			return VG_OK;
		}
		n = &t->node[i];
		lim = len < n->len ? len : n->len;
		d = first_diff(key, n->key, 0, lim);
		if (d == lim && n->len == len) {
			/* The same prefix, or a branch point that now
			 * becomes a prefix of its own. */
			if (!n->term) {
				n->term = 1;
				t->prefixes++;
			}
			return VG_OK;
		}
		if (d == lim && n->len < len) {
			/* n covers key: go down on key's next bit. */
			link = &n->child[bit_at(key, n->len)];
			continue;
		}
		if (d == lim) {
			/* key covers n: the new node goes above it. */
			m = trie_node(t, key, len, 1);
			t->node[m].child[bit_at(n->key, len)] = i;
			*link = m;
			return VG_OK;
		}
		/* They part at bit d: a branch point takes both. */
		g = trie_node(t, key, d, 0);
		m = trie_node(t, key, len, 1);
		t->node[g].child[bit_at(key, d)] = m;
		t->node[g].child[bit_at(n->key, d)] = i;
		*link = g;
		return VG_OK;
	}
}

/*
 * Is addr inside any prefix? The walk only ever goes down, and each
 * node's bits are compared once (from where its parent's prefix ended),
 * so it reads at most the family's width in bits plus one byte per node.
 */
static bool
trie_contains(const struct trie *t, const uint8_t *addr)
{
	uint32_t i = t->root;
	unsigned done = 0;

	while (i != 0) {
		const struct tnode *n = &t->node[i];

		if (first_diff(addr, n->key, done, n->len) != n->len)
			return false;
		if (n->term)
			return true;
		done = n->len;
		i = n->child[bit_at(addr, n->len)];
	}
	return false;
}

static void
trie_trim(struct trie *t)
{
	t->node = trim(t->node, &t->cap, t->n, sizeof(*t->node));
}

/* ------------------------------------------------------------------ */
/* Prefix sets                                                         */
/* ------------------------------------------------------------------ */

struct vg_cidr_set {
	uint64_t seed;
	struct u32set host4; /* IPv4 /32 */
	struct keyset host6; /* IPv6 /128 */
	struct trie net[2];  /* shorter prefixes: [0] IPv4, [1] IPv6 */
};

enum vg_err
vg_cidr_set_new(struct vg_cidr_set **out)
{
	struct vg_cidr_set *s;

	if (out == NULL)
		return VG_EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return VG_ENOMEM;
	s->seed = new_seed();
	s->host6.ksize = 16;
	*out = s;
	return VG_OK;
}

void
vg_cidr_set_free(struct vg_cidr_set *s)
{
	if (s == NULL)
		return;
	free(s->host4.slot);
	keyset_fini(&s->host6);
	free(s->net[0].node);
	free(s->net[1].node);
	free(s);
}

enum vg_err
vg_cidr_set_add(struct vg_cidr_set *s, uint8_t ip_version,
		const uint8_t addr[16], unsigned prefix_len)
{
	unsigned bits;

	if (s == NULL || addr == NULL)
		return VG_EINVAL;
	if (ip_version == 4)
		bits = 32;
	else if (ip_version == 6)
		bits = 128;
	else
		return VG_EINVAL;
	if (prefix_len > bits || !host_bits_clear(addr, prefix_len, bits))
		return VG_EINVAL;
	if (vg_cidr_set_count(s) >= VG_IOC_MAX_ENTRIES)
		return VG_ELIMIT;
	if (prefix_len == bits && ip_version == 4)
		return u32set_add(&s->host4, load_u32(addr), s->seed);
	if (prefix_len == bits)
		return keyset_add(&s->host6, addr, s->seed);
	return trie_add(&s->net[ip_version == 6], addr, prefix_len);
}

bool
vg_cidr_set_contains(const struct vg_cidr_set *s, uint8_t ip_version,
		     const uint8_t addr[16])
{
	if (s == NULL || addr == NULL)
		return false;
	if (ip_version == 4)
		return u32set_has(&s->host4, load_u32(addr), s->seed) ||
		       trie_contains(&s->net[0], addr);
	if (ip_version == 6)
		return keyset_has(&s->host6, addr, s->seed) ||
		       trie_contains(&s->net[1], addr);
	return false;
}

size_t
vg_cidr_set_count(const struct vg_cidr_set *s)
{
	if (s == NULL)
		return 0;
	return (size_t)s->host4.n + s->host4.has_zero + s->host6.t.n +
	       s->net[0].prefixes + s->net[1].prefixes;
}

size_t
vg_cidr_set_memory(const struct vg_cidr_set *s)
{
	size_t m;

	if (s == NULL)
		return 0;
	m = sizeof(*s) + keyset_memory(&s->host6);
	if (s->host4.slot != NULL)
		m += ((size_t)s->host4.mask + 1) * sizeof(uint32_t);
	m += (s->net[0].cap + s->net[1].cap) * sizeof(struct tnode);
	return m;
}

/* Release the slack left by doubling, once no more prefixes come. */
static void
cidr_set_trim(struct vg_cidr_set *s)
{
	keyset_trim(&s->host6);
	trie_trim(&s->net[0]);
	trie_trim(&s->net[1]);
}

enum cidr_fault {
	CIDR_OK = 0,
	CIDR_SYNTAX,   /* not an address */
	CIDR_LENGTH,   /* bad "/len" */
	CIDR_HOSTBITS, /* bits set past the length */
};

/* vg_cidr_parse() on text[0..n), saying what is wrong. */
static enum cidr_fault
cidr_parse(const char *text, size_t n, uint8_t *ip_version, uint8_t addr[16],
	   unsigned *prefix_len)
{
	const char *slash = memchr(text, '/', n), *p, *end = text + n;
	char a[INET6_ADDRSTRLEN];
	size_t alen = slash != NULL ? (size_t)(slash - text) : n;
	uint8_t tmp[16];
	unsigned bits, len = 0;
	int af;

	/* inet_pton() reads a C string: a NUL inside the value would cut
	 * it short and let trailing garbage through. */
	if (alen == 0 || alen >= sizeof(a) || memchr(text, '\0', n) != NULL)
		return CIDR_SYNTAX;
	memcpy(a, text, alen);
	a[alen] = '\0';
	memset(tmp, 0, sizeof(tmp));
	if (memchr(a, ':', alen) != NULL) {
		af = AF_INET6;
		bits = 128;
	} else {
		af = AF_INET;
		bits = 32;
	}
	/* glibc's inet_pton() takes only dotted quads for IPv4: no "10/8"
	 * shorthand, no octal or hex parts, no leading zeros. */
	if (inet_pton(af, a, tmp) != 1)
		return CIDR_SYNTAX;
	if (slash != NULL) {
		p = slash + 1;
		if (p == end || end - p > 3 || (p[0] == '0' && end - p > 1))
			return CIDR_LENGTH;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return CIDR_LENGTH;
			len = len * 10 + (unsigned)(*p - '0');
		}
		if (len > bits)
			return CIDR_LENGTH;
	} else {
		len = bits;
	}
	if (!host_bits_clear(tmp, len, bits))
		return CIDR_HOSTBITS;
	*ip_version = af == AF_INET6 ? 6 : 4;
	memcpy(addr, tmp, 16);
	*prefix_len = len;
	return CIDR_OK;
}

enum vg_err
vg_cidr_parse(const char *text, uint8_t *ip_version, uint8_t addr[16],
	      unsigned *prefix_len)
{
	if (text == NULL || ip_version == NULL || addr == NULL ||
	    prefix_len == NULL)
		return VG_EINVAL;
	return cidr_parse(text, strlen(text), ip_version, addr, prefix_len) ==
		       CIDR_OK
		   ? VG_OK
		   : VG_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Domains: length-prefixed strings in one arena                       */
/* ------------------------------------------------------------------ */

struct strset {
	struct table t; /* ref: 1 + offset of the entry in arena */
	char *arena;    /* entries: a length byte, then the name, no NUL */
	size_t used;    /* bytes of arena in use */
	size_t cap;     /* bytes of arena allocated */
};

/* Is name[0..n) there (n <= DOMAIN_MAX, lower case)? */
static bool
strset_find(const struct strset *s, const char *name, size_t n, uint32_t tag,
	    uint32_t *pos)
{
	uint32_t i;

	for (i = tag & s->t.mask; s->t.slot[i].ref != 0;
	     i = (i + 1) & s->t.mask) {
		const struct slot *sl = &s->t.slot[i];
		const char *e;

		if (sl->tag != tag)
			continue;
		e = s->arena + (sl->ref - 1);
		if ((unsigned char)e[0] == n && memcmp(e + 1, name, n) == 0) {
			*pos = i;
			return true;
		}
	}
	*pos = i;
	return false;
}

/*
 * The tag of name[0..n): FNV-1a over the characters from the last to the
 * first, then mixed. Walking backwards is what lets a lookup get every
 * parent domain's tag in the same pass (vg_ioc_match_domain).
 */
static uint32_t
domain_tag(const char *name, size_t n, uint64_t seed)
{
	uint64_t h = FNV_BASIS ^ seed;

	while (n-- > 0)
		h = fnv_step(h, (unsigned char)name[n]);
	return (uint32_t)mix64(h);
}

static enum vg_err
strset_add(struct strset *s, const char *name, size_t n, uint64_t seed,
	   const char **why)
{
	uint32_t tag = domain_tag(name, n, seed), pos;
	char *na;

	if (s->t.slot != NULL && strset_find(s, name, n, tag, &pos))
		return VG_OK;
	if (s->t.n >= VG_IOC_MAX_ENTRIES) {
		*why = TOO_MANY;
		return VG_ELIMIT;
	}
	/* References are 32-bit offsets: 4 GiB of names, ~150M domains. */
	if (s->used + 1 + n >= UINT32_MAX) {
		*why = "the names take more than 4 GiB";
		return VG_ELIMIT;
	}
	if (table_reserve(&s->t) != VG_OK)
		return VG_ENOMEM;
	na = grow(s->arena, &s->cap, s->used + 1 + n, 1, ARENA_MIN);
	if (na == NULL)
		return VG_ENOMEM;
	s->arena = na;
	(void)strset_find(s, name, n, tag, &pos);
	s->arena[s->used] = (char)(unsigned char)n;
	memcpy(s->arena + s->used + 1, name, n);
	s->t.slot[pos].ref = (uint32_t)s->used + 1;
	s->t.slot[pos].tag = tag;
	s->used += 1 + n;
	s->t.n++;
	return VG_OK;
}

/*
 * Check and normalise a domain from a list file into out (lower case, no
 * "*." or "." in front, no final dot). NULL when it is fine, else why not.
 */
static const char *
domain_norm(const char *v, size_t n, char out[DOMAIN_MAX], size_t *outlen)
{
	size_t i, label = 0, labels = 1;

	/* Say plainly why a URL or host:port is refused, rather than
	 * "invalid character", so the operator knows to strip it. */
	if (memchr(v, '/', n) != NULL)
		return "not a domain ('/' found: URLs are not accepted)";
	if (memchr(v, ':', n) != NULL)
		return "not a domain (':' found: URLs, ports and IPv6 "
		       "addresses are not accepted)";
	if (n >= 2 && v[0] == '*' && v[1] == '.') {
		v += 2;
		n -= 2;
	} else if (n >= 1 && v[0] == '.') {
		v++;
		n--;
	}
	if (n > 0 && v[n - 1] == '.')
		n--;
	if (n == 0)
		return "empty domain";
	if (n > DOMAIN_MAX)
		return "domain longer than 253 characters";
	for (i = 0; i < n; i++) {
		unsigned char c = lower((unsigned char)v[i]);

		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			label = 0;
			labels++;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_') {
			if (++label > LABEL_MAX)
				return "domain label longer than 63 characters";
		} else if (c >= 0x80) {
			return "non-ASCII domain (use its punycode xn-- form)";
		} else {
			return "invalid character in domain";
		}
		out[i] = (char)c;
	}
	if (label == 0)
		return "empty label in domain";
	if (labels < 2)
		return "not a domain (needs at least two labels)";
	*outlen = n;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Hex                                                                 */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Lists                                                               */
/* ------------------------------------------------------------------ */

struct vg_ioc_list {
	char *name;
	enum vg_ioc_type type;
	uint64_t seed;
	struct vg_cidr_set *ip; /* VG_IOC_IP */
	struct strset dom;      /* VG_IOC_DOMAIN */
	struct keyset hash;     /* VG_IOC_JA3 (16-byte keys), _SHA256 (32) */
};

static const char *const type_names[] = {
    [VG_IOC_IP] = "ip",
    [VG_IOC_DOMAIN] = "domain",
    [VG_IOC_JA3] = "ja3",
    [VG_IOC_SHA256] = "sha256",
};

int
vg_ioc_type_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < VG_ARRAY_LEN(type_names); i++)
		if (strcmp(name, type_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
vg_ioc_type_name(enum vg_ioc_type t)
{
	if ((unsigned)t >= VG_ARRAY_LEN(type_names))
		return "unknown";
	return type_names[t];
}

static enum vg_err
list_new(struct vg_ioc_list **out, const char *name, enum vg_ioc_type type)
{
	struct vg_ioc_list *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return VG_ENOMEM;
	l->type = type;
	l->seed = new_seed();
	l->hash.ksize = type == VG_IOC_SHA256 ? 32 : 16;
	l->name = strdup(name);
	if (l->name == NULL ||
	    (type == VG_IOC_IP && vg_cidr_set_new(&l->ip) != VG_OK)) {
		vg_ioc_list_free(l);
		return VG_ENOMEM;
	}
	*out = l;
	return VG_OK;
}

void
vg_ioc_list_free(struct vg_ioc_list *l)
{
	if (l == NULL)
		return;
	free(l->name);
	vg_cidr_set_free(l->ip);
	free(l->dom.t.slot);
	free(l->dom.arena);
	keyset_fini(&l->hash);
	free(l);
}

/*
 * Check one value and, when insert is set, add it. VG_OK, VG_EINVAL or
 * VG_ELIMIT with *why set, or VG_ENOMEM.
 */
static enum vg_err
list_add(struct vg_ioc_list *l, const char *v, size_t n, bool insert,
	 const char **why)
{
	uint8_t key[32], ver;
	char dom[DOMAIN_MAX];
	unsigned len;
	size_t dlen;
	enum vg_err err;

	switch (l->type) {
	case VG_IOC_IP:
		switch (cidr_parse(v, n, &ver, key, &len)) {
		case CIDR_OK:
			break;
		case CIDR_SYNTAX:
			*why = "not an IPv4/IPv6 address or prefix";
			return VG_EINVAL;
		case CIDR_LENGTH:
			*why = "bad prefix length";
			return VG_EINVAL;
		case CIDR_HOSTBITS:
			*why = "host bits set past the prefix length";
			return VG_EINVAL;
		}
		if (!insert)
			return VG_OK;
		err = vg_cidr_set_add(l->ip, ver, key, len);
		if (err == VG_ELIMIT)
			*why = TOO_MANY;
		return err;
	case VG_IOC_DOMAIN:
		*why = domain_norm(v, n, dom, &dlen);
		if (*why != NULL)
			return VG_EINVAL;
		if (!insert)
			return VG_OK;
		return strset_add(&l->dom, dom, dlen, l->seed, why);
	case VG_IOC_JA3:
	case VG_IOC_SHA256:
		if (vg_hex_decode(key, l->hash.ksize, v, n) != 0) {
			*why = l->type == VG_IOC_JA3
				   ? "not a JA3 hash (32 hex digits)"
				   : "not a SHA-256 hash (64 hex digits)";
			return VG_EINVAL;
		}
		if (!insert)
			return VG_OK;
		err = keyset_add(&l->hash, key, l->seed);
		if (err == VG_ELIMIT)
			*why = TOO_MANY;
		return err;
	}
	*why = "unknown list type";
	return VG_EINVAL;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/*
 * Lines come out of one fixed buffer rather than getline(): a line has a
 * hard length cap, and a file with no line end at all must not make us
 * allocate its size.
 */
struct reader {
	int fd;
	char *buf; /* READ_CHUNK bytes */
	size_t pos, end;
	bool eof;
	bool skipping; /* inside an overlong line: drop bytes up to its end */
};

/*
 * The next line, without its LF or CRLF, in *line and *len (borrowed:
 * valid until the next call). *too_long is set for a line longer than
 * VG_IOC_MAX_LINE, whose content is then not given. 1: a line; 0: end of
 * file; -1: read error (errno).
 */
static int
next_line(struct reader *r, char **line, size_t *len, bool *too_long)
{
	for (;;) {
		char *p = r->buf + r->pos, *nl;
		size_t avail = r->end - r->pos;
		ssize_t got;

		nl = memchr(p, '\n', avail);
		if (nl != NULL) {
			size_t n = (size_t)(nl - p);

			r->pos += n + 1;
			if (r->skipping) {
				r->skipping = false; /* reported already */
				continue;
			}
			if (n > 0 && p[n - 1] == '\r')
				n--;
			*line = p;
			*len = n;
			*too_long = n > VG_IOC_MAX_LINE;
			return 1;
		}
		if (r->skipping) {
			r->pos = r->end = avail = 0;
		} else if (avail > VG_IOC_MAX_LINE + 1) {
			/* Too long even if it ends in CRLF: report it now,
			 * drop the rest of it as it comes. */
			r->skipping = true;
			r->pos = r->end = 0;
			*line = r->buf;
			*len = 0;
			*too_long = true;
			return 1;
		}
		if (r->eof) {
			if (avail == 0)
				return 0;
			r->pos = r->end; /* a last line with no line end */
			if (p[avail - 1] == '\r')
				avail--;
			*line = p;
			*len = avail;
			*too_long = avail > VG_IOC_MAX_LINE;
			return 1;
		}
		if (r->pos > 0) {
			memmove(r->buf, p, avail);
			r->pos = 0;
			r->end = avail;
		}
		do
			got = read(r->fd, r->buf + r->end, READ_CHUNK - r->end);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -1;
		if (got == 0)
			r->eof = true;
		r->end += (size_t)got;
	}
}

struct loader {
	struct vg_ioc_list *l;
	const char *path;
	FILE *errs;         /* may be NULL */
	unsigned long line; /* of the line being read */
	size_t nerr;
	bool had_data; /* a non-comment line was seen: no header now */
};

/* Write s[0..n) with \xHH for what is not printable ASCII; cut at max. */
static void
put_escaped(FILE *f, const char *s, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
	if (n > max)
		fputs("...", f);
}

/* Count an error, and write "PATH:LINE: MESSAGE[: "VALUE"]" while the
 * budget of lines lasts. */
static void report(struct loader *ld, unsigned long line, const char *val,
		   size_t vlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
report(struct loader *ld, unsigned long line, const char *val, size_t vlen,
       const char *fmt, ...)
{
	va_list ap;

	if (++ld->nerr > VG_IOC_MAX_ERRORS || ld->errs == NULL)
		return;
	put_escaped(ld->errs, ld->path, strlen(ld->path), SIZE_MAX);
	fprintf(ld->errs, ":%lu: ", line);
	va_start(ap, fmt);
	vfprintf(ld->errs, fmt, ap);
	va_end(ap);
	if (val != NULL) {
		fputs(": \"", ld->errs);
		put_escaped(ld->errs, val, vlen, SHOW_MAX);
		fputc('"', ld->errs);
	}
	fputc('\n', ld->errs);
}

/*
 * Could this first field be a CSV header ("ip", "domain", "sha256_hash",
 * "ja3_md5")? An identifier: a letter, then letters, digits and
 * underscores. It must also have a letter past 'f', so that a truncated
 * hash on the first line ("e7d705a3...") is an error, not a header.
 */
static bool
header_like(const char *v, size_t n)
{
	bool word = false;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = lower((unsigned char)v[i]);

		if (c >= 'g' && c <= 'z')
			word = true;
		else if (!(c >= 'a' && c <= 'f') && c != '_' &&
			 !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return word;
}

/* One line of a list file. VG_OK (a bad value is counted, not fatal),
 * VG_ELIMIT or VG_ENOMEM (loading stops). */
static enum vg_err
load_line(struct loader *ld, const char *s, size_t n)
{
	const char *why = NULL;
	size_t i = 0, e;
	bool first;
	enum vg_err err;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '#')
		return VG_OK;
	for (e = i; e < n; e++)
		if (s[e] == ',' || s[e] == ';' || s[e] == '\t' || s[e] == '#')
			break;
	while (e > i && s[e - 1] == ' ')
		e--;
	if (e - i >= 2 && s[i] == '"' && s[e - 1] == '"') {
		i++;
		e--;
		while (i < e && s[i] == ' ')
			i++;
		while (e > i && s[e - 1] == ' ')
			e--;
	}
	first = !ld->had_data;
	ld->had_data = true;
	if (e == i) {
		report(ld, ld->line, NULL, 0, "empty value");
		return VG_OK;
	}
	/* After the first bad line the load is lost: only check the rest,
	 * to report every error in one go. */
	err = list_add(ld->l, s + i, e - i, ld->nerr == 0, &why);
	switch (err) {
	case VG_OK:
		return VG_OK;
	case VG_EINVAL:
		if (!first || !header_like(s + i, e - i))
			report(ld, ld->line, s + i, e - i, "%s", why);
		return VG_OK;
	case VG_ENOMEM:
		report(ld, ld->line, NULL, 0, "out of memory");
		return err;
	default:
		report(ld, ld->line, NULL, 0, "%s",
		       why != NULL ? why : "limit reached");
		return err;
	}
}

/* The list is complete: give back the slack of the growing arrays. */
static void
list_trim(struct vg_ioc_list *l)
{
	switch (l->type) {
	case VG_IOC_IP:
		cidr_set_trim(l->ip);
		break;
	case VG_IOC_DOMAIN:
		l->dom.arena = trim(l->dom.arena, &l->dom.cap, l->dom.used, 1);
		break;
	case VG_IOC_JA3:
	case VG_IOC_SHA256:
		keyset_trim(&l->hash);
		break;
	}
}

enum vg_err
vg_ioc_list_load(struct vg_ioc_list **out, const char *name,
		 enum vg_ioc_type type, const char *path, FILE *errs)
{
	struct loader ld;
	struct reader rd;
	struct vg_ioc_list *l = NULL;
	enum vg_err err;
	char *line;
	size_t len;
	bool too_long;
	int r, saved;

	if (out == NULL || name == NULL || path == NULL ||
	    (unsigned)type >= VG_ARRAY_LEN(type_names))
		return VG_EINVAL;
	memset(&ld, 0, sizeof(ld));
	memset(&rd, 0, sizeof(rd));
	ld.path = path;
	ld.errs = errs;
	rd.fd = -1;
	err = list_new(&l, name, type);
	if (err == VG_OK) {
		rd.buf = malloc(READ_CHUNK);
		if (rd.buf == NULL)
			err = VG_ENOMEM;
	}
	if (err != VG_OK) {
		report(&ld, 0, NULL, 0, "out of memory");
		goto out;
	}
	ld.l = l;
	rd.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (rd.fd < 0) {
		saved = errno;
		report(&ld, 0, NULL, 0, "cannot open: %s", strerror(saved));
		errno = saved;
		err = VG_EIO;
		goto out;
	}
	while ((r = next_line(&rd, &line, &len, &too_long)) == 1) {
		ld.line++;
		if (too_long) {
			ld.had_data = true;
			report(&ld, ld.line, NULL, 0,
			       "line longer than %d bytes", VG_IOC_MAX_LINE);
			continue;
		}
		err = load_line(&ld, line, len);
		if (err != VG_OK)
			goto out;
	}
	if (r < 0) {
		/* A directory opens fine and fails here (EISDIR). */
		saved = errno;
		report(&ld, 0, NULL, 0, "cannot read: %s", strerror(saved));
		errno = saved;
		err = VG_EIO;
		goto out;
	}
	if (ld.nerr != 0) {
		err = VG_EINVAL;
		goto out;
	}
	list_trim(l);
	*out = l;
	l = NULL;
out:
	if (ld.nerr > VG_IOC_MAX_ERRORS && errs != NULL) {
		put_escaped(errs, path, strlen(path), SIZE_MAX);
		fprintf(errs, ": %zu more errors\n",
			ld.nerr - VG_IOC_MAX_ERRORS);
	}
	if (rd.fd >= 0)
		close(rd.fd);
	free(rd.buf);
	vg_ioc_list_free(l);
	return err;
}

const char *
vg_ioc_list_name(const struct vg_ioc_list *l)
{
	return l != NULL ? l->name : NULL;
}

enum vg_ioc_type
vg_ioc_list_type(const struct vg_ioc_list *l)
{
	return l != NULL ? l->type : VG_IOC_IP;
}

size_t
vg_ioc_list_count(const struct vg_ioc_list *l)
{
	if (l == NULL)
		return 0;
	switch (l->type) {
	case VG_IOC_IP:
		return vg_cidr_set_count(l->ip);
	case VG_IOC_DOMAIN:
		return l->dom.t.n;
	case VG_IOC_JA3:
	case VG_IOC_SHA256:
		return l->hash.t.n;
	}
	return 0;
}

size_t
vg_ioc_list_memory(const struct vg_ioc_list *l)
{
	if (l == NULL)
		return 0;
	return sizeof(*l) + strlen(l->name) + 1 + vg_cidr_set_memory(l->ip) +
	       table_slots(&l->dom.t) * sizeof(struct slot) + l->dom.cap +
	       keyset_memory(&l->hash);
}

/* ------------------------------------------------------------------ */
/* Lookups (worker threads: read only)                                 */
/* ------------------------------------------------------------------ */

bool
vg_ioc_match_ip(const struct vg_ioc_list *l, uint8_t ip_version,
		const uint8_t addr[16])
{
	if (l == NULL || l->type != VG_IOC_IP)
		return false;
	return vg_cidr_set_contains(l->ip, ip_version, addr);
}

bool
vg_ioc_match_domain(const struct vg_ioc_list *l, const char *name)
{
	char buf[DOMAIN_MAX];
	uint64_t h;
	uint32_t pos;
	size_t n, i;

	if (l == NULL || l->type != VG_IOC_DOMAIN || name == NULL ||
	    l->dom.t.slot == NULL)
		return false;
	/* Bounded: the name may come straight from a packet. */
	n = strnlen(name, DOMAIN_MAX + 2);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)lower((unsigned char)name[i]);
	/*
	 * Hash from the end (as domain_tag does); at each label start the
	 * running hash is that of the suffix from there, so the name and
	 * all its parents are probed from one pass.
	 */
	h = FNV_BASIS ^ l->seed;
	for (i = n; i-- > 0;) {
		h = fnv_step(h, (unsigned char)buf[i]);
		if ((i == 0 || buf[i - 1] == '.') &&
		    strset_find(&l->dom, buf + i, n - i, (uint32_t)mix64(h),
				&pos))
			return true;
	}
	return false;
}

bool
vg_ioc_match_hash(const struct vg_ioc_list *l, const char *hex)
{
	uint8_t key[32];
	size_t n;

	if (l == NULL || hex == NULL ||
	    (l->type != VG_IOC_JA3 && l->type != VG_IOC_SHA256))
		return false;
	n = strnlen(hex, 2 * sizeof(key) + 1);
	if (vg_hex_decode(key, l->hash.ksize, hex, n) != 0)
		return false;
	return keyset_has(&l->hash, key, l->seed);
}
