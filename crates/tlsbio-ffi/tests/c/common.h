/* Helpers shared by the C tests: checks that say where they failed, PEM
 * files read into memory, and ciphertext moved between two connections
 * the way an event loop would. */
#ifndef TLSBIO_TEST_COMMON_H
#define TLSBIO_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsbio.h"

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ != b_) {                                                      \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

struct file {
    unsigned char *data;
    size_t len;
};

static struct file read_file(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    struct file out = {NULL, 0};
    size_t cap = 0;
    for (;;) {
        if (out.len == cap) {
            cap = cap ? cap * 2 : 4096;
            out.data = realloc(out.data, cap);
            CHECK(out.data != NULL);
        }
        size_t n = fread(out.data + out.len, 1, cap - out.len, f);
        if (n == 0) break;
        out.len += n;
    }
    fclose(f);
    return out;
}

/* Moves every pending byte of `from`'s output into `to`'s read buffer, as
 * much as fits. `lend` picks the zero-copy calls over the copying one.
 * Returns the bytes moved. */
static size_t pump(tlsbio_conn *from, tlsbio_conn *to, int lend) {
    size_t moved = 0;
    while (tlsbio_bio_ctrl_pending(from) > 0) {
        size_t room = tlsbio_bio_get_write_guarantee(to);
        if (room == 0) break;
        if (lend) {
            const uint8_t *data = NULL;
            size_t n = tlsbio_bio_peek_out(from, &data);
            CHECK(n > 0 && data != NULL);
            if (n > room) n = room;
            int taken = tlsbio_bio_write(to, data, n);
            CHECK_EQ(taken, n);
            CHECK_EQ(tlsbio_bio_consume_out(from, n), 1);
            moved += n;
        } else {
            uint8_t buf[1000];
            size_t want = room < sizeof buf ? room : sizeof buf;
            int n = tlsbio_bio_read(from, buf, want);
            CHECK(n > 0);
            CHECK_EQ(tlsbio_bio_write(to, buf, (size_t)n), n);
            moved += (size_t)n;
        }
    }
    return moved;
}

#endif
