/* Native UC_HOOK_BLOCK callback: exact retired-instruction counting for sim/counter.py.
 *
 * Does what InstructionCounter's Python hook does, without entering Python per block:
 *  - counts the Thumb-2 instructions of each translated block (a halfword whose bits[15:11] are
 *    0b11101, 0b11110 or 0b11111 starts a 32-bit instruction), cached by (address, size) in a
 *    fixed-size open-addressing table;
 *  - adds the count at block entry unless that would pass `limit` (the Python side sets limit = -1 to
 *    request a stop), in which case the block does not run: uc_emu_stop;
 *  - stops before a block containing a coprocessor 10/11 (FPU) instruction while CPACR disables the FPU.
 * The state lives in a tc_state that Python allocates and reads/writes through ctypes; this file never
 * allocates. libunicorn's functions come in as pointers taken from the Python binding's loaded library,
 * so nothing here links against (or needs the headers of) a particular libunicorn build. The prototypes
 * below follow unicorn 2.1.x's unicorn.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* uc_err uc_mem_read(uc_engine *uc, uint64_t address, void *bytes, uint64_t size); (size_t before 2.1) */
typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, uint64_t size);
/* uc_err uc_emu_stop(uc_engine *uc); */
typedef int (*uc_emu_stop_fn)(void *uc);
/* uc_err uc_reg_read(uc_engine *uc, int regid, void *value); */
typedef int (*uc_reg_read_fn)(void *uc, int regid, void *value);
/* uc_err uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data,
 *                    uint64_t begin, uint64_t end, ...);  uc_hook is size_t. */
typedef int (*uc_hook_add_fn)(void *uc, size_t *hh, int type, void *callback, void *user_data, uint64_t begin,
                              uint64_t end, ...);

#define TC_UC_HOOK_BLOCK (1 << 3) /* UC_HOOK_BLOCK in unicorn.h's uc_hook_type */

#ifdef TC_CHECK_AGAINST_UNICORN_H
/* tests/test_counter.py compiles this file with -DTC_CHECK_AGAINST_UNICORN_H and the wheel's headers (when
 * it ships them) to prove that the prototypes above match the installed libunicorn's API. */
#include <unicorn/unicorn.h>
_Static_assert(sizeof(uc_err) == sizeof(int) && sizeof(uc_hook) == sizeof(size_t), "uc_err / uc_hook size");
_Static_assert(UC_HOOK_BLOCK == TC_UC_HOOK_BLOCK, "UC_HOOK_BLOCK");
_Static_assert(__builtin_types_compatible_p(__typeof__(&uc_mem_read),
                                            uc_err (*)(uc_engine *, uint64_t, void *, uint64_t)), "uc_mem_read");
_Static_assert(__builtin_types_compatible_p(__typeof__(&uc_emu_stop), uc_err (*)(uc_engine *)), "uc_emu_stop");
_Static_assert(__builtin_types_compatible_p(__typeof__(&uc_reg_read), uc_err (*)(uc_engine *, int, void *)),
               "uc_reg_read");
_Static_assert(__builtin_types_compatible_p(__typeof__(&uc_hook_add),
                                            uc_err (*)(uc_engine *, uc_hook *, int, void *, void *, uint64_t,
                                                       uint64_t, ...)),
               "uc_hook_add");
_Static_assert(__builtin_types_compatible_p(uc_cb_hookcode_t, void (*)(uc_engine *, uint64_t, uint32_t, void *)),
               "uc_cb_hookcode_t");
#endif
#define TC_TABLE_BITS 13
#define TC_TABLE_SIZE (1u << TC_TABLE_BITS)
#define TC_MAX_PROBES 16u /* then the home slot is overwritten: the table is a cache, never wrong */
#define TC_CHUNK 512u     /* bytes read from guest memory at a time while decoding */

enum { TC_ENTRY_USED = 1u, TC_ENTRY_FPU = 2u };
enum { TC_REASON_NONE = 0, TC_REASON_LIMIT = 1, TC_REASON_FPU = 2, TC_REASON_REQUESTED = 3 };

