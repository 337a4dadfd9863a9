/// C sources of the generated library's kernels, kept as Swift strings so the generator is
/// self-contained (no resource lookup at run time). `kernels.h` is below; `kernels.c` is the
/// concatenation of `CKernels.fixedPoint`, `.activations` and `.layers`.
///
/// Rules for this C: C99, integer-only (no float/double anywhere), no malloc, no libc beyond
/// <stdint.h>. Every wrapping int32 operation of the Swift reference (`&+`, `&-`, `&*`) is
/// done on uint32_t here, because signed overflow is undefined in C. Right shifts of negative
/// values are arithmetic (GCC/Clang, and what CMSIS-NN relies on too).
enum CKernels {
    static let header = #"""
/* kernels.h: int8 kernels of the TinyForge C runtime (generated; do not edit).
 * Bit-exact with TFLite Micro's reference kernels (and TinyForge's Int8Interpreter).
 * Layouts: activations NHWC, conv filters OHWI, depthwise filters (1,KH,KW,C),
 * fully-connected weights (O,I). Integer-only, no dynamic memory. */
#ifndef TF_KERNELS_H
#define TF_KERNELS_H

#include <stdint.h>

/* (N,H,W,C) of an NHWC tensor; lower-rank tensors are right-aligned (ExtendedShape). */
typedef struct { int32_t n, h, w, c; } tf_shape_t;

/* Strides and the padding before the first row/column (TFLite ComputePadding). */
typedef struct { int32_t stride_h, stride_w, pad_top, pad_left; } tf_geom_t;

/* int32 accumulator -> int8 output of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED. */
typedef struct {
    int32_t input_offset;         /* -input_zero_point */
    int32_t filter_offset;        /* -filter_zero_point (per-tensor FULLY_CONNECTED), else 0 */
    int32_t output_offset;        /* output_zero_point */
    int32_t act_min, act_max;     /* fused RELU/RELU6 clamp */
    int32_t per_channel;          /* 1: multiplier[c], shift[c]; 0: multiplier[0], shift[0] */
    const int32_t *multiplier;    /* Q31, TFLite QuantizeMultiplier */
    const int32_t *shift;         /* > 0 left, < 0 right */
} tf_requant_t;

typedef struct { int32_t input_zero_point, input_range_radius, input_multiplier, input_left_shift; } tf_logistic_t;

typedef struct {
    int32_t input_zero_point, output_zero_point;
    int32_t output_multiplier, output_exponent;   /* int16 multiplier in an int32 */
    int32_t reluish_multiplier, reluish_exponent; /* int16 multiplier in an int32 */
} tf_hard_swish_t;

typedef struct {
    int32_t input_zero_point, output_zero_point;
    int32_t identity_multiplier, identity_shift;
    int32_t alpha_multiplier, alpha_shift;        /* multiplier < 0 for a negative alpha */
} tf_leaky_relu_t;

typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} tf_mul_t;

typedef struct {
    int32_t input1_offset, input2_offset, output_offset, left_shift;
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} tf_add_t;

/* Activation fused into a conv/depthwise/FC: applied to each requantised int8 element with
 * the integer math of the TFLM op it replaces. TF_EPI_SWISH is LOGISTIC then MUL(x, s):
 * mul.input1 is x (the conv output), mul.input2 the sigmoid. */
enum { TF_EPI_NONE = 0, TF_EPI_LEAKY_RELU = 1, TF_EPI_HARD_SWISH = 2, TF_EPI_LOGISTIC = 3, TF_EPI_SWISH = 4 };
typedef struct {
    int32_t kind;
    tf_leaky_relu_t leaky_relu;
    tf_hard_swish_t hard_swish;
    tf_logistic_t logistic;
    tf_mul_t mul;
} tf_epilogue_t;

/* Per-element ops (exposed for tests and custom graphs). */
int8_t tf_logistic_1(int8_t x, const tf_logistic_t *p);
int8_t tf_hard_swish_1(int8_t x, const tf_hard_swish_t *p);
int8_t tf_leaky_relu_1(int8_t x, const tf_leaky_relu_t *p);
int8_t tf_mul_1(int8_t a, int8_t b, const tf_mul_t *p);
int8_t tf_add_1(int8_t a, int8_t b, const tf_add_t *p);
int8_t tf_epilogue_1(int8_t v, const tf_epilogue_t *ep);

/* x is xs, filter is (ys.c,kh,kw,xs.c), bias is (ys.c) or 0, y is ys. */
void tf_conv2d(const int8_t *x, tf_shape_t xs, const int8_t *filter, int32_t kh, int32_t kw,
               const int32_t *bias, int8_t *y, tf_shape_t ys, const tf_geom_t *g,
               const tf_requant_t *rq, const tf_epilogue_t *ep);
