/* Cortex-M4 exception entry and return in C, for sim/periph/exceptions.py's NativeExceptions.
 *
 * Does exactly what exceptions.enter / exceptions.leave do in Python (ARMv7-M ARM B1.5.6-B1.5.8: basic or
 * extended frame, 8-byte alignment padding recorded in xPSR bit 9, EXC_RETURN), in one call instead of
 * three or four ctypes round trips through libunicorn's batch register API. libunicorn's functions and
 * the register ids come in through ex_ctx, filled by Python from the binding's own library, so nothing
 * here depends on a particular libunicorn build or its headers. Frames are packed little-endian.
 */
#include <stddef.h>
#include <stdint.h>

/* uc_err uc_reg_read_batch(uc_engine *uc, int *regs, void **vals, int count); (write: same shape) */
typedef int (*ex_batch_fn)(void *uc, int *regs, void **vals, int count);
/* uc_err uc_mem_read(uc_engine *uc, uint64_t address, void *bytes, uint64_t size); */
typedef int (*ex_mem_read_fn)(void *uc, uint64_t address, void *bytes, uint64_t size);
/* uc_err uc_mem_write(uc_engine *uc, uint64_t address, const void *bytes, uint64_t size); */
typedef int (*ex_mem_write_fn)(void *uc, uint64_t address, const void *bytes, uint64_t size);

enum {
    EX_XPSR, EX_CONTROL, EX_MSP, EX_PSP, EX_R0, EX_R1, EX_R2, EX_R3, EX_R12, EX_LR, EX_PC, EX_IPSR, EX_S0,
    EX_FPSCR = EX_S0 + 16, EX_NREGS
};
#define EX_SPSEL (1u << 1)
#define EX_FPCA (1u << 2)
#define EX_PAD (1u << 9)
#define EX_BAD_MODE (-1) /* ex_leave: the stacked IPSR does not match the mode EXC_RETURN names */

/* Keep in sync with ExcContext in sim/native/excfast.py (checked at load time with ex_offsets). */
typedef struct {
    void *uc;
    ex_batch_fn reg_read_batch;
    ex_batch_fn reg_write_batch;
    ex_mem_read_fn mem_read;
    ex_mem_write_fn mem_write;
    int32_t regid[EX_NREGS];
} ex_ctx;

size_t ex_offsets(size_t *out, size_t n)
{
    const size_t offs[] = {
        offsetof(ex_ctx, uc),        offsetof(ex_ctx, reg_read_batch), offsetof(ex_ctx, reg_write_batch),
        offsetof(ex_ctx, mem_read),  offsetof(ex_ctx, mem_write),      offsetof(ex_ctx, regid),
        sizeof(ex_ctx),
    };
    size_t count = sizeof(offs) / sizeof(offs[0]);
    for (size_t i = 0; i < count && i < n; i++) {
        out[i] = offs[i];
    }
    return count;
}

static int batch(const ex_ctx *c, ex_batch_fn fn, const int *which, uint32_t *vals, int count)
{
    int ids[32];
    void *ptrs[32];
    for (int i = 0; i < count; i++) {
        ids[i] = c->regid[which[i]];
        ptrs[i] = &vals[i];
    }
    return fn(c->uc, ids, ptrs, count);
}

static void pack(uint8_t *out, const uint32_t *words, int n)
{
    for (int i = 0; i < n; i++) {
        out[4 * i] = (uint8_t)words[i];
        out[4 * i + 1] = (uint8_t)(words[i] >> 8);
        out[4 * i + 2] = (uint8_t)(words[i] >> 16);
        out[4 * i + 3] = (uint8_t)(words[i] >> 24);
    }
}

