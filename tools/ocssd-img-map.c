/*
 * ocssd-img map: a picture of an image's chunks
 *
 * Two panels, one row per parallel unit and one cell per chunk: the chunk
 * states, then the wear (erase counts) as a heat map; a legend below.
 * The same drawing goes to SVG (text) or PNG (an RGB raster, compressed
 * with zlib, which QEMU links anyway; its labels use a 3x5 pixel font of
 * our own, so no other library is needed).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include <zlib.h>
#include "ocssd-img.h"

/* ---- a canvas of rectangles and text: SVG or an RGB raster ----------- */

typedef struct Canvas {
    bool        svg;
    int         w, h;
    GString     *out;           /* svg */
    uint8_t     *rgb;           /* raster, w * h * 3 */
} Canvas;

#define FONT_SCALE  2
#define CHAR_W      ((3 + 1) * FONT_SCALE)  /* advance */
#define TEXT_H      12                      /* a line of text */

/* 3x5 glyphs, one octal digit a row (bit 2 is the left pixel). */
static uint16_t glyph(char ch)
{
    static const char *const chars =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,-:()/=%_+'?";
    static const uint16_t glyphs[] = {
        075557, 026227, 071747, 071717, 055711, 074717, 074757, 071122,
        075757, 075717, 025755, 065656, 034443, 065556, 074647, 074644,
        034553, 055755, 072227, 011152, 055655, 044447, 057755, 065555,
        025552, 065644, 025563, 065655, 034216, 072222, 055557, 055552,
        055775, 055255, 055222, 071247, 000002, 000024, 000700, 002020,
        012221, 042224, 011244, 007070, 051245, 000007, 002720, 022000,
        071202,
    };
    const char *p;

    if (ch == ' ' || !ch) {
        return 0;
    }
    p = strchr(chars, g_ascii_toupper(ch));
    return p ? glyphs[p - chars] : glyphs[strlen(chars) - 1];
}

static void canvas_rect(Canvas *cv, int x, int y, int w, int h,
                        uint32_t rgb)
{
    int i, j;

    if (cv->svg) {
        g_string_append_printf(cv->out, "<rect x=\"%d\" y=\"%d\" width=\"%d\""
                               " height=\"%d\" fill=\"#%06" PRIx32 "\"/>\n",
                               x, y, w, h, rgb);
        return;
    }
    for (j = MAX(y, 0); j < MIN(y + h, cv->h); j++) {
        for (i = MAX(x, 0); i < MIN(x + w, cv->w); i++) {
            uint8_t *px = cv->rgb + ((size_t)j * cv->w + i) * 3;

            px[0] = rgb >> 16;
            px[1] = rgb >> 8;
            px[2] = rgb;
        }
    }
}

/* Text whose top left corner is (x, y). */
static void canvas_text(Canvas *cv, int x, int y, const char *text)
{
    int row, col;

    if (cv->svg) {
        g_autofree char *valid = g_utf8_make_valid(text, -1);
        g_autofree char *esc = g_markup_escape_text(valid, -1);

        g_string_append_printf(cv->out, "<text x=\"%d\" y=\"%d\">%s</text>\n",
                               x, y + 10, esc);
        return;
    }
    for (; *text; text++, x += CHAR_W) {
        uint16_t g = glyph(*text);

        for (row = 0; row < 5; row++) {
            for (col = 0; col < 3; col++) {
                if (g >> ((4 - row) * 3 + (2 - col)) & 1) {
                    canvas_rect(cv, x + col * FONT_SCALE,
                                y + 1 + row * FONT_SCALE, FONT_SCALE,
                                FONT_SCALE, 0x000000);
                }
            }
        }
    }
}