typedef struct {
    uint64_t key; /* address | size << 32, as the Python counter keys its cache */
    uint32_t count;
    uint32_t flags;
} tc_entry;

/* Keep in sync with _State in sim/native/blockhook.py (checked at load time with tc_offsets). */
typedef struct {
    int64_t retired;
    int64_t limit;
    uint64_t block_addr; /* [block_addr, block_end): the block that entered last and was counted */
    uint64_t block_end;
    uint64_t fpu_violation_pc;
    uint64_t blocks; /* block entries seen (statistics) */
    uint64_t misses; /* blocks decoded (table misses) */
    uint32_t fpu_enabled;
    uint32_t reason;
    int32_t error; /* uc_err of a failed uc_mem_read inside the hook, else 0 */
    int32_t pc_regid;
    void *uc;
    uc_mem_read_fn mem_read;
    uc_emu_stop_fn emu_stop;
    uc_reg_read_fn reg_read;
    tc_entry table[TC_TABLE_SIZE];
} tc_state;

size_t tc_state_size(void) { return sizeof(tc_state); }

/* Field offsets in declaration order, so the ctypes mirror can prove it matches this layout. */
size_t tc_offsets(size_t *out, size_t n)
{
    const size_t offs[] = {
        offsetof(tc_state, retired),  offsetof(tc_state, limit),       offsetof(tc_state, block_addr),
        offsetof(tc_state, block_end), offsetof(tc_state, fpu_violation_pc), offsetof(tc_state, blocks),
        offsetof(tc_state, misses),   offsetof(tc_state, fpu_enabled), offsetof(tc_state, reason),
        offsetof(tc_state, error),    offsetof(tc_state, pc_regid),    offsetof(tc_state, uc),
        offsetof(tc_state, mem_read), offsetof(tc_state, emu_stop),    offsetof(tc_state, reg_read),
        offsetof(tc_state, table),
    };
    size_t count = sizeof(offs) / sizeof(offs[0]);
    for (size_t i = 0; i < count && i < n; i++) {
        out[i] = offs[i];
    }
    return count;
}

static int is_wide(uint32_t halfword)
{
    uint32_t top = halfword >> 11;
    return top == 0x1Du || top == 0x1Eu || top == 0x1Fu;
}

/* Coprocessor space (first halfword 111x 11xx xxxx xxxx) with coprocessor 10 or 11: VFP / FPv4-SP. */
static int is_fpu(uint32_t first, uint32_t second)
{
    return (first & 0xEC00u) == 0xEC00u && ((second >> 8) & 0xEu) == 0xAu;
}

/* Walks the instructions starting in [address, address + size) as sim/thumb.py does: counts them and
 * finds the offset of the first FPU instruction (-1 if none). Returns 0 or a uc_err. */
static int decode(const tc_state *st, uint64_t address, uint64_t size, uint32_t *count, int64_t *fpu_off)
{
    uint8_t buf[TC_CHUNK];
    uint64_t have = 0, have_len = 0; /* buf holds [have, have + have_len) of the range */
    uint64_t i = 0;
    uint32_t n = 0;
    *fpu_off = -1;
    while (i + 1 < size) {
        uint64_t want = size - i < 4 ? size - i : 4;
        if (i < have || i + want > have + have_len) {
            uint64_t len = size - i < TC_CHUNK ? size - i : TC_CHUNK;
            int err = st->mem_read(st->uc, address + i, buf, len);
            if (err != 0) {
                return err;
            }
            have = i;
            have_len = len;
        }
        const uint8_t *p = buf + (i - have);
        uint32_t first = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
        if (*fpu_off < 0 && i + 4 <= size && is_fpu(first, (uint32_t)p[2] | ((uint32_t)p[3] << 8))) {
            *fpu_off = (int64_t)i;
        }
        n++;
        i += is_wide(first) ? 4 : 2;
    }
    *count = n;
    return 0;
}

