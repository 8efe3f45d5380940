/* The classic in-memory handshake, in C: a client and a server connection
 * in one process, ciphertext moved between them by the test, driven only
 * by the want codes, the way code using OpenSSL memory BIOs does it.
 *
 * Usage: handshake PKI_DIR (with ca.pem, server.pem, server.key,
 * client.pem, client.key). */
#include "common.h"

static const char *dir;
static int keylog_lines;

static void keylog(const char *line, void *userdata) {
    CHECK(userdata == &keylog_lines);
    CHECK(strncmp(line, "CLIENT_", 7) == 0 || strncmp(line, "SERVER_", 7) == 0 ||
          strncmp(line, "EXPORTER_", 9) == 0 || strncmp(line, "CLIENT_RANDOM", 13) == 0);
    CHECK(strchr(line, '\n') == NULL);
    keylog_lines++;
}

static tlsbio_ctx *server_ctx(void) {
    struct file chain = read_file(dir, "server.pem"), key = read_file(dir, "server.key");
    tlsbio_ctx *ctx = tlsbio_ctx_new_server(chain.data, chain.len, key.data, key.len);
    if (!ctx) fprintf(stderr, "server ctx: %s\n", tlsbio_last_error());
    CHECK(ctx != NULL);
    free(chain.data);
    free(key.data);
    return ctx;
}

static tlsbio_ctx *client_ctx(void) {
    struct file ca = read_file(dir, "ca.pem");
    tlsbio_ctx *ctx = tlsbio_ctx_new_client(ca.data, ca.len);
    if (!ctx) fprintf(stderr, "client ctx: %s\n", tlsbio_last_error());
    CHECK(ctx != NULL);
    free(ca.data);
    return ctx;
}

/* Calls the handshake on both until both are done, moving bytes between
 * them after every call. Returns the number of rounds. */
static int handshake(tlsbio_conn *client, tlsbio_conn *server, int lend) {
    int client_done = 0, server_done = 0, rounds = 0;
    while (!(client_done && server_done)) {
        CHECK(++rounds < 100);
        if (!client_done) {
            int ret = tlsbio_connect(client);
            if (ret == 1) client_done = 1;
            else {
                int err = tlsbio_get_error(client, ret);
                if (err != TLSBIO_ERROR_WANT_READ)
                    fprintf(stderr, "client: %d %s\n", err, tlsbio_error_string(client));
                CHECK_EQ(err, TLSBIO_ERROR_WANT_READ);
            }
        }
        pump(client, server, lend);
        if (!server_done) {
            int ret = tlsbio_accept(server);
            if (ret == 1) server_done = 1;
            else {
                int err = tlsbio_get_error(server, ret);
                if (err != TLSBIO_ERROR_WANT_READ)
                    fprintf(stderr, "server: %d %s\n", err, tlsbio_error_string(server));
                CHECK_EQ(err, TLSBIO_ERROR_WANT_READ);
                /* The size hint never asks for more than fits. */
                CHECK(tlsbio_read_request(server) <= tlsbio_bio_get_write_guarantee(server));
            }
        }
        pump(server, client, lend);
    }
    return rounds;
}

/* Sends `len` bytes from `a` to `b` through the engines and checks they
 * arrive intact, reading with a buffer of `chunk` bytes. */
static void transfer(tlsbio_conn *a, tlsbio_conn *b, size_t len, size_t chunk, int lend) {
    unsigned char *out = malloc(len), *in = malloc(len);
    CHECK(out && in);
    for (size_t i = 0; i < len; i++) out[i] = (unsigned char)(i * 7 + 3);
    size_t sent = 0, got = 0;
    int rounds = 0;
    while (got < len) {
        CHECK(++rounds < 100000);
        if (sent < len) {
            int n = tlsbio_write(a, out + sent, len - sent);
            if (n > 0) sent += (size_t)n;
            else CHECK_EQ(tlsbio_get_error(a, n), TLSBIO_ERROR_WANT_WRITE);
        }
        pump(a, b, lend);
        while (got < len) {
            size_t want = len - got < chunk ? len - got : chunk;
            int n = tlsbio_read(b, in + got, want);
            if (n > 0) {
                got += (size_t)n;
                continue;
            }
            CHECK_EQ(tlsbio_get_error(b, n), TLSBIO_ERROR_WANT_READ);
            break;
        }
    }
    CHECK(memcmp(in, out, len) == 0);
    free(out);
    free(in);
}

/* Two-step shutdown: the client closes, the server reads ZERO_RETURN,
 * closes back; both shutdowns complete. */
static void shutdown_both(tlsbio_conn *client, tlsbio_conn *server) {
    CHECK_EQ(tlsbio_shutdown(client), 0);
    pump(client, server, 0);
    unsigned char buf[16];
    int n = tlsbio_read(server, buf, sizeof buf);
    CHECK_EQ(n, 0);
    CHECK_EQ(tlsbio_get_error(server, n), TLSBIO_ERROR_ZERO_RETURN);
    CHECK_EQ(tlsbio_shutdown(server), 1);
    pump(server, client, 0);
    int ret = tlsbio_shutdown(client);
    CHECK_EQ(ret, 1);
    CHECK_EQ(tlsbio_get_error(client, ret), TLSBIO_ERROR_NONE);
    CHECK(strcmp(tlsbio_state_string_long(client), "closed") == 0);
}

