// kernels.c, part 1: fixed-point primitives and the per-element ops (C twins of
// FixedPoint.swift, GemmlowpMath.swift and Int8ActivationKernels.swift / Int8ElementwiseKernels.swift).
extension CKernels {
    static let fixedPoint = #"""
/* kernels.c: int8 kernels of the TinyForge C runtime (generated; do not edit). */
#include "kernels.h"

#define TF_INT32_MIN (-2147483647 - 1)
#define TF_INT32_MAX 2147483647
#define TF_INT16_MIN (-32768)
#define TF_INT16_MAX 32767

/* Wrapping int32 arithmetic (signed overflow is undefined in C). */
static int32_t tf_wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t tf_wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static int8_t tf_clamp_i8(int32_t v, int32_t lo, int32_t hi) {
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return (int8_t)v;
}

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a*b / 2^31), ties away from zero. */
static int32_t tf_srdhm(int32_t a, int32_t b) {
    int64_t ab;
    if (a == b && a == TF_INT32_MIN) return TF_INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + (ab >= 0 ? (1LL << 30) : (1LL - (1LL << 30)))) / (1LL << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero.
 * e >= 32 follows the Swift reference (mask all ones, quotient 0 or -1). */
static int32_t tf_rdbpot(int32_t x, int32_t e) {
    int32_t mask, q;
    if (e < 32) { mask = (int32_t)(((uint32_t)1 << e) - 1u); q = x >> e; }
    else { mask = -1; q = x < 0 ? -1 : 0; }
    return q + (((x & mask) > ((mask >> 1) + (x < 0 ? 1 : 0))) ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier, double rounding (TFLM default, CMSIS-NN default). */
static int32_t tf_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x * ((uint32_t)1 << left));
    return tf_rdbpot(tf_srdhm(shifted, multiplier), right);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT. */
static int32_t tf_srmbpot(int32_t x, int32_t e) {
    int32_t threshold;
    if (e == 0) return x;
    if (e < 0) return tf_rdbpot(x, -e);
    threshold = (int32_t)((1LL << (31 - e)) - 1);
    if (x > threshold) return TF_INT32_MAX;
    if (x < -threshold) return TF_INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

static int32_t tf_rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0 in and out (Taylor series around -1/8). */
static int32_t tf_exp_quarter(int32_t a) {
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t one_third = 715827883;
    const int32_t x = tf_wadd(a, 1 << 28);
    const int32_t x2 = tf_srdhm(x, x);
    const int32_t x3 = tf_srdhm(x2, x);
    const int32_t x4 = tf_srdhm(x2, x2);
    const int32_t x4_over_4 = tf_srmbpot(x4, -2);
    const int32_t poly = tf_srmbpot(tf_wadd(tf_srdhm(tf_wadd(x4_over_4, x3), one_third), x2), -1);
    return tf_wadd(constant_term, tf_srdhm(constant_term, tf_wadd(x, poly)));
}

/* exp(a) for a <= 0 with integer_bits integer bits; result Q0. */
static int32_t tf_exp_neg(int32_t a, int32_t integer_bits) {
    static const int32_t multipliers[7] = { 1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242 };
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod = tf_wsub(a & (one_quarter - 1), one_quarter);
    const int32_t remainder = tf_wsub(a_mod, a);
    int32_t result = tf_exp_quarter(tf_srmbpot(a_mod, integer_bits));
    int32_t k;
    for (k = 0; k < 7; ++k) {
        const int32_t exponent = k - 2;
        if (integer_bits > exponent && (remainder & ((int32_t)1 << (fractional_bits + exponent))) != 0)
            result = tf_srdhm(result, multipliers[k]);
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) result = 0;
    if (a == 0) result = TF_INT32_MAX;
    return result;
}

/* 1/(1+a) for a in (0,1), Q0 in and out (Newton-Raphson in Q2). */
static int32_t tf_one_over_one_plus_x(int32_t a) {
    const int32_t half_denominator = tf_rounding_half_sum(a, TF_INT32_MAX);
    int32_t x = tf_wadd(1515870810, tf_srdhm(half_denominator, -1010580540));
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = tf_wsub(1 << 29, tf_srdhm(half_denominator, x));
        x = tf_wadd(x, tf_srmbpot(tf_srdhm(x, one_minus), 2));
    }
    return tf_srmbpot(x, 1);
}

static int32_t tf_logistic_q(int32_t a, int32_t integer_bits) {
    int32_t abs_a, r;
    if (a == 0) return 1 << 30;
    abs_a = a > 0 ? a : tf_wsub(0, a);
    r = tf_one_over_one_plus_x(tf_exp_neg(tf_wsub(0, abs_a), integer_bits));
    return a > 0 ? r : tf_wsub(TF_INT32_MAX, r);
}

/* int16 helpers of HARD_SWISH. */
static int16_t tf_srdhm16(int16_t a, int16_t b) {
    int32_t ab;
    if (a == b && a == TF_INT16_MIN) return TF_INT16_MAX;
    ab = (int32_t)a * (int32_t)b;
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15));
}