/* Stack the context and switch to `handler` for exception `exc`; EXC_RETURN to *exc_return. 0 or a uc_err. */
int ex_enter(const ex_ctx *c, uint32_t exc, uint32_t handler, uint32_t align8, uint32_t fpu_on, uint32_t *exc_return)
{
    static const int read_ids[] = {EX_XPSR, EX_CONTROL, EX_MSP, EX_PSP, EX_R0, EX_R1,
                                   EX_R2,   EX_R3,      EX_R12, EX_LR,  EX_PC};
    uint32_t v[11];
    int err = batch(c, c->reg_read_batch, read_ids, v, 11);
    if (err != 0) {
        return err;
    }
    uint32_t xpsr = v[0], control = v[1], msp = v[2], psp_value = v[3];
    int thread = (xpsr & 0x1FFu) == 0;
    int psp = thread && (control & EX_SPSEL);
    int extended = fpu_on && (control & EX_FPCA);
    uint32_t words[26] = {0};
    int n = 8;
    for (int i = 0; i < 7; i++) {
        words[i] = v[4 + i]; /* r0-r3, r12, lr, return address */
    }
    if (extended) {
        int fp_ids[17];
        for (int i = 0; i < 16; i++) {
            fp_ids[i] = EX_S0 + i;
        }
        fp_ids[16] = EX_FPSCR;
        err = batch(c, c->reg_read_batch, fp_ids, &words[8], 17);
        if (err != 0) {
            return err;
        }
        words[25] = 0; /* reserved */
        n = 26;
    }
    uint64_t frame = (uint64_t)(psp ? psp_value : msp) - 4u * (uint64_t)n;
    uint32_t pad = 0;
    if (align8 && (frame & 4u)) {
        frame -= 4u;
        pad = EX_PAD;
    }
    words[7] = xpsr | pad;
    uint8_t bytes[4 * 26];
    pack(bytes, words, n);
    err = c->mem_write(c->uc, frame, bytes, 4u * (uint64_t)n);
    if (err != 0) {
        return err;
    }
    uint32_t ret = !thread ? 0xFFFFFFF1u : (psp ? 0xFFFFFFFDu : 0xFFFFFFF9u);
    if (extended) {
        ret &= ~0x10u;
    }
    /* Stack pointer first, then handler mode (SP becomes MSP), SPSEL/FPCA cleared, flags and IT reset. */
    const int write_ids[] = {psp ? EX_PSP : EX_MSP, EX_XPSR, EX_IPSR, EX_CONTROL, EX_MSP, EX_LR, EX_PC};
    uint32_t w[7] = {(uint32_t)frame, (1u << 24) | exc, exc, control & ~(EX_SPSEL | EX_FPCA),
                     psp ? msp : (uint32_t)frame, ret, handler | 1u};
    *exc_return = ret;
    return batch(c, c->reg_write_batch, write_ids, w, 7);
}

/* Unstack the frame named by `exc_return` (already checked to be a valid value); the return address to
 * *ret_addr. 0, a uc_err, or EX_BAD_MODE with the stacked xPSR in *ret_addr. */
int ex_leave(const ex_ctx *c, uint32_t exc_return, uint32_t *ret_addr)
{
    int to_thread = (exc_return & 0x8u) != 0;
    int psp = (exc_return & 0x4u) != 0;
    int extended = !(exc_return & 0x10u);
    static const int read_ids[] = {EX_CONTROL, EX_MSP, EX_PSP};
    uint32_t v[3];
    int err = batch(c, c->reg_read_batch, read_ids, v, 3);
    if (err != 0) {
        return err;
    }
    uint32_t control = v[0], sp = psp ? v[2] : v[1];
    int n = extended ? 26 : 8;
    uint8_t bytes[4 * 26];
    err = c->mem_read(c->uc, sp, bytes, 4u * (uint64_t)n);
    if (err != 0) {
        return err;
    }
    uint32_t vals[26];
    for (int i = 0; i < n; i++) {
        vals[i] = (uint32_t)bytes[4 * i] | ((uint32_t)bytes[4 * i + 1] << 8) | ((uint32_t)bytes[4 * i + 2] << 16) |
                  ((uint32_t)bytes[4 * i + 3] << 24);
    }
    uint32_t xpsr = vals[7];
    if (((xpsr & 0x1FFu) != 0) == to_thread) {
        *ret_addr = xpsr;
        return EX_BAD_MODE;
    }
    uint32_t new_sp = sp + 4u * (uint32_t)n + ((xpsr & EX_PAD) ? 4u : 0u);
    int ids[32];
    uint32_t w[32];
    int k = 0;
    static const int core[] = {EX_R0, EX_R1, EX_R2, EX_R3, EX_R12, EX_LR};
    for (int i = 0; i < 6; i++, k++) {
        ids[k] = core[i];
        w[k] = vals[i];
    }
    if (extended) {
        for (int i = 0; i < 16; i++, k++) {
            ids[k] = EX_S0 + i;
            w[k] = vals[8 + i];
        }
        ids[k] = EX_FPSCR;
        w[k++] = vals[24];
    }
    control = (control & ~(EX_SPSEL | EX_FPCA)) | (extended ? EX_FPCA : 0u);
    if (psp) {
        control |= EX_SPSEL;
    }
    ids[k] = EX_XPSR;
    w[k++] = xpsr & ~EX_PAD;
    ids[k] = EX_IPSR;
    w[k++] = xpsr & 0x1FFu;
    ids[k] = psp ? EX_PSP : EX_MSP;
    w[k++] = new_sp;
    ids[k] = EX_CONTROL;
    w[k++] = control;
    ids[k] = EX_PC;
    w[k++] = vals[6] | 1u;
    *ret_addr = vals[6];
    return batch(c, c->reg_write_batch, ids, w, k);
}

/* IPSR's exception number (what exceptions.current_exception reads). 0 or a uc_err. */
int ex_current(const ex_ctx *c, uint32_t *exc)
{
    static const int ids[] = {EX_IPSR};
    uint32_t v = 0;
    int err = batch(c, c->reg_read_batch, ids, &v, 1);
    *exc = v & 0x1FFu;
    return err;
}