static void full_session(int version, int lend) {
    tlsbio_ctx *sctx = server_ctx(), *cctx = client_ctx();
    CHECK_EQ(tlsbio_ctx_set_max_proto_version(sctx, version), 1);
    const unsigned char alpn[] = "\x02h2\x08http/1.1";
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(cctx, alpn, sizeof alpn - 1), 1);
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(sctx, (const unsigned char *)"\x08http/1.1", 9), 1);
    keylog_lines = 0;
    CHECK_EQ(tlsbio_ctx_set_keylog_callback(cctx, keylog, &keylog_lines), 1);

    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    CHECK(client && server);
    CHECK(strcmp(tlsbio_get_version(client), "unknown") == 0);
    CHECK(tlsbio_get_cipher_name(client) == NULL);
    handshake(client, server, lend);

    const char *want = version == TLSBIO_TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3";
    CHECK(strcmp(tlsbio_get_version(client), want) == 0);
    CHECK(strcmp(tlsbio_get_version(server), want) == 0);
    CHECK(tlsbio_get_cipher_name(client) != NULL);
    CHECK(strcmp(tlsbio_get_cipher_name(client), tlsbio_get_cipher_name(server)) == 0);
    CHECK(tlsbio_get_group_name(client) != NULL);
    CHECK(strcmp(tlsbio_get_group_name(client), tlsbio_get_group_name(server)) == 0);
    CHECK(strcmp(tlsbio_get_servername(server), "localhost") == 0);
    const uint8_t *proto = NULL;
    size_t proto_len = 0;
    CHECK_EQ(tlsbio_get0_alpn_selected(client, &proto, &proto_len), 1);
    CHECK(proto_len == 8 && memcmp(proto, "http/1.1", 8) == 0);
    CHECK_EQ(tlsbio_is_init_finished(client), 1);
    CHECK_EQ(tlsbio_session_reused(client), 0);
    CHECK(keylog_lines >= (version == TLSBIO_TLS1_2_VERSION ? 1 : 4));
    /* The server's certificate, as DER (a SEQUENCE). */
    CHECK(tlsbio_get_peer_cert_chain_len(client) >= 1);
    const uint8_t *der = NULL;
    size_t der_len = 0;
    CHECK_EQ(tlsbio_get_peer_certificate(client, 0, &der, &der_len), 1);
    CHECK(der_len > 100 && der[0] == 0x30);
    CHECK_EQ(tlsbio_get_peer_cert_chain_len(server), 0);

    /* Data both ways: more than one record, read through a small buffer. */
    transfer(client, server, 100000, 333, lend);
    transfer(server, client, 50000, 1, lend);
    transfer(client, server, 1, 4096, lend);
    char suite[64], group[64];
    snprintf(suite, sizeof suite, "%s", tlsbio_get_cipher_name(client));
    snprintf(group, sizeof group, "%s", tlsbio_get_group_name(client));
    shutdown_both(client, server);
    tlsbio_free(client);
    tlsbio_free(server);

    /* A second client from the same context resumes. */
    client = tlsbio_new_client(cctx, "localhost");
    server = tlsbio_new_server(sctx);
    handshake(client, server, lend);
    CHECK_EQ(tlsbio_session_reused(client), 1);
    CHECK_EQ(tlsbio_session_reused(server), 1);
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(sctx);
    printf("ok: %s handshake (%s, %s), data both ways, two-step shutdown, resumption (%s output)\n",
           want, suite, group, lend ? "lent" : "copied");
}

/* A flipped byte in an application-data record: the reader fails with
 * TLSBIO_ERROR_SSL, an alert is in its output, and the failure sticks. */
static void corrupted_record(void) {
    tlsbio_ctx *sctx = server_ctx(), *cctx = client_ctx();
    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    handshake(client, server, 0);
    /* Drain what the server may still have (tickets) into the client. */
    unsigned char buf[256];
    CHECK_EQ(tlsbio_write(client, (const unsigned char *)"hello", 5), 5);
    unsigned char record[256];
    int n = tlsbio_bio_read(client, record, sizeof record);
    CHECK(n > 10);
    record[n - 3] ^= 0x40;
    CHECK_EQ(tlsbio_bio_write(server, record, (size_t)n), n);
    int ret = tlsbio_read(server, buf, sizeof buf);
    CHECK_EQ(ret, -1);
    CHECK_EQ(tlsbio_get_error(server, ret), TLSBIO_ERROR_SSL);
    CHECK(strlen(tlsbio_error_string(server)) > 0);
    CHECK(tlsbio_bio_ctrl_pending(server) > 0); /* the alert */
    ret = tlsbio_read(server, buf, sizeof buf);
    CHECK_EQ(tlsbio_get_error(server, ret), TLSBIO_ERROR_SSL);
    CHECK(strcmp(tlsbio_state_string_long(server), "failed") == 0);
    /* The client reads the alert and fails too. */
    pump(server, client, 1);
    ret = tlsbio_read(client, buf, sizeof buf);
    CHECK_EQ(tlsbio_get_error(client, ret), TLSBIO_ERROR_SSL);
    printf("ok: corrupted record -> TLSBIO_ERROR_SSL (%s), alert sent\n",
           tlsbio_error_string(server));
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(sctx);
}