static void canvas_init(Canvas *cv, bool svg, int w, int h)
{
    cv->svg = svg;
    cv->w = w;
    cv->h = h;
    if (svg) {
        cv->out = g_string_new(NULL);
        g_string_append_printf(cv->out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
            "font-size=\"11\" shape-rendering=\"crispEdges\">\n", w, h, w, h);
    } else {
        cv->rgb = g_malloc((size_t)w * h * 3);
    }
    canvas_rect(cv, 0, 0, w, h, 0xffffff);
}

static void png_chunk(GByteArray *png, const char *type, const uint8_t *data,
                      size_t len)
{
    uint8_t be[4];
    uLong crc;

    stl_be_p(be, len);
    g_byte_array_append(png, be, 4);
    g_byte_array_append(png, (const uint8_t *)type, 4);
    g_byte_array_append(png, data, len);
    crc = crc32(0, (const Bytef *)type, 4);
    if (len) {
        /* crc32(crc, NULL, 0) is not crc: zlib returns its initial value */
        crc = crc32(crc, data, len);
    }
    stl_be_p(be, crc);
    g_byte_array_append(png, be, 4);
}

/* The finished picture: SVG text or a PNG file, in a new byte array. */
static GByteArray *canvas_finish(Canvas *cv)
{
    GByteArray *png;
    uint8_t ihdr[13] = { 0 };
    size_t stride = (size_t)cv->w * 3 + 1, y;
    g_autofree uint8_t *raw = NULL, *z = NULL;
    uLongf zlen;

    if (cv->svg) {
        g_string_append(cv->out, "</svg>\n");
        png = g_byte_array_new();
        g_byte_array_append(png, (uint8_t *)cv->out->str, cv->out->len);
        g_string_free(cv->out, true);
        return png;
    }
    raw = g_malloc(stride * cv->h);
    for (y = 0; y < cv->h; y++) {
        raw[y * stride] = 0;    /* filter: none */
        memcpy(raw + y * stride + 1, cv->rgb + y * cv->w * 3, cv->w * 3);
    }
    zlen = compressBound(stride * cv->h);
    z = g_malloc(zlen);
    if (compress2(z, &zlen, raw, stride * cv->h, 9) != Z_OK) {
        g_free(cv->rgb);
        return NULL;
    }
    png = g_byte_array_new();
    g_byte_array_append(png, (const uint8_t *)"\x89PNG\r\n\x1a\n", 8);
    stl_be_p(ihdr, cv->w);
    stl_be_p(ihdr + 4, cv->h);
    ihdr[8] = 8;                /* bits per sample */
    ihdr[9] = 2;                /* RGB */
    png_chunk(png, "IHDR", ihdr, sizeof(ihdr));
    png_chunk(png, "IDAT", z, zlen);
    png_chunk(png, "IEND", NULL, 0);
    g_free(cv->rgb);
    return png;
}

/* ---- the map ----------------------------------------------------------- */

static uint32_t state_colour(uint8_t state)
{
    switch (state) {
    case OCSSD_CHUNK_FREE:
        return 0xd9d9d9;
    case OCSSD_CHUNK_OPEN:
        return 0xf2a900;
    case OCSSD_CHUNK_CLOSED:
        return 0x2f6db5;
    case OCSSD_CHUNK_OFFLINE:
        return 0x202020;
    default:
        return 0xe0301e;
    }
}

/* Wear t in [0, 1] on a viridis-like ramp. */
static uint32_t heat_colour(double t)
{
    static const uint32_t stops[] = {
        0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725,
    };
    int n = ARRAY_SIZE(stops) - 1, i, k;
    double f;
    uint32_t c = 0;

    t = MAX(0.0, MIN(1.0, t));
    i = MIN((int)(t * n), n - 1);
    f = t * n - i;
    for (k = 16; k >= 0; k -= 8) {
        double a = (stops[i] >> k) & 0xff, b = (stops[i + 1] >> k) & 0xff;

        c |= (uint32_t)(a + (b - a) * f + 0.5) << k;
    }
    return c;
}

static const uint8_t map_states[] = {
    OCSSD_CHUNK_FREE, OCSSD_CHUNK_OPEN, OCSSD_CHUNK_CLOSED,
    OCSSD_CHUNK_OFFLINE, 0,
};

