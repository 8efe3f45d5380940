/* A TLS client in C over a non-blocking socket and poll(), driven by
 * tlsbio's want codes: connects to HOST:PORT, verifies the server against
 * CA.pem, sends REQUEST, prints every byte of the reply to stdout until
 * the server closes, and says how it closed.
 *
 *   ./client HOST PORT CA.pem REQUEST
 *
 * Exit status: 0 after a clean close (close_notify), 3 after a close
 * without close_notify, 1 on a TLS error. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "tlsbio.h"

static int fd;
static tlsbio_conn *tls;

/* Sends all output, waiting for the socket when it is full. */
static void flush(void) {
    while (tlsbio_bio_ctrl_pending(tls) > 0) {
        const uint8_t *data = NULL;
        size_t len = tlsbio_bio_peek_out(tls, &data);
        ssize_t n = write(fd, data, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 10000);
            continue;
        }
        if (n <= 0) {
            perror("write");
            exit(1);
        }
        tlsbio_bio_consume_out(tls, (size_t)n);
    }
}

/* TLSBIO_ERROR_WANT_READ: waits for the socket and feeds what arrived. */
static void receive(void) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1) {
        fprintf(stderr, "timed out waiting for the server\n");
        exit(1);
    }
    unsigned char buf[16384];
    size_t room = tlsbio_bio_get_write_guarantee(tls);
    ssize_t n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) tlsbio_bio_shutdown_wr(tls);
    else tlsbio_bio_write(tls, buf, (size_t)n);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST PORT CA.pem REQUEST\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    static unsigned char ca[1 << 16];
    size_t ca_len = fread(ca, 1, sizeof ca, f);
    fclose(f);
    tlsbio_ctx *ctx = tlsbio_ctx_new_client(ca, ca_len);
    if (!ctx) {
        fprintf(stderr, "%s\n", tlsbio_last_error());
        return 1;
    }
    tls = tlsbio_new_client(ctx, argv[1]);
    tlsbio_ctx_free(ctx); /* the connection keeps what it needs */
    if (!tls) {
        fprintf(stderr, "%s\n", tlsbio_last_error());
        return 1;
    }

    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
        fprintf(stderr, "cannot resolve %s\n", argv[1]);
        return 1;
    }
    fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        perror("connect");
        return 1;
    }
    freeaddrinfo(ai);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);

    int ret;
    while ((ret = tlsbio_connect(tls)) != 1) {
        flush();
        if (tlsbio_get_error(tls, ret) != TLSBIO_ERROR_WANT_READ) {
            fprintf(stderr, "handshake failed: %s\n", tlsbio_error_string(tls));
            return 1;
        }
        receive();
    }
    fprintf(stderr, "connected: %s %s\n", tlsbio_get_version(tls), tlsbio_get_cipher_name(tls));
    const char *request = argv[4];
    size_t len = strlen(request), sent = 0;
    while (sent < len) {
        int n = tlsbio_write(tls, (const uint8_t *)request + sent, len - sent);
        flush();
        if (n > 0) sent += (size_t)n;
        else if (tlsbio_get_error(tls, n) != TLSBIO_ERROR_WANT_WRITE) {
            fprintf(stderr, "write failed: %s\n", tlsbio_error_string(tls));
            return 1;
        }
    }
    int status;
    for (;;) {
        unsigned char buf[4096];
        int n = tlsbio_read(tls, buf, sizeof buf);
        flush();
        if (n > 0) {
            fwrite(buf, 1, (size_t)n, stdout);
            continue;
        }
        int err = tlsbio_get_error(tls, n);
        if (err == TLSBIO_ERROR_WANT_READ) {
            receive();
            continue;
        }
        if (err == TLSBIO_ERROR_ZERO_RETURN) {
            fprintf(stderr, "closed: close_notify\n");
            tlsbio_shutdown(tls);
            flush();
            status = 0;
        } else if (err == TLSBIO_ERROR_SYSCALL) {
            fprintf(stderr, "closed: %s\n", tlsbio_error_string(tls));
            status = 3;
        } else {
            fprintf(stderr, "failed: %s\n", tlsbio_error_string(tls));
            status = 1;
        }
        break;
    }
    fflush(stdout);
    close(fd);
    tlsbio_free(tls);
    return status;
}