/* A transport that ends without close_notify is SYSCALL, not a clean close. */
static void truncation(void) {
    tlsbio_ctx *sctx = server_ctx(), *cctx = client_ctx();
    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    handshake(client, server, 0);
    CHECK_EQ(tlsbio_bio_shutdown_wr(server), 1);
    unsigned char buf[16];
    int ret = tlsbio_read(server, buf, sizeof buf);
    CHECK_EQ(ret, -1);
    CHECK_EQ(tlsbio_get_error(server, ret), TLSBIO_ERROR_SYSCALL);
    printf("ok: EOF without close_notify -> TLSBIO_ERROR_SYSCALL\n");
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(sctx);
}

/* The ClientHello pause: the server reads SNI and ALPN, picks a context. */
static void client_hello_pause(void) {
    tlsbio_ctx *first = server_ctx(), *chosen = server_ctx(), *cctx = client_ctx();
    CHECK_EQ(tlsbio_ctx_set_client_hello_pause(first, 1), 1);
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(chosen, (const unsigned char *)"\x02h2", 3), 1);
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(cctx, (const unsigned char *)"\x02h2\x02h3", 6), 1);
    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(first);
    CHECK_EQ(tlsbio_connect(client), -1);
    pump(client, server, 0);
    int ret = tlsbio_accept(server);
    CHECK_EQ(tlsbio_get_error(server, ret), TLSBIO_ERROR_WANT_CLIENT_HELLO_CB);
    CHECK(strcmp(tlsbio_client_hello_server_name(server), "localhost") == 0);
    CHECK_EQ(tlsbio_client_hello_alpn_count(server), 2);
    const uint8_t *p = NULL;
    size_t n = 0;
    CHECK_EQ(tlsbio_client_hello_alpn(server, 1, &p, &n), 1);
    CHECK(n == 2 && memcmp(p, "h3", 2) == 0);
    CHECK_EQ(tlsbio_client_hello_alpn(server, 2, &p, &n), 0);
    /* A client context is refused with a reason. */
    CHECK_EQ(tlsbio_set_ctx(server, cctx), -1);
    CHECK(strstr(tlsbio_error_string(server), "client context") != NULL);
    CHECK_EQ(tlsbio_set_ctx(server, chosen), 1);
    /* Not paused any more. */
    CHECK_EQ(tlsbio_set_ctx(server, chosen), -1);
    handshake(client, server, 1);
    CHECK_EQ(tlsbio_get0_alpn_selected(server, &p, &n), 1);
    CHECK(n == 2 && memcmp(p, "h2", 2) == 0);
    printf("ok: ClientHello pause, SNI and ALPN read, context chosen\n");
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(chosen);
    tlsbio_ctx_free(first);
}

/* Client certificates: required and given, required and missing. */
static void client_certificates(void) {
    struct file ca = read_file(dir, "ca.pem");
    struct file cert = read_file(dir, "client.pem"), key = read_file(dir, "client.key");
    tlsbio_ctx *sctx = server_ctx(), *cctx = client_ctx(), *anon = client_ctx();
    CHECK_EQ(tlsbio_ctx_set_verify_client(sctx, TLSBIO_VERIFY_PEER | TLSBIO_VERIFY_FAIL_IF_NO_PEER_CERT,
                                          ca.data, ca.len), 1);
    CHECK_EQ(tlsbio_ctx_use_client_certificate(cctx, cert.data, cert.len, key.data, key.len), 1);
    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    handshake(client, server, 0);
    CHECK_EQ(tlsbio_get_peer_cert_chain_len(server), 1);
    tlsbio_free(client);
    tlsbio_free(server);

    client = tlsbio_new_client(anon, "localhost");
    server = tlsbio_new_server(sctx);
    int failed = 0;
    for (int i = 0; i < 20 && !failed; i++) {
        int ret = tlsbio_connect(client);
        pump(client, server, 0);
        ret = tlsbio_accept(server);
        if (tlsbio_get_error(server, ret) == TLSBIO_ERROR_SSL) failed = 1;
        pump(server, client, 0);
    }
    CHECK(failed);
    CHECK(strstr(tlsbio_error_string(server), "certificate") != NULL);
    printf("ok: client certificate required: accepted with one (%s without)\n",
           tlsbio_error_string(server));
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(anon);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(sctx);
    free(ca.data);
    free(cert.data);
    free(key.data);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    dir = argv[1];
    full_session(TLSBIO_TLS1_3_VERSION, 0);
    full_session(TLSBIO_TLS1_3_VERSION, 1);
    full_session(TLSBIO_TLS1_2_VERSION, 0);
    full_session(TLSBIO_TLS1_2_VERSION, 1);
    corrupted_record();
    truncation();
    client_hello_pause();
    client_certificates();
    printf("all C handshake tests passed\n");
    return 0;
}
