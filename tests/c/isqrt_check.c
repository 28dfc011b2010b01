/* feature_isqrt_u64 (firmware/include/feature_math.h) against the digit-by-digit integer square root it replaced
 * and against the definition (r * r <= v < (r + 1)^2): every v below 2^24, r^2 - 1, r^2, r^2 + 1 for a sweep of r
 * up to 2^32 - 1, a xorshift sample of 64-bit values and the extremes. Prints "ok <n>" or the first mismatch. */
#include <inttypes.h>
#include <stdio.h>

#define MODEL_FEATURE_MULT 1
#define MODEL_FEATURE_SHIFT 0
#define MODEL_INPUT_ZERO_POINT 0
#include "feature_math.h"

static uint32_t reference(uint64_t v)
{
    uint64_t result = 0;
    uint64_t bit = 1ULL << 62;
    while (bit > v) {
        bit >>= 2;
    }
    while (bit != 0U) {
        if (v >= result + bit) {
            v -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)result;
}

static uint64_t n;

static int check(uint64_t v)
{
    n++;
    const uint32_t r = feature_isqrt_u64(v);
    const uint64_t r1 = (uint64_t)r + 1u;
    const int defined = (uint64_t)r * r <= v && (r1 == (1ULL << 32) || r1 * r1 > v);
    if (r != reference(v) || !defined) {
        printf("v=%" PRIu64 " got %" PRIu32 " reference %" PRIu32 "\n", v, r, reference(v));
        return 1;
    }
    return 0;
}

int main(void)
{
    for (uint64_t v = 0; v < (1u << 24); v++) {
        if (check(v)) {
            return 1;
        }
    }
    for (uint64_t r = 1; r < (1ULL << 32); r += 1 + r / 4096) {
        if (check(r * r - 1u) || check(r * r) || (r * r + 1u != 0u && check(r * r + 1u))) {
            return 1;
        }
    }
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (check(x) || check(x >> (i % 64))) {
            return 1;
        }
    }
    if (check(UINT64_MAX) || check(0xFFFFFFFE00000001ULL) || check(0xFFFFFFFE00000000ULL)) {
        return 1;
    }
    printf("ok %" PRIu64 "\n", n);
    return 0;
}