/* Draw img into a new picture (svg or png). */
static GByteArray *draw_map(OcssdImg *img, bool svg)
{
    const OcssdMediaParams *p = &img->p;
    uint64_t npu = (uint64_t)p->num_grp * p->num_pu, i;
    uint64_t count[ARRAY_SIZE(map_states)] = { 0 };
    g_autofree uint8_t *state = NULL;
    uint32_t ec_min = UINT32_MAX, ec_max = 0;
    int cw = MAX(1, MIN(16, 900 / (int)MIN(p->num_chk, 900)));
    int ch = MAX(1, MIN(16, 360 / (int)MIN(npu, 360)));
    int margin = 10, label_w = 12 * CHAR_W, grid_w = cw * p->num_chk;
    int grid_h = ch * npu, label_every = DIV_ROUND_UP(TEXT_H, ch);
    int x0 = margin + label_w, y, w, h, lx, panel, k;
    g_autofree char *title = NULL;
    GByteArray *out;
    OcssdMedia m;
    Canvas cv;

    ocssd_media_init(&m, p);
    state = g_malloc0(m.nchunks);
    ocssd_img_decode(img, &m, state);
    for (i = 0; i < m.nchunks; i++) {
        for (k = 0; k < ARRAY_SIZE(map_states); k++) {
            count[k] += state[i] == map_states[k];
        }
        if (state[i] && state[i] != OCSSD_CHUNK_OFFLINE) {
            ec_min = MIN(ec_min, m.chunk[i].erase_count);
            ec_max = MAX(ec_max, m.chunk[i].erase_count);
        }
    }
    if (ec_min > ec_max) {
        ec_min = ec_max = 0;
    }

    w = MAX(x0 + grid_w + margin, 64 * CHAR_W + 2 * margin);
    h = margin + 2 * TEXT_H + 2 * (TEXT_H + grid_h + margin) +
        3 * TEXT_H + margin;
    canvas_init(&cv, svg, w, h);
    title = g_strdup_printf("%s: %u x %u PUs x %u chunks", img->name,
                            p->num_grp, p->num_pu, p->num_chk);
    canvas_text(&cv, margin, margin, title);
    y = margin + 2 * TEXT_H;

    for (panel = 0; panel < 2; panel++) {
        canvas_text(&cv, margin, y, panel ? "wear: erase count per chunk" :
                    "chunk state");
        y += TEXT_H;
        for (i = 0; i < npu; i++) {
            uint32_t c;

            if (i % label_every == 0) {
                g_autofree char *l = g_strdup_printf("g%" PRIu64 " pu%"
                                                     PRIu64, i / p->num_pu,
                                                     i % p->num_pu);

                canvas_text(&cv, margin, y + i * ch, l);
            }
            for (c = 0; c < p->num_chk; c++) {
                uint64_t ci = i * p->num_chk + c;
                uint32_t colour;

                if (!panel) {
                    colour = state_colour(state[ci]);
                } else if (!state[ci] || state[ci] == OCSSD_CHUNK_OFFLINE) {
                    colour = state_colour(state[ci]);
                } else {
                    colour = heat_colour(ec_max == ec_min ? 0 :
                        (double)(m.chunk[ci].erase_count - ec_min) /
                        (ec_max - ec_min));
                }
                canvas_rect(&cv, x0 + c * cw, y + i * ch, cw, ch, colour);
            }
        }
        y += grid_h + margin;
    }

    /* Legend: the states with their counts, then the heat scale. */
    for (k = 0, lx = margin; k < ARRAY_SIZE(map_states); k++) {
        g_autofree char *l = NULL;

        if (!map_states[k] && !count[k]) {
            continue;
        }
        l = g_strdup_printf("%s %" PRIu64, ocssd_img_state_name(map_states[k]),
                            count[k]);
        canvas_rect(&cv, lx, y + 1, 10, 10, state_colour(map_states[k]));
        canvas_text(&cv, lx + 14, y, l);
        lx += 14 + (strlen(l) + 2) * CHAR_W;
    }
    y += TEXT_H + 4;
    {
        g_autofree char *lo = g_strdup_printf("erase count %u", ec_min);
        g_autofree char *hi = g_strdup_printf("%u", ec_max);
        int bx = margin + (strlen(lo) + 1) * CHAR_W;

        canvas_text(&cv, margin, y, lo);
        for (k = 0; k < 200; k++) {
            canvas_rect(&cv, bx + k, y + 1, 1, 10, heat_colour(k / 199.0));
        }
        canvas_text(&cv, bx + 206, y, hi);
    }
    out = canvas_finish(&cv);
    ocssd_media_cleanup(&m);
    return out;
}