static int16_t tf_dhm16(int16_t a, int16_t b) { /* non-rounding doubling high multiply */
    if (a == b && a == TF_INT16_MIN) return TF_INT16_MAX;
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static int16_t tf_rdbpot16(int16_t x, int32_t e) {
    const int16_t mask = (int16_t)(e < 32 ? (int32_t)(((uint32_t)1 << e) - 1u) : -1);
    const int32_t q = e < 16 ? (x >> e) : (x < 0 ? -1 : 0);
    return (int16_t)(q + (((int16_t)(x & mask) > (int16_t)((mask >> 1) + (x < 0 ? 1 : 0))) ? 1 : 0));
}

static int16_t tf_saturating_left_shift16(int16_t v, int32_t amount) {
    const int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > TF_INT16_MAX ? TF_INT16_MAX : (r < TF_INT16_MIN ? TF_INT16_MIN : r));
}

"""#

    static let activations = #"""
int8_t tf_logistic_1(int8_t x, const tf_logistic_t *p) {
    const int32_t input = (int32_t)x - p->input_zero_point;
    int32_t q8;
    if (input <= -p->input_range_radius) return -128;
    if (input >= p->input_range_radius) return 127;
    q8 = tf_rdbpot(tf_logistic_q(tf_mbqm(input, p->input_multiplier, p->input_left_shift), 4), 31 - 8) - 128;
    return tf_clamp_i8(q8, -128, 127);
}

int8_t tf_hard_swish_1(int8_t x, const tf_hard_swish_t *p) {
    const int16_t input_value = (int16_t)((int32_t)x - p->input_zero_point);
    const int16_t hires = (int16_t)(input_value * 128);
    const int16_t preshift_output_scale = tf_srdhm16(hires, (int16_t)p->output_multiplier);
    int16_t reluish = hires, out;
    if (p->reluish_exponent > 0) reluish = tf_saturating_left_shift16(reluish, p->reluish_exponent - 1);
    reluish = tf_srdhm16(reluish, (int16_t)p->reluish_multiplier);
    if (p->reluish_exponent > 0) reluish = tf_saturating_left_shift16(reluish, 1);
    if (p->reluish_exponent < 0) reluish = tf_rdbpot16(reluish, -p->reluish_exponent);
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
    out = tf_rdbpot16(tf_dhm16(reluish, preshift_output_scale), -p->output_exponent);
    out = (int16_t)(out + (int16_t)p->output_zero_point);
    return tf_clamp_i8(out, -128, 127);
}

int8_t tf_leaky_relu_1(int8_t x, const tf_leaky_relu_t *p) {
    const int32_t input = (int32_t)x - p->input_zero_point;
    int32_t out = p->output_zero_point;
    if (input >= 0) {
        out = tf_wadd(out, tf_mbqm(input, p->identity_multiplier, p->identity_shift));
    } else {
        const int negative = p->alpha_multiplier < 0;
        const int32_t safe = negative ? tf_wsub(0, p->alpha_multiplier) : p->alpha_multiplier;
        const int32_t scaled = tf_mbqm(input, safe, p->alpha_shift);
        out = tf_wadd(out, negative ? tf_wsub(0, scaled) : scaled);
    }
    return tf_clamp_i8(out, -128, 127);
}

int8_t tf_mul_1(int8_t a, int8_t b, const tf_mul_t *p) {
    const int32_t product = (p->input1_offset + a) * (p->input2_offset + b);
    const int32_t raw = tf_wadd(p->output_offset, tf_mbqm(product, p->output_multiplier, p->output_shift));
    return tf_clamp_i8(raw, p->act_min, p->act_max);
}

int8_t tf_add_1(int8_t a, int8_t b, const tf_add_t *p) {
    const int32_t s1 = (int32_t)((uint32_t)(p->input1_offset + a) * ((uint32_t)1 << p->left_shift));
    const int32_t s2 = (int32_t)((uint32_t)(p->input2_offset + b) * ((uint32_t)1 << p->left_shift));
    const int32_t r1 = tf_rdbpot(tf_srdhm(s1, p->input1_multiplier), -p->input1_shift);
    const int32_t r2 = tf_rdbpot(tf_srdhm(s2, p->input2_multiplier), -p->input2_shift);
    const int32_t raw = tf_wadd(tf_rdbpot(tf_srdhm(tf_wadd(r1, r2), p->output_multiplier), -p->output_shift),
                                p->output_offset);
    return tf_clamp_i8(raw, p->act_min, p->act_max);
}

int8_t tf_epilogue_1(int8_t v, const tf_epilogue_t *ep) {
    switch (ep->kind) {
    case TF_EPI_LEAKY_RELU: return tf_leaky_relu_1(v, &ep->leaky_relu);
    case TF_EPI_HARD_SWISH: return tf_hard_swish_1(v, &ep->hard_swish);
    case TF_EPI_LOGISTIC: return tf_logistic_1(v, &ep->logistic);
    case TF_EPI_SWISH: return tf_mul_1(v, tf_logistic_1(v, &ep->logistic), &ep->mul);
    default: return v;
    }
}

void tf_logistic(const int8_t *x, int8_t *y, int32_t count, const tf_logistic_t *p) {
    int32_t i;
    for (i = 0; i < count; ++i) y[i] = tf_logistic_1(x[i], p);
}

void tf_hard_swish(const int8_t *x, int8_t *y, int32_t count, const tf_hard_swish_t *p) {
    int32_t i;
    for (i = 0; i < count; ++i) y[i] = tf_hard_swish_1(x[i], p);
}

void tf_leaky_relu(const int8_t *x, int8_t *y, int32_t count, const tf_leaky_relu_t *p) {
    int32_t i;
    for (i = 0; i < count; ++i) y[i] = tf_leaky_relu_1(x[i], p);
}

"""#
}
