/* The system's libpng (simplified API) and libjpeg-turbo behind four small C functions, so
 * Swift never sees setjmp/longjmp: libjpeg reports a fatal error by calling error_exit, which
 * must not return; here it longjmps back into the function that called setjmp, and every
 * decoder returns a status and a message instead. Corrupt-data warnings (libjpeg's "premature
 * end of data" and friends) are treated as errors: a half-grey image is not a training sample.
 *
 * Status codes: 0 ok, 1 decode error (message filled), 2 unsupported colour space (CMYK/YCCK),
 * 3 out of memory. Buffers returned in *out are malloc'd; release them with free(). */
#ifndef TINYFORGE_IMAGE_CODECS_SHIM_H
#define TINYFORGE_IMAGE_CODECS_SHIM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} tf_jpeg_error_t;

static void tf_jpeg_error_exit(j_common_ptr cinfo) {
    tf_jpeg_error_t *e = (tf_jpeg_error_t *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

/* Warnings (level -1) are counted and the first one kept; trace messages are ignored. */
static void tf_jpeg_emit_message(j_common_ptr cinfo, int level) {
    tf_jpeg_error_t *e = (tf_jpeg_error_t *)cinfo->err;
    if (level < 0) {
        if (e->pub.num_warnings == 0) (*cinfo->err->format_message)(cinfo, e->message);
        e->pub.num_warnings++;
    }
}

static inline void tf_copy_message(char *dst, size_t cap, const char *src) {
    if (cap == 0) return;
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = 0;
}

/* Decodes a JPEG to 8-bit grey (1 channel) or RGB (3 channels), whichever is native. */
static inline int tf_jpeg_decode(const unsigned char *data, unsigned long size, unsigned char **out,
                                 int *width, int *height, int *channels, char *message, size_t cap) {
    struct jpeg_decompress_struct cinfo;
    tf_jpeg_error_t err;
    unsigned char *volatile buffer = NULL;
    memset(&err, 0, sizeof err);
    *out = NULL;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = tf_jpeg_error_exit;
    err.pub.emit_message = tf_jpeg_emit_message;
    if (setjmp(err.jump)) {
        tf_copy_message(message, cap, err.message);
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        tf_copy_message(message, cap, cinfo.jpeg_color_space == JCS_CMYK ? "CMYK" : "YCCK");
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    buffer = (unsigned char *)malloc(stride * cinfo.output_height);
    if (buffer == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buffer + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (err.pub.num_warnings > 0) {
        tf_copy_message(message, cap, err.message);
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        return 1;
    }
    *width = (int)cinfo.output_width;
    *height = (int)cinfo.output_height;
    *channels = cinfo.output_components;
    *out = buffer;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/* Encodes 8-bit grey, RGB or CMYK (channels 4) pixels as a baseline JPEG of the given quality into *out (*size bytes). */
static inline int tf_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality,
                                 unsigned char **out, unsigned long *size, char *message, size_t cap) {
    struct jpeg_compress_struct cinfo;
    tf_jpeg_error_t err;
    unsigned char *volatile buffer = NULL;
    unsigned long length = 0;
    memset(&err, 0, sizeof err);
    *out = NULL;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = tf_jpeg_error_exit;
    err.pub.emit_message = tf_jpeg_emit_message;
    if (setjmp(err.jump)) {
        tf_copy_message(message, cap, err.message);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &length);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *size = length;
    return 0;
}

/* Decodes a PNG (any bit depth, palette, alpha) to 8-bit grey or RGB, whichever is native.
 * 16-bit samples without gAMA/sRGB chunks are taken as sRGB-encoded (as image tools write
 * them) and scaled to 8 bits; alpha is composited onto black. */
static inline int tf_png_decode(const unsigned char *data, size_t size, unsigned char **out,
                                int *width, int *height, int *channels, char *message, size_t cap) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    *out = NULL;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        tf_copy_message(message, cap, image.message);
        png_image_free(&image);
        return 1;
    }
    image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t bytes = PNG_IMAGE_SIZE(image);
    unsigned char *buffer = (unsigned char *)malloc(bytes > 0 ? bytes : 1);
    if (buffer == NULL) {
        png_image_free(&image);
        return 3;
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&image, &black, buffer, 0, NULL)) {
        tf_copy_message(message, cap, image.message);
        png_image_free(&image);
        free(buffer);
        return 1;
    }
    *width = (int)image.width;
    *height = (int)image.height;
    *channels = color ? 3 : 1;
    *out = buffer;
    return 0;
}

/* Encodes 8-bit grey/RGB (bits 8) or 16-bit native-endian grey/RGB (bits 16, sRGB-encoded values)
 * as a PNG into *out (*size bytes). */
static inline int tf_png_encode(const void *pixels, int width, int height, int channels, int bits,
                                unsigned char **out, size_t *size, char *message, size_t cap) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = (channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB) | (bits == 16 ? PNG_FORMAT_FLAG_LINEAR : 0);
    *out = NULL;
    size_t length = 0;
    if (!png_image_write_get_memory_size(image, length, 0, pixels, 0, NULL)) {
        tf_copy_message(message, cap, image.message);
        return 1;
    }
    unsigned char *buffer = (unsigned char *)malloc(length);
    if (buffer == NULL) return 3;
    if (!png_image_write_to_memory(&image, buffer, &length, 0, pixels, 0, NULL)) {
        tf_copy_message(message, cap, image.message);
        free(buffer);
        return 1;
    }
    *out = buffer;
    *size = length;
    return 0;
}

#endif
