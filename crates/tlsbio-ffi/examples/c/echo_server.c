/* A TLS echo server in C on epoll and non-blocking sockets, driven only by
 * tlsbio's want codes: copy it as the skeleton of your own event loop.
 *
 *   cc -I crates/tlsbio-ffi/include echo_server.c target/release/libtlsbio_ffi.a \
 *      -lpthread -ldl -lm -o echo_server
 *   ./echo_server PORT CERT.pem KEY.pem [CONNECTIONS]
 *
 * It listens on 127.0.0.1:PORT, echoes every byte back over TLS, answers
 * close_notify with close_notify, and exits after CONNECTIONS connections
 * (default: never). The loop per connection is the tlsbio rule:
 *
 *   1. socket readable: read() ciphertext, tlsbio_bio_write() it in;
 *      EOF: tlsbio_bio_shutdown_wr();
 *   2. call tlsbio_accept() until it returns 1, then tlsbio_read() and
 *      tlsbio_write() the plaintext back;
 *   3. after every call: send tlsbio_bio_peek_out() bytes with write(),
 *      tlsbio_bio_consume_out() what was sent; if the socket is full, wait
 *      for EPOLLOUT;
 *   4. TLSBIO_ERROR_WANT_READ: wait for EPOLLIN. Anything else ends it. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#include "tlsbio.h"

struct conn {
    int fd;
    tlsbio_conn *tls;
    int established;
    int closing;           /* close once the output is sent */
    unsigned char back[16384]; /* plaintext read but not yet echoed */
    size_t back_len, back_off;
};

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

/* Step 3: sends what the engine produced. Returns 1 when all was sent, 0
 * when the socket is full, -1 when the peer is gone. */
static int flush(struct conn *c) {
    while (tlsbio_bio_ctrl_pending(c->tls) > 0) {
        const uint8_t *data = NULL;
        size_t len = tlsbio_bio_peek_out(c->tls, &data);
        ssize_t n = write(c->fd, data, len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        tlsbio_bio_consume_out(c->tls, (size_t)n);
    }
    return 1;
}

/* Step 2: everything the engine can do with the input it has. */
static void drive(struct conn *c) {
    if (c->closing) return;
    if (!c->established) {
        int ret = tlsbio_accept(c->tls);
        if (ret != 1) {
            int err = tlsbio_get_error(c->tls, ret);
            if (err != TLSBIO_ERROR_WANT_READ) {
                fprintf(stderr, "handshake failed: %s\n", tlsbio_error_string(c->tls));
                c->closing = 1;
            }
            return;
        }
        c->established = 1;
        fprintf(stderr, "connection: %s %s\n", tlsbio_get_version(c->tls),
                tlsbio_get_cipher_name(c->tls));
    }
    for (;;) {
        while (c->back_off < c->back_len) {
            int n = tlsbio_write(c->tls, c->back + c->back_off, c->back_len - c->back_off);
            if (n <= 0) {
                if (tlsbio_get_error(c->tls, n) != TLSBIO_ERROR_WANT_WRITE) c->closing = 1;
                return; /* output full: EPOLLOUT brings us back */
            }
            c->back_off += (size_t)n;
        }
        int n = tlsbio_read(c->tls, c->back, sizeof c->back);
        if (n > 0) {
            c->back_len = (size_t)n;
            c->back_off = 0;
            continue;
        }
        int err = tlsbio_get_error(c->tls, n);
        if (err == TLSBIO_ERROR_ZERO_RETURN) {
            tlsbio_shutdown(c->tls); /* our close_notify back */
            c->closing = 1;
        } else if (err != TLSBIO_ERROR_WANT_READ) {
            fprintf(stderr, "connection failed: %s\n", tlsbio_error_string(c->tls));
            c->closing = 1;
        }
        return;
    }
}

/* Step 1: ciphertext from the socket into the engine. Returns 0 at EOF or
 * on an error. */
static int receive(struct conn *c) {
    for (;;) {
        size_t room = tlsbio_bio_get_write_guarantee(c->tls);
        if (room == 0) return 1; /* full: drive() makes room */
        unsigned char buf[16384];
        ssize_t n = read(c->fd, buf, room < sizeof buf ? room : sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            tlsbio_bio_shutdown_wr(c->tls);
            return 0;
        }
        tlsbio_bio_write(c->tls, buf, (size_t)n);
        drive(c); /* use the room before reading more */
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT CERT.pem KEY.pem [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    long limit = argc > 4 ? atol(argv[4]) : -1;
    tlsbio_ctx *ctx = tlsbio_ctx_new_server_from_files(argv[2], argv[3]);
    if (!ctx) {
        fprintf(stderr, "%s\n", tlsbio_last_error());
        return 1;
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(listener, 64) < 0) die("listen");
    set_nonblocking(listener);
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0) die("epoll_ctl");
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    long accepted = 0, finished = 0;
    while (limit < 0 || finished < limit) {
        struct epoll_event events[64];
        int n = epoll_wait(ep, events, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) { /* the listener */
                for (;;) {
                    int fd = accept(listener, NULL, NULL);
                    if (fd < 0) break;
                    set_nonblocking(fd);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    c->tls = tlsbio_new_server(ctx);
                    if (!c->tls) {
                        fprintf(stderr, "%s\n", tlsbio_last_error());
                        return 1;
                    }
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                    accepted++;
                }
                continue;
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && !c->closing) {
                if (!receive(c)) {
                    drive(c); /* the engine answers the EOF */
                    c->closing = 1;
                }
            }
            drive(c);
            int sent = flush(c);
            /* Done: the peer is gone, or we closed and everything is sent. */
            if (sent < 0 || (c->closing && sent == 1)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                tlsbio_free(c->tls);
                free(c);
                finished++;
                continue;
            }
            uint32_t want = (c->closing ? 0 : EPOLLIN) | (sent == 0 ? EPOLLOUT : 0);
            struct epoll_event cev = {.events = want, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        }
    }
    fprintf(stderr, "served %ld connections\n", accepted);
    close(ep);
    close(listener);
    tlsbio_ctx_free(ctx);
    return 0;
}
