/* The identities softmax_s8.c relies on (tdnn_srdhm_nosat, tdnn_rdbpot_nonneg), then an exhaustive check of its reciprocal (tdnn_srdhm_nosat) against the saturating gemmlowp form, for
 * every sum of exps (Q12.19) that up to 8 classes can produce: [1.0, 8.0] in Q12.19, and a sweep of
 * one_over_one_plus_x over every input a >= 0 (more classes). Prints the first mismatch
 * and exits 1, or prints "ok <count>". Built and run by tests/test_softmax_fast.py. */
#include <stdio.h>

#include "../../firmware/nn/softmax_s8.c"

static int32_t reference_one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + TDNN_INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tdnn_srdhm(half_denominator, -1010580540);
    for (int32_t i = 0; i < 3; i++) {
        const int32_t one_minus = (1 << 29) - tdnn_srdhm(half_denominator, x);
        x = x + tdnn_sat_shl(tdnn_srdhm(x, one_minus), 2);
    }
    return tdnn_sat_shl(x, 1);
}

/* tdnn_srdhm_nosat == tdnn_srdhm for every pair but (INT32_MIN, INT32_MIN): edge values x edge values and a
 * pseudo-random sweep (xorshift). */
static int check_srdhm_identity(void)
{
    static const int32_t edges[] = {TDNN_INT32_MIN, TDNN_INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -(1 << 30) + 1,
                                    -65537, -65536, -3, -2, -1, 0, 1, 2, 3, 65535, 65536, (1 << 30) - 1, 1 << 30,
                                    (1 << 30) + 1, TDNN_INT32_MAX - 1, TDNN_INT32_MAX};
    const int n = (int)(sizeof edges / sizeof edges[0]);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (edges[i] == TDNN_INT32_MIN && edges[j] == TDNN_INT32_MIN) {
                continue;
            }
            if (tdnn_srdhm_nosat(edges[i], edges[j]) != tdnn_srdhm(edges[i], edges[j])) {
                printf("srdhm mismatch %ld %ld\n", (long)edges[i], (long)edges[j]);
                return 1;
            }
        }
    }
    uint32_t s = 2463534242u;
    for (long k = 0; k < 20000000; k++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        const int32_t a = (int32_t)s;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        const int32_t b = (int32_t)(s >> (k & 31)) * ((k & 32) ? -1 : 1);
        if (!(a == TDNN_INT32_MIN && b == TDNN_INT32_MIN) && tdnn_srdhm_nosat(a, b) != tdnn_srdhm(a, b)) {
            printf("srdhm mismatch %ld %ld\n", (long)a, (long)b);
            return 1;
        }
        const int32_t x = (int32_t)(s & 0x7FFFFFFFu), e = 1 + (int32_t)(k % 31);
        if (tdnn_rdbpot_nonneg(x, e) != tdnn_rdbpot(x, e)) {
            printf("rdbpot mismatch %ld %ld\n", (long)x, (long)e);
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    if (check_srdhm_identity()) {
        return 1;
    }
    long count = 0;
    for (int32_t sum = 1 << 19; sum <= 8 << 19; sum++) {
        int32_t exponent;
        int32_t exponent_ref;
        const int32_t got = reciprocal(sum, &exponent);
        const int32_t headroom_plus_one = (int32_t)__builtin_clz((uint32_t)sum);
        const int32_t a = (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31));
        exponent_ref = ACCUM_INT_BITS - headroom_plus_one + 31 - 8;
        const int32_t want = reference_one_over_one_plus_x(a);
        if (got != want || exponent != exponent_ref || exponent < 1 || got < 0) {
            printf("mismatch sum=%ld got=%ld want=%ld\n", (long)sum, (long)got, (long)want);
            return 1;
        }
        count++;
    }
    /* Rows of more than 8 classes reach other a >= 0: a pseudo-random sweep over [0, 2^31) and its ends. */
    uint32_t s = 88172645u;
    for (long k = 0; k < 20000000; k++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        const int32_t a = k < 2 ? (k == 0 ? 0 : TDNN_INT32_MAX) : (int32_t)(s & 0x7FFFFFFFu);
        if (one_over_one_plus_x(a) != reference_one_over_one_plus_x(a)) {
            printf("mismatch a=%ld\n", (long)a);
            return 1;
        }
        count++;
    }
    printf("ok %ld\n", count);
    return 0;
}