int ocssd_img_cmd_map(int argc, char **argv)
{
    static const struct option longopts[] = {
        OCSSD_IMG_OPEN_LONGOPTS,
        { "output", required_argument, NULL, 'o' },
        { "out", required_argument, NULL, 'O' },
        { "help", no_argument, NULL, 'h' },
        { }
    };
    OcssdImgOpen o = { };
    const char *fmt = NULL, *out = NULL, *name;
    g_autofree char *path = NULL;
    GError *gerr = NULL;
    GByteArray *pic;
    Error *err = NULL;
    OcssdImg img;
    bool svg;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, OCSSD_IMG_OPEN_SHORTOPTS "O:h",
                            longopts, NULL)) != -1) {
        if (!ocssd_img_parse_common(c, optarg, &o)) {
            continue;
        }
        switch (c) {
        case 'o':
            fmt = optarg;
            break;
        case 'O':
            out = optarg;
            break;
        case 'h':
            printf("Usage: ocssd-img map [-f FMT|--image-opts] [-U] "
                   "--output=svg|png [-O OUTFILE] FILE\n");
            return EXIT_CLEAN;
        default:
            error_report("map: see ocssd-img help");
            return EXIT_FAILED;
        }
    }
    if (optind != argc - 1) {
        error_report("map: expected exactly one FILE (see ocssd-img help)");
        return EXIT_FAILED;
    }
    name = argv[optind];
    if (!fmt || (g_ascii_strcasecmp(fmt, "svg") &&
                 g_ascii_strcasecmp(fmt, "png"))) {
        error_report("map: %s: say which picture with --output=svg or "
                     "--output=png", name);
        return EXIT_FAILED;
    }
    svg = !g_ascii_strcasecmp(fmt, "svg");
    if (!out) {
        if (o.image_opts || path_has_protocol(name)) {
            error_report("map: %s is no file name to put the picture "
                         "beside: give one with -O OUTFILE", name);
            return EXIT_FAILED;
        }
        out = path = g_strdup_printf("%s.%s", name, svg ? "svg" : "png");
    }
    if (ocssd_img_open(&img, &o, name, false, &err) != EXIT_CLEAN) {
        error_report_err(err);
        ocssd_img_close(&img);
        return EXIT_FAILED;
    }
    pic = draw_map(&img, svg);
    ocssd_img_close(&img);
    if (!pic) {
        error_report("map: %s: cannot compress the PNG", name);
        return EXIT_FAILED;
    }
    if (!strcmp(out, "-")) {
        fwrite(pic->data, 1, pic->len, stdout);
    } else if (!g_file_set_contents(out, (const char *)pic->data, pic->len,
                                    &gerr)) {
        error_report("map: cannot write the picture: %s", gerr->message);
        g_error_free(gerr);
        g_byte_array_unref(pic);
        return EXIT_FAILED;
    }
    if (strcmp(out, "-")) {
        printf("%s: %s map written to %s\n", name, svg ? "SVG" : "PNG", out);
    }
    g_byte_array_unref(pic);
    return EXIT_CLEAN;
}
