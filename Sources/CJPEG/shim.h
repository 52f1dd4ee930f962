// libjpeg(-turbo), behind one decode function. libjpeg reports errors through error_exit, which
// must not return; it longjmps back here, so Swift only ever sees a status and a message.
#include <stdio.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    int width, height;
    int channels;           // 1 gray, 3 RGB, 4 CMYK (as stored; Adobe files are inverted)
    int adobeInverted;      // 1 when CMYK samples are inverted (Adobe APP14)
    int progressive;
    unsigned char *pixels;  // rows top to bottom, interleaved 8-bit; free() when done
    char message[JMSG_LENGTH_MAX + 32];
} graft_jpeg_image;

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    graft_jpeg_image *image;
} graft_jpeg_error;

static void graft_jpeg_error_exit(j_common_ptr cinfo) {
    graft_jpeg_error *error = (graft_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->image->message);
    longjmp(error->jump, 1);
}

static void graft_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/// Warnings are ignored except running out of data: a truncated file is an error, not a gray tail.
static void graft_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        graft_jpeg_error *error = (graft_jpeg_error *)cinfo->err;
        strcpy(error->image->message, "file is truncated");
        longjmp(error->jump, 1);
    }
}

/// Decodes a JPEG held in memory (baseline or progressive; gray, YCbCr or CMYK). Returns 0 on
/// success; otherwise 1 and a message. Refuses more than maxPixels pixels before decoding.
static inline int graft_jpeg_decode(const unsigned char *data, size_t size, long maxPixels, graft_jpeg_image *image) {
    memset(image, 0, sizeof *image);
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        strcpy(image->message, "not a JPEG file");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    graft_jpeg_error error;
    unsigned char *volatile pixels = NULL;   /* the variable is volatile (it survives longjmp), not what it points to */
    error.image = image;
    cinfo.err = jpeg_std_error(&error.base);
    error.base.error_exit = graft_jpeg_error_exit;
    error.base.output_message = graft_jpeg_output_message;
    error.base.emit_message = graft_jpeg_emit_message;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free((void *)pixels);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((double)cinfo.image_width * (double)cinfo.image_height > (double)maxPixels) {
        snprintf(image->message, sizeof image->message, "image is %ux%u, more than the %ld-pixel limit",
                 cinfo.image_width, cinfo.image_height, maxPixels);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    /* Every 8x8 block takes at least a bit (its DC coefficient) in any JPEG, so a file cannot encode
       more than 512 pixels per byte; 2048 leaves room. A header claiming more is a lie that would
       allocate the whole image before running out of data. */
    if ((double)cinfo.image_width * (double)cinfo.image_height / 2048.0 > (double)size) {
        snprintf(image->message, sizeof image->message, "image claims %ux%u pixels, more than its %lu bytes can encode",
                 cinfo.image_width, cinfo.image_height, (unsigned long)size);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    image->progressive = cinfo.progressive_mode ? 1 : 0;
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        cinfo.out_color_space = JCS_CMYK;
        image->adobeInverted = cinfo.saw_Adobe_marker ? 1 : 0;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(&cinfo);
    image->width = (int)cinfo.output_width;
    image->height = (int)cinfo.output_height;
    image->channels = cinfo.output_components;
    size_t rowBytes = (size_t)cinfo.output_width * cinfo.output_components;
    pixels = malloc(rowBytes * cinfo.output_height);
    if (!pixels) {
        strcpy(image->message, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)(pixels + rowBytes * cinfo.output_scanline);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    image->pixels = (unsigned char *)pixels;
    return 0;
}