static uint32_t slot_of(uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - TC_TABLE_BITS));
}

static const tc_entry *lookup(tc_state *st, uint64_t address, uint32_t size)
{
    uint64_t key = address | ((uint64_t)size << 32);
    uint32_t home = slot_of(key);
    tc_entry *free_slot = NULL;
    for (uint32_t probe = 0; probe < TC_MAX_PROBES; probe++) {
        tc_entry *e = &st->table[(home + probe) & (TC_TABLE_SIZE - 1)];
        if (!(e->flags & TC_ENTRY_USED)) {
            free_slot = e;
            break;
        }
        if (e->key == key) {
            return e;
        }
    }
    uint32_t n = 0;
    int64_t fpu_off = -1;
    int err = decode(st, address, size, &n, &fpu_off);
    if (err != 0) {
        st->error = err;
        return NULL;
    }
    tc_entry *e = free_slot != NULL ? free_slot : &st->table[home];
    e->key = key;
    e->count = n;
    e->flags = TC_ENTRY_USED | (fpu_off >= 0 ? TC_ENTRY_FPU : 0u);
    st->misses++;
    return e;
}

/* uc_cb_hookcode_t */
void tc_on_block(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    tc_state *st = (tc_state *)user_data;
    st->blocks++;
    const tc_entry *e = lookup(st, address, size);
    if (e == NULL) {
        st->block_addr = st->block_end = 0;
        st->emu_stop(uc);
        return;
    }
    int64_t total = st->retired + (int64_t)e->count;
    if (total > st->limit) {
        if (st->reason == TC_REASON_NONE) {
            st->reason = TC_REASON_LIMIT;
        }
        st->block_addr = st->block_end = 0; /* this block will not run; the previous one completed */
        st->emu_stop(uc);
        return;
    }
    if (!st->fpu_enabled && (e->flags & TC_ENTRY_FPU)) {
        uint32_t n = 0;
        int64_t off = -1;
        int err = decode(st, address, size, &n, &off);
        st->error = err;
        st->fpu_violation_pc = address + (uint64_t)(off >= 0 ? off : 0);
        st->reason = TC_REASON_FPU;
        st->block_addr = st->block_end = 0;
        st->emu_stop(uc);
        return;
    }
    st->retired = total;
    st->block_addr = address;
    st->block_end = address + size;
}

/* Registers tc_on_block for every address. Returns a uc_err; the hook handle goes to *handle. */
int tc_attach(tc_state *st, uc_hook_add_fn hook_add, size_t *handle)
{
    return hook_add(st->uc, handle, TC_UC_HOOK_BLOCK, (void *)tc_on_block, st, (uint64_t)1, (uint64_t)0);
}

/* Instructions of the current block at or after the current PC (not retired yet); -1 on a uc_err. */
static int64_t unretired(tc_state *st)
{
    uint32_t pc[2] = {0, 0}; /* a 32-bit register lands in pc[0] on either endianness */
    if (st->reg_read(st->uc, st->pc_regid, pc) != 0) {
        return -1;
    }
    if (!(st->block_addr <= pc[0] && pc[0] < st->block_end)) {
        return 0;
    }
    uint32_t n = 0;
    int64_t off = -1;
    if (decode(st, pc[0], st->block_end - pc[0], &n, &off) != 0) {
        return -1;
    }
    return n;
}

/* Inside an MMIO callback: instructions retired before the accessing instruction (-1 on error). */
int64_t tc_retired_before_current(tc_state *st)
{
    int64_t n = unretired(st);
    return n < 0 ? -1 : st->retired - n;
}

/* After uc_emu_start returns: drop the unretired rest of a block that ended early. 0 or -1 on error. */
int tc_settle(tc_state *st)
{
    int64_t n = unretired(st);
    st->block_addr = st->block_end = 0;
    if (n < 0) {
        return -1;
    }
    st->retired -= n;
    return 0;
}