/* Depth multiplier 1: x is xs, filter is (1,kh,kw,C), y is ys; x and y must not overlap. */
void tf_depthwise_conv2d(const int8_t *x, tf_shape_t xs, const int8_t *filter, int32_t kh, int32_t kw,
                         const int32_t *bias, int8_t *y, tf_shape_t ys, const tf_geom_t *g,
                         const tf_requant_t *rq, const tf_epilogue_t *ep);
/* In place, stride 1, output shape == input shape s: xy is read and overwritten one channel
 * at a time; plane is scratch of s.n*s.h*s.w bytes. */
void tf_depthwise_conv2d_in_place(int8_t *xy, tf_shape_t s, const int8_t *filter, int32_t kh, int32_t kw,
                                  const int32_t *bias, const tf_geom_t *g, const tf_requant_t *rq,
                                  const tf_epilogue_t *ep, int8_t *plane);
/* x is (batches,in_depth), w is (out_depth,in_depth), y is (batches,out_depth). */
void tf_fully_connected(const int8_t *x, int32_t batches, int32_t in_depth, const int8_t *w, int32_t out_depth,
                        const int32_t *bias, int8_t *y, const tf_requant_t *rq, const tf_epilogue_t *ep);
/* NumPy broadcasting of size-1 dims. y may alias a (or b) when that operand has ys's shape. */
void tf_add(const int8_t *a, tf_shape_t as, const int8_t *b, tf_shape_t bs, int8_t *y, tf_shape_t ys, const tf_add_t *p);
void tf_mul(const int8_t *a, tf_shape_t as, const int8_t *b, tf_shape_t bs, int8_t *y, tf_shape_t ys, const tf_mul_t *p);
/* MEAN over the dims whose bit is set in reduce_mask (1=N, 2=H, 4=W, 8=C); multiplier/shift
 * already absorb 1/count (TFLM's folding); count = number of values averaged. */
void tf_mean(const int8_t *x, tf_shape_t xs, int32_t reduce_mask, int8_t *y, int32_t input_zero_point,
             int32_t output_zero_point, int32_t multiplier, int32_t shift, int32_t count);
/* y may alias x. */
void tf_logistic(const int8_t *x, int8_t *y, int32_t count, const tf_logistic_t *p);
void tf_hard_swish(const int8_t *x, int8_t *y, int32_t count, const tf_hard_swish_t *p);
void tf_leaky_relu(const int8_t *x, int8_t *y, int32_t count, const tf_leaky_relu_t *p);
void tf_average_pool2d(const int8_t *x, tf_shape_t xs, int8_t *y, tf_shape_t ys, int32_t fh, int32_t fw,
                       const tf_geom_t *g, int32_t act_min, int32_t act_max);
/* Over the last dim; input_factor = 2^input_left_shift as int32 (0 when the shift is negative). */
void tf_softmax(const int8_t *x, int8_t *y, int32_t rows, int32_t depth, int32_t input_multiplier,
                int32_t input_factor, int32_t diff_min);

/* Patch-based execution (TinyForge patch plans): a tile buffer holds rows r0..r1, columns
 * c0..c1 (inclusive) of a tensor, all channels, row-major; a full map is the region of the
 * whole map. Each call computes the output pixels of region `out` (inside the buffer region
 * yb) from input buffers holding every in-bounds pixel the windows read. */
typedef struct { int16_t r0, r1, c0, c1; } tf_region_t;
void tf_patch_conv(const int8_t *x, const tf_region_t *xb, int32_t cin, const int8_t *filter, int32_t kh, int32_t kw,
                   const int32_t *bias, int8_t *y, const tf_region_t *yb, const tf_region_t *out, int32_t cout,
                   const tf_geom_t *g, const tf_requant_t *rq, const tf_epilogue_t *ep, int32_t depthwise);
void tf_patch_add(const int8_t *a, const tf_region_t *ab, const int8_t *b, const tf_region_t *bb, int8_t *y,
                  const tf_region_t *yb, const tf_region_t *out, int32_t c, const tf_add_t *p);
void tf_patch_mul(const int8_t *a, const tf_region_t *ab, const int8_t *b, const tf_region_t *bb, int8_t *y,
                  const tf_region_t *yb, const tf_region_t *out, int32_t c, const tf_mul_t *p);
/* kind: 0 logistic (p: tf_logistic_t), 1 hard swish (tf_hard_swish_t), 2 leaky relu (tf_leaky_relu_t). */
void tf_patch_map(const int8_t *x, const tf_region_t *xb, int8_t *y, const tf_region_t *yb, const tf_region_t *out,
                  int32_t c, int32_t kind, const void *p);

#endif /* TF_KERNELS_H */

"""#
}
