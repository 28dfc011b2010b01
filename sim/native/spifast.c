/* Native MMIO read/write callbacks for one SPI (RM0090 section 28) register page, for sim/periph/spi.py.
 *
 * A transfer polls SR and reads DR once per frame: ~2/3 of all the firmware's peripheral accesses while
 * it streams sensor samples. Word reads of SR and DR are answered here from a sf_state that the Python
 * Spi model shares (it reads and writes the same struct), without entering Python; every other access
 * (writes, sub-word reads, the other registers, a clock-gated peripheral) goes to the Python bus callback
 * stored in the state. Prototypes follow unicorn 2.1.x's uc_cb_mmio_read_t / uc_cb_mmio_write_t.
 *
 * Prefetched MISO bytes: inside a read transaction the Python device may have answered the next frames ahead
 * (pre[0..pre_len), sim/periph/spi.py Spi.prefetch); a word write of DR then takes the next of them here
 * (8-bit frames, SPE on: Python only fills the buffer then) and counts it in pre_pos. Python settles the
 * count (and rolls the device back if fewer were taken) before anything else touches the device.
 */
#include <stddef.h>
#include <stdint.h>

/* uint64_t (*uc_cb_mmio_read_t)(uc_engine *uc, uint64_t offset, unsigned size, void *user_data); */
typedef uint64_t (*sf_read_fn)(void *uc, uint64_t offset, unsigned size, void *user_data);
/* void (*uc_cb_mmio_write_t)(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data); */
typedef void (*sf_write_fn)(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data);

#define SF_SR 0x08u
#define SF_DR 0x0Cu
#define SF_SR_RXNE 0x1u
#define SF_SR_TXE 0x2u
#define SF_PRE_MAX 32u

/* Keep in sync with SpiShared in sim/periph/spi.py (checked at load time with sf_offsets). */
typedef struct {
    uint32_t clock_on; /* the peripheral's RCC enable bit (Python keeps it current); 0: all to Python */
    uint32_t rxne;     /* SR.RXNE */
    uint32_t rx;       /* the last frame received (DR reads) */
    uint32_t reserved;
    uint64_t delta;    /* this page's offset inside the Python bus's mapping */
    sf_read_fn fallback_read;
    sf_write_fn fallback_write;
    uint64_t served; /* reads answered here (statistics) */
    uint32_t pre_len;  /* prefetched MISO bytes in pre[] */
    uint32_t pre_pos;  /* of which DR writes have taken this many */
    uint8_t pre[SF_PRE_MAX];
} sf_state;

size_t sf_offsets(size_t *out, size_t n)
{
    const size_t offs[] = {
        offsetof(sf_state, clock_on), offsetof(sf_state, rxne),          offsetof(sf_state, rx),
        offsetof(sf_state, reserved), offsetof(sf_state, delta),         offsetof(sf_state, fallback_read),
        offsetof(sf_state, fallback_write), offsetof(sf_state, served),  offsetof(sf_state, pre_len),
        offsetof(sf_state, pre_pos), offsetof(sf_state, pre), sizeof(sf_state),
    };
    size_t count = sizeof(offs) / sizeof(offs[0]);
    for (size_t i = 0; i < count && i < n; i++) {
        out[i] = offs[i];
    }
    return count;
}

uint64_t sf_read(void *uc, uint64_t offset, unsigned size, void *user_data)
{
    sf_state *st = (sf_state *)user_data;
    if (size == 4 && st->clock_on) {
        if (offset == SF_SR) {
            st->served++;
            return SF_SR_TXE | (st->rxne ? SF_SR_RXNE : 0u);
        }
        if (offset == SF_DR) {
            st->served++;
            st->rxne = 0;
            return st->rx;
        }
    }
    return st->fallback_read(uc, offset + st->delta, size, NULL);
}

void sf_write(void *uc, uint64_t offset, unsigned size, uint64_t value, void *user_data)
{
    sf_state *st = (sf_state *)user_data;
    if (size == 4 && offset == SF_DR && st->clock_on && st->pre_pos < st->pre_len) {
        st->rx = st->pre[st->pre_pos++];
        st->rxne = 1;
        st->served++;
        return;
    }
    st->fallback_write(uc, offset + st->delta, size, value, NULL);
}
