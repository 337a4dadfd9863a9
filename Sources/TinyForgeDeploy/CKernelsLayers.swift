// kernels.c, part 2: the layer kernels (C twins of Int8ConvKernels.swift and
// Int8ElementwiseKernels.swift, plus the fused epilogue and the in-place depthwise).
extension CKernels {
    static let layers = #"""
/* Requantise one accumulator of output channel c, clamp, then apply the fused activation. */
static int8_t tf_finish(int32_t acc, int32_t c, const tf_requant_t *rq, const tf_epilogue_t *ep) {
    const int32_t k = rq->per_channel ? c : 0;
    const int32_t v = tf_wadd(tf_mbqm(acc, rq->multiplier[k], rq->shift[k]), rq->output_offset);
    const int8_t q = tf_clamp_i8(v, rq->act_min, rq->act_max);
    return ep->kind == TF_EPI_NONE ? q : tf_epilogue_1(q, ep);
}

void tf_conv2d(const int8_t *x, tf_shape_t xs, const int8_t *filter, int32_t kh, int32_t kw,
               const int32_t *bias, int8_t *y, tf_shape_t ys, const tf_geom_t *g,
               const tf_requant_t *rq, const tf_epilogue_t *ep) {
    const int32_t cin = xs.c, cout = ys.c;
    int32_t b, oy, ox, oc, fy, fx, ic;
    for (b = 0; b < ys.n; ++b)
        for (oy = 0; oy < ys.h; ++oy)
            for (ox = 0; ox < ys.w; ++ox) {
                const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
                int8_t *out = y + ((b * ys.h + oy) * ys.w + ox) * cout;
                for (oc = 0; oc < cout; ++oc) {
                    int32_t acc = 0;
                    for (fy = 0; fy < kh; ++fy) {
                        const int32_t iy = iy0 + fy;
                        if (iy < 0 || iy >= xs.h) continue;
                        for (fx = 0; fx < kw; ++fx) {
                            const int32_t ix = ix0 + fx;
                            const int8_t *xp, *fp;
                            if (ix < 0 || ix >= xs.w) continue;
                            xp = x + ((b * xs.h + iy) * xs.w + ix) * cin;
                            fp = filter + ((oc * kh + fy) * kw + fx) * cin;
                            for (ic = 0; ic < cin; ++ic) acc += fp[ic] * (xp[ic] + rq->input_offset);
                        }
                    }
                    if (bias) acc = tf_wadd(acc, bias[oc]);
                    out[oc] = tf_finish(acc, oc, rq, ep);
                }
            }
}

/* Accumulator of depthwise output (b,oy,ox,ch); x is xs, filter (1,kh,kw,xs.c). */
static int32_t tf_dw_acc(const int8_t *x, tf_shape_t xs, const int8_t *filter, int32_t kh, int32_t kw,
                         const int32_t *bias, const tf_geom_t *g, int32_t input_offset,
                         int32_t b, int32_t oy, int32_t ox, int32_t ch) {
    const int32_t c = xs.c, iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    int32_t acc = 0, fy, fx;
    for (fy = 0; fy < kh; ++fy) {
        const int32_t iy = iy0 + fy;
        if (iy < 0 || iy >= xs.h) continue;
        for (fx = 0; fx < kw; ++fx) {
            const int32_t ix = ix0 + fx;
            if (ix < 0 || ix >= xs.w) continue;
            acc += filter[(fy * kw + fx) * c + ch] * (x[((b * xs.h + iy) * xs.w + ix) * c + ch] + input_offset);
        }
    }
    return bias ? tf_wadd(acc, bias[ch]) : acc;
}

void tf_depthwise_conv2d(const int8_t *x, tf_shape_t xs, const int8_t *filter, int32_t kh, int32_t kw,
                         const int32_t *bias, int8_t *y, tf_shape_t ys, const tf_geom_t *g,
                         const tf_requant_t *rq, const tf_epilogue_t *ep) {
    int32_t b, oy, ox, ch;
    for (b = 0; b < ys.n; ++b)
        for (oy = 0; oy < ys.h; ++oy)
            for (ox = 0; ox < ys.w; ++ox) {
                int8_t *out = y + ((b * ys.h + oy) * ys.w + ox) * ys.c;
                for (ch = 0; ch < ys.c; ++ch)
                    out[ch] = tf_finish(tf_dw_acc(x, xs, filter, kh, kw, bias, g, rq->input_offset, b, oy, ox, ch), ch, rq, ep);
            }
}

/* Channel ch of the output only reads channel ch of the input, so once the channel's plane
 * is complete in scratch its input values are dead and the plane can replace them. */
void tf_depthwise_conv2d_in_place(int8_t *xy, tf_shape_t s, const int8_t *filter, int32_t kh, int32_t kw,
                                  const int32_t *bias, const tf_geom_t *g, const tf_requant_t *rq,
                                  const tf_epilogue_t *ep, int8_t *plane) {
    const int32_t pixels = s.n * s.h * s.w;
    int32_t ch, b, oy, ox, p;
    for (ch = 0; ch < s.c; ++ch) {
        int8_t *o = plane;
        for (b = 0; b < s.n; ++b)
            for (oy = 0; oy < s.h; ++oy)
                for (ox = 0; ox < s.w; ++ox)
                    *o++ = tf_finish(tf_dw_acc(xy, s, filter, kh, kw, bias, g, rq->input_offset, b, oy, ox, ch), ch, rq, ep);
        for (p = 0; p < pixels; ++p) xy[p * s.c + ch] = plane[p];
    }
}

void tf_fully_connected(const int8_t *x, int32_t batches, int32_t in_depth, const int8_t *w, int32_t out_depth,
                        const int32_t *bias, int8_t *y, const tf_requant_t *rq, const tf_epilogue_t *ep) {
    const int32_t filter_offset = rq->per_channel ? 0 : rq->filter_offset;
    int32_t b, o, d;
    for (b = 0; b < batches; ++b)
        for (o = 0; o < out_depth; ++o) {
            const int8_t *xp = x + b * in_depth, *wp = w + o * in_depth;
            int32_t acc = 0;
            for (d = 0; d < in_depth; ++d) acc += (wp[d] + filter_offset) * (xp[d] + rq->input_offset);
            if (bias) acc = tf_wadd(acc, bias[o]);
            y[b * out_depth + o] = tf_finish(acc, o, rq, ep);
        }
}

static int32_t tf_bcast_index(tf_shape_t s, int32_t n, int32_t h, int32_t w, int32_t c) {
    return (((s.n == 1 ? 0 : n) * s.h + (s.h == 1 ? 0 : h)) * s.w + (s.w == 1 ? 0 : w)) * s.c + (s.c == 1 ? 0 : c);
}

static int tf_same_shape(tf_shape_t a, tf_shape_t b) { return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c; }

/* Element i of y is written after a[i]/b[i] are read, so y may alias a full-size operand. */
#define TF_BROADCAST_LOOP(OP)                                                              \
    int32_t n, h, w, c, o = 0;                                                             \
    if (tf_same_shape(as, bs)) {                                                           \
        const int32_t count = ys.n * ys.h * ys.w * ys.c;                                   \
        for (o = 0; o < count; ++o) y[o] = OP(a[o], b[o], p);                              \
        return;                                                                            \
    }                                                                                      \
    for (n = 0; n < ys.n; ++n)                                                             \
        for (h = 0; h < ys.h; ++h)                                                         \
            for (w = 0; w < ys.w; ++w)                                                     \
                for (c = 0; c < ys.c; ++c, ++o)                                            \
                    y[o] = OP(a[tf_bcast_index(as, n, h, w, c)], b[tf_bcast_index(bs, n, h, w, c)], p);

void tf_add(const int8_t *a, tf_shape_t as, const int8_t *b, tf_shape_t bs, int8_t *y, tf_shape_t ys, const tf_add_t *p) {
    TF_BROADCAST_LOOP(tf_add_1)
}

void tf_mul(const int8_t *a, tf_shape_t as, const int8_t *b, tf_shape_t bs, int8_t *y, tf_shape_t ys, const tf_mul_t *p) {
    TF_BROADCAST_LOOP(tf_mul_1)
}

void tf_mean(const int8_t *x, tf_shape_t xs, int32_t reduce_mask, int8_t *y, int32_t input_zero_point,
             int32_t output_zero_point, int32_t multiplier, int32_t shift, int32_t count) {
    const int32_t dims[4] = { xs.n, xs.h, xs.w, xs.c };
    int32_t outer[4], inner[4], k, o = 0, i0, i1, i2, i3, j0, j1, j2, j3;
    for (k = 0; k < 4; ++k) {
        const int reduced = (reduce_mask >> k) & 1;
        outer[k] = reduced ? 1 : dims[k];
        inner[k] = reduced ? dims[k] : 1;
    }
    for (i0 = 0; i0 < outer[0]; ++i0)
    for (i1 = 0; i1 < outer[1]; ++i1)
    for (i2 = 0; i2 < outer[2]; ++i2)
    for (i3 = 0; i3 < outer[3]; ++i3) {
        int32_t sum = 0, v;
        for (j0 = 0; j0 < inner[0]; ++j0)
        for (j1 = 0; j1 < inner[1]; ++j1)
        for (j2 = 0; j2 < inner[2]; ++j2)
        for (j3 = 0; j3 < inner[3]; ++j3)
            sum += x[(((i0 + j0) * xs.h + (i1 + j1)) * xs.w + (i2 + j2)) * xs.c + (i3 + j3)];
        v = (int32_t)((int64_t)sum - (int64_t)input_zero_point * count);
        v = tf_wadd(tf_mbqm(v, multiplier, shift), output_zero_point);
        y[o++] = tf_clamp_i8(v, -128, 127);
    }
}

void tf_average_pool2d(const int8_t *x, tf_shape_t xs, int8_t *y, tf_shape_t ys, int32_t fh, int32_t fw,
                       const tf_geom_t *g, int32_t act_min, int32_t act_max) {
    int32_t b, oy, ox, ch, fy, fx;
    for (b = 0; b < ys.n; ++b)
        for (oy = 0; oy < ys.h; ++oy)
            for (ox = 0; ox < ys.w; ++ox) {
                const int32_t ix0 = ox * g->stride_w - g->pad_left, iy0 = oy * g->stride_h - g->pad_top;
                const int32_t fx0 = ix0 < 0 ? -ix0 : 0, fy0 = iy0 < 0 ? -iy0 : 0;
                const int32_t fx1 = fw < xs.w - ix0 ? fw : xs.w - ix0, fy1 = fh < xs.h - iy0 ? fh : xs.h - iy0;
                for (ch = 0; ch < xs.c; ++ch) {
                    int32_t acc = 0, count = 0;
                    for (fy = fy0; fy < fy1; ++fy)
                        for (fx = fx0; fx < fx1; ++fx, ++count)
                            acc += x[((b * xs.h + iy0 + fy) * xs.w + ix0 + fx) * xs.c + ch];
                    if (count == 0) count = 1;
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    y[((b * ys.h + oy) * ys.w + ox) * ys.c + ch] = tf_clamp_i8(acc, act_min, act_max);
                }
            }
}

static int32_t tf_clz32(uint32_t v) {
    int32_t n = 0;
    if (v == 0) return 32;
    while (!(v & 0x80000000u)) { v <<= 1; ++n; }
    return n;
}

void tf_softmax(const int8_t *x, int8_t *y, int32_t rows, int32_t depth, int32_t input_multiplier,
                int32_t input_factor, int32_t diff_min) {
    int32_t r, c;
    for (r = 0; r < rows; ++r) {
        const int8_t *xr = x + r * depth;
        int8_t *yr = y + r * depth;
        int32_t max_in_row = -128, sum_of_exps = 0, headroom, exponent, shifted_scale;
        for (c = 0; c < depth; ++c) if (xr[c] > max_in_row) max_in_row = xr[c];
        for (c = 0; c < depth; ++c) {
            const int32_t diff = xr[c] - max_in_row;
            if (diff >= diff_min) {
                const int32_t scaled = tf_srdhm((int32_t)((uint32_t)diff * (uint32_t)input_factor), input_multiplier);
                sum_of_exps = tf_wadd(sum_of_exps, tf_rdbpot(tf_exp_neg(scaled, 5), 12));
            }
        }
        headroom = tf_clz32((uint32_t)sum_of_exps);
        shifted_scale = tf_one_over_one_plus_x(
            (int32_t)(((uint32_t)sum_of_exps << headroom) - ((uint32_t)1 << 31)));
        exponent = (12 - headroom) + 31 - 8;
        for (c = 0; c < depth; ++c) {
            const int32_t diff = xr[c] - max_in_row;
            if (diff >= diff_min) {
                const int32_t scaled = tf_srdhm((int32_t)((uint32_t)diff * (uint32_t)input_factor), input_multiplier);
                const int32_t e = tf_exp_neg(scaled, 5);
                yr[c] = tf_clamp_i8(tf_rdbpot(tf_srdhm(shifted_scale, e), exponent) - 128, -128, 127);
            } else {
                yr[c] = -128;
            }
        }
    }
}
"""#

    /// The whole `kernels.c`.
    static var source: String { fixedPoint + activations + layers + patch }
}
