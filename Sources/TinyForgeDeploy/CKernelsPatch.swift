// kernels.c, part 3: patch-based execution. The whole-tensor kernels run on rectangles of
// their tensors, one output row per call: the row is written straight into the output
// buffer (a tile buffer, or the full stage output assembled tile by tile), and the conv's
// padding is shifted so local input row 0 is global row xb->r0 — the same arithmetic as
// `Int8Interpreter.tileOp`, so the bytes equal per-layer execution.
extension CKernels {
    static let patch = #"""

/* Index of pixel (y, x) (global coordinates) in a buffer holding region b with c channels. */
static int32_t tf_patch_index(const tf_region_t *b, int32_t y, int32_t x, int32_t c) {
    return ((y - b->r0) * (b->c1 - b->c0 + 1) + (x - b->c0)) * c;
}

void tf_patch_conv(const int8_t *x, const tf_region_t *xb, int32_t cin, const int8_t *filter, int32_t kh, int32_t kw,
                   const int32_t *bias, int8_t *y, const tf_region_t *yb, const tf_region_t *out, int32_t cout,
                   const tf_geom_t *g, const tf_requant_t *rq, const tf_epilogue_t *ep, int32_t depthwise) {
    tf_shape_t xs, ys;
    int32_t oy;
    xs.n = 1; xs.h = xb->r1 - xb->r0 + 1; xs.w = xb->c1 - xb->c0 + 1; xs.c = cin;
    ys.n = 1; ys.h = 1; ys.w = out->c1 - out->c0 + 1; ys.c = cout;
    for (oy = out->r0; oy <= out->r1; ++oy) {
        tf_geom_t lg;
        int8_t *row = y + tf_patch_index(yb, oy, out->c0, cout);
        lg.stride_h = g->stride_h;
        lg.stride_w = g->stride_w;
        lg.pad_top = g->pad_top + xb->r0 - oy * g->stride_h;
        lg.pad_left = g->pad_left + xb->c0 - out->c0 * g->stride_w;
        if (depthwise) tf_depthwise_conv2d(x, xs, filter, kh, kw, bias, row, ys, &lg, rq, ep);
        else tf_conv2d(x, xs, filter, kh, kw, bias, row, ys, &lg, rq, ep);
    }
}

void tf_patch_add(const int8_t *a, const tf_region_t *ab, const int8_t *b, const tf_region_t *bb, int8_t *y,
                  const tf_region_t *yb, const tf_region_t *out, int32_t c, const tf_add_t *p) {
    tf_shape_t rs;
    int32_t oy;
    rs.n = 1; rs.h = 1; rs.w = out->c1 - out->c0 + 1; rs.c = c;
    for (oy = out->r0; oy <= out->r1; ++oy)
        tf_add(a + tf_patch_index(ab, oy, out->c0, c), rs, b + tf_patch_index(bb, oy, out->c0, c), rs,
               y + tf_patch_index(yb, oy, out->c0, c), rs, p);
}

void tf_patch_mul(const int8_t *a, const tf_region_t *ab, const int8_t *b, const tf_region_t *bb, int8_t *y,
                  const tf_region_t *yb, const tf_region_t *out, int32_t c, const tf_mul_t *p) {
    tf_shape_t rs;
    int32_t oy;
    rs.n = 1; rs.h = 1; rs.w = out->c1 - out->c0 + 1; rs.c = c;
    for (oy = out->r0; oy <= out->r1; ++oy)
        tf_mul(a + tf_patch_index(ab, oy, out->c0, c), rs, b + tf_patch_index(bb, oy, out->c0, c), rs,
               y + tf_patch_index(yb, oy, out->c0, c), rs, p);
}

void tf_patch_map(const int8_t *x, const tf_region_t *xb, int8_t *y, const tf_region_t *yb, const tf_region_t *out,
                  int32_t c, int32_t kind, const void *p) {
    const int32_t n = (out->c1 - out->c0 + 1) * c;
    int32_t oy;
    for (oy = out->r0; oy <= out->r1; ++oy) {
        const int8_t *xr = x + tf_patch_index(xb, oy, out->c0, c);
        int8_t *yr = y + tf_patch_index(yb, oy, out->c0, c);
        if (kind == 0) tf_logistic(xr, yr, n, (const tf_logistic_t *)p);
        else if (kind == 1) tf_hard_swish(xr, yr, n, (const tf_hard_swish_t *)p);
        else tf_leaky_relu(xr, yr, n, (const tf_leaky_relu_t *)p);
    }
}
"""#
}
