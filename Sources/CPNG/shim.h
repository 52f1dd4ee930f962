// libpng, behind one decode function. libpng reports errors by longjmp, which Swift cannot
// catch, so the whole decode lives here in C and returns a status and a message instead.
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int width, height;
    int channels;       // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette and tRNS expanded)
    int bitDepth;       // 8 or 16 (16-bit samples in host byte order)
    unsigned char *pixels;  // rows top to bottom, interleaved; free() when done
    char message[256];
} graft_png_image;

typedef struct {
    const unsigned char *data;
    size_t size, offset;
    graft_png_image *image;
    jmp_buf jump;
} graft_png_source;

static void graft_png_error(png_structp png, png_const_charp message) {
    graft_png_source *source = (graft_png_source *)png_get_error_ptr(png);
    strncpy(source->image->message, message ? message : "libpng error", sizeof source->image->message - 1);
    longjmp(source->jump, 1);
}

static void graft_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static void graft_png_read(png_structp png, png_bytep out, png_size_t count) {
    graft_png_source *source = (graft_png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "file is truncated");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

/// Decodes a PNG held in memory. Returns 0 on success; otherwise 1 and a message. Refuses images
/// of more than maxPixels pixels after reading the header, before allocating the pixels.
static inline int graft_png_decode(const unsigned char *data, size_t size, long maxPixels, graft_png_image *image) {
    memset(image, 0, sizeof *image);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        strcpy(image->message, "not a PNG file");
        return 1;
    }
    graft_png_source source = { data, size, 8, image };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, graft_png_error, graft_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        strcpy(image->message, "libpng could not start");
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    volatile png_bytepp rows = NULL;
    unsigned char *volatile pixels = NULL;   /* the variable is volatile (it survives longjmp), not what it points to */
    if (setjmp(source.jump)) {
        free((void *)rows);
        free((void *)pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &source, graft_png_read);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, 1u << 20, 1u << 20);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((double)width * (double)height > (double)maxPixels) {
        snprintf(image->message, sizeof image->message, "image is %ux%u, more than the %ld-pixel limit", width, height, maxPixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    int colorType = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    /* Deflate expands at most 1,032-fold: the pixel rows (a filter byte each) must fit in that. */
    double encodedRow = 1.0 + ((double)width * png_get_channels(png, info) * depth + 7.0) / 8.0;
    if ((double)height * encodedRow / 1032.0 > (double)size) {
        snprintf(image->message, sizeof image->message, "image claims %ux%u pixels, more than its %lu bytes can encode",
                 width, height, (unsigned long)size);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    image->width = (int)width;
    image->height = (int)height;
    image->channels = png_get_channels(png, info);
    image->bitDepth = png_get_bit_depth(png, info);
    size_t rowBytes = png_get_rowbytes(png, info);
    pixels = malloc(rowBytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = (png_bytep)pixels + y * rowBytes;
    png_read_image(png, (png_bytepp)rows);
    png_read_end(png, NULL);
    free((void *)rows);
    png_destroy_read_struct(&png, &info, NULL);
    image->pixels = (unsigned char *)pixels;
    return 0;
}
