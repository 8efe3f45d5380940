/* Misuse at the boundary: NULL everywhere, a context freed while its
 * connections live, zero-length buffers, a read buffer smaller than a
 * record, over-consuming lent output, bad PEM, wrong context kinds. Every
 * case gets an error code and a sentence, never a crash.
 *
 * Usage: misuse PKI_DIR */
#include "common.h"

static const char *dir;

static void nulls(void) {
    uint8_t buf[8];
    const uint8_t *p = NULL;
    size_t n = 0;
    CHECK(tlsbio_ctx_new_server(NULL, 0, NULL, 0) == NULL); /* empty */
    CHECK(strstr(tlsbio_last_error(), "no CERTIFICATE block") != NULL);
    CHECK(tlsbio_ctx_new_server(NULL, 10, NULL, 10) == NULL);
    CHECK(strstr(tlsbio_last_error(), "NULL") != NULL);
    CHECK(tlsbio_ctx_new_server_from_files(NULL, NULL) == NULL);
    CHECK(tlsbio_ctx_new_client(NULL, 0) == NULL);
    CHECK(tlsbio_new_client(NULL, "localhost") == NULL);
    CHECK(strstr(tlsbio_last_error(), "context is NULL") != NULL);
    CHECK(tlsbio_new_server(NULL) == NULL);
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(NULL, (const uint8_t *)"\x02h2", 3), 0);
    CHECK_EQ(tlsbio_ctx_set_min_proto_version(NULL, 0), 0);
    CHECK_EQ(tlsbio_ctx_set_keylog_callback(NULL, NULL, NULL), 0);
    tlsbio_ctx_free(NULL);
    tlsbio_free(NULL);
    CHECK_EQ(tlsbio_do_handshake(NULL), -1);
    CHECK_EQ(tlsbio_get_error(NULL, -1), TLSBIO_ERROR_SSL);
    CHECK_EQ(tlsbio_read(NULL, buf, sizeof buf), -1);
    CHECK_EQ(tlsbio_peek(NULL, buf, sizeof buf), -1);
    CHECK_EQ(tlsbio_write(NULL, buf, sizeof buf), -1);
    CHECK_EQ(tlsbio_shutdown(NULL), -1);
    CHECK_EQ(tlsbio_pending(NULL), 0);
    CHECK_EQ(tlsbio_bio_write(NULL, buf, sizeof buf), -1);
    CHECK_EQ(tlsbio_bio_read(NULL, buf, sizeof buf), -1);
    CHECK_EQ(tlsbio_bio_ctrl_pending(NULL), 0);
    CHECK_EQ(tlsbio_bio_get_write_guarantee(NULL), 0);
    CHECK_EQ(tlsbio_read_request(NULL), 0);
    CHECK_EQ(tlsbio_bio_shutdown_wr(NULL), -1);
    CHECK_EQ(tlsbio_bio_peek_out(NULL, &p), 0);
    CHECK(p == NULL);
    CHECK_EQ(tlsbio_bio_consume_out(NULL, 0), -1);
    CHECK(strcmp(tlsbio_get_version(NULL), "unknown") == 0);
    CHECK(tlsbio_get_cipher_name(NULL) == NULL);
    CHECK(tlsbio_get_servername(NULL) == NULL);
    CHECK_EQ(tlsbio_get0_alpn_selected(NULL, &p, &n), 0);
    CHECK_EQ(tlsbio_session_reused(NULL), 0);
    CHECK_EQ(tlsbio_is_init_finished(NULL), 0);
    CHECK_EQ(tlsbio_get_peer_cert_chain_len(NULL), 0);
    CHECK_EQ(tlsbio_get_peer_certificate(NULL, 0, &p, &n), 0);
    CHECK(strcmp(tlsbio_state_string_long(NULL), "invalid connection") == 0);
    CHECK(tlsbio_client_hello_server_name(NULL) == NULL);
    CHECK_EQ(tlsbio_client_hello_alpn_count(NULL), 0);
    CHECK_EQ(tlsbio_client_hello_alpn(NULL, 0, &p, &n), 0);
    CHECK_EQ(tlsbio_set_ctx(NULL, NULL), -1);
    CHECK(tlsbio_error_string(NULL) != NULL);
    printf("ok: NULL handles and arguments give errors\n");
}

static void bad_configuration(void) {
    struct file chain = read_file(dir, "server.pem"), key = read_file(dir, "server.key");
    struct file ca = read_file(dir, "ca.pem");
    /* Not PEM. */
    CHECK(tlsbio_ctx_new_server((const uint8_t *)"hello", 5, key.data, key.len) == NULL);
    CHECK(strstr(tlsbio_last_error(), "no CERTIFICATE block") != NULL);
    /* A certificate where the key should be. */
    CHECK(tlsbio_ctx_new_server(chain.data, chain.len, chain.data, chain.len) == NULL);
    CHECK(strstr(tlsbio_last_error(), "private key") != NULL);
    /* The wrong key for the certificate. */
    struct file other_key = read_file(dir, "client.key");
    CHECK(tlsbio_ctx_new_server(chain.data, chain.len, other_key.data, other_key.len) == NULL);
    CHECK(strstr(tlsbio_last_error(), "does not belong to the certificate") != NULL);
    printf("ok: mismatched key: %s\n", tlsbio_last_error());
    CHECK(tlsbio_ctx_new_server_from_files("/nonexistent/chain.pem", "/nonexistent/key.pem") == NULL);
    CHECK(strstr(tlsbio_last_error(), "/nonexistent/chain.pem") != NULL);

    tlsbio_ctx *sctx = tlsbio_ctx_new_server(chain.data, chain.len, key.data, key.len);
    tlsbio_ctx *cctx = tlsbio_ctx_new_client(ca.data, ca.len);
    CHECK(sctx && cctx);
    /* Bad settings fail where they are made and change nothing. */
    CHECK_EQ(tlsbio_ctx_set_alpn_protos(sctx, (const uint8_t *)"\x05h2", 3), 0);
    CHECK(strstr(tlsbio_last_error(), "malformed") != NULL);
    CHECK_EQ(tlsbio_ctx_set_min_proto_version(sctx, 0x0301), 0);
    CHECK(strstr(tlsbio_last_error(), "not supported") != NULL);
    CHECK_EQ(tlsbio_ctx_set_min_proto_version(sctx, TLSBIO_TLS1_3_VERSION), 1);
    CHECK_EQ(tlsbio_ctx_set_max_proto_version(sctx, TLSBIO_TLS1_2_VERSION), 0);
    CHECK(strstr(tlsbio_last_error(), "no protocol version") != NULL);
    CHECK_EQ(tlsbio_ctx_set_verify_client(sctx, 7, ca.data, ca.len), 0);
    CHECK_EQ(tlsbio_ctx_set_verify_client(cctx, TLSBIO_VERIFY_PEER, ca.data, ca.len), 0);
    CHECK(strstr(tlsbio_last_error(), "server context") != NULL);
    CHECK_EQ(tlsbio_ctx_set_client_hello_pause(cctx, 1), 0);
    CHECK_EQ(tlsbio_ctx_use_client_certificate(sctx, chain.data, chain.len, key.data, key.len), 0);
    /* Connections of the wrong kind. */
    CHECK(tlsbio_new_client(sctx, "localhost") == NULL);
    CHECK(strstr(tlsbio_last_error(), "server context") != NULL);
    CHECK(tlsbio_new_server(cctx) == NULL);
    CHECK(tlsbio_new_client(cctx, "not a name!") == NULL);
    CHECK(strstr(tlsbio_last_error(), "neither a DNS name nor an IP address") != NULL);
    CHECK(tlsbio_new_client(cctx, NULL) == NULL);
    /* set_ctx on a connection that is not paused. */
    tlsbio_conn *server = tlsbio_new_server(sctx);
    CHECK_EQ(tlsbio_set_ctx(server, sctx), -1);
    CHECK_EQ(tlsbio_get_error(server, -1), TLSBIO_ERROR_SSL);
    CHECK(strstr(tlsbio_error_string(server), "not paused") != NULL);
    tlsbio_free(server);
    tlsbio_ctx_free(sctx);
    tlsbio_ctx_free(cctx);
    free(chain.data);
    free(key.data);
    free(other_key.data);
    free(ca.data);
    printf("ok: bad PEM, keys, versions, ALPN and context kinds are refused with reasons\n");
}

/* A context freed mid-handshake; zero-length and tiny buffers; over-
 * consuming lent output. */
static void lifetimes_and_buffers(void) {
    struct file chain = read_file(dir, "server.pem"), key = read_file(dir, "server.key");
    struct file ca = read_file(dir, "ca.pem");
    tlsbio_ctx *sctx = tlsbio_ctx_new_server(chain.data, chain.len, key.data, key.len);
    tlsbio_ctx *cctx = tlsbio_ctx_new_client(ca.data, ca.len);
    tlsbio_conn *client = tlsbio_new_client(cctx, "localhost");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    free(chain.data);
    free(key.data);
    free(ca.data);

    /* The ClientHello is out; both contexts go; the handshake goes on. */
    CHECK_EQ(tlsbio_connect(client), -1);
    tlsbio_ctx_free(cctx);
    tlsbio_ctx_free(sctx);

    /* Zero-length calls do nothing and lose nothing. */
    uint8_t none[1];
    CHECK_EQ(tlsbio_bio_write(server, NULL, 0), 0);
    CHECK_EQ(tlsbio_bio_read(client, none, 0), 0);
    CHECK_EQ(tlsbio_read(server, none, 0), 0);
    CHECK_EQ(tlsbio_get_error(server, 0), TLSBIO_ERROR_NONE);
    CHECK_EQ(tlsbio_write(client, NULL, 0), 0);
    /* NULL with a length is an error on the connection, with a reason. */
    CHECK_EQ(tlsbio_read(server, NULL, 10), -1);
    CHECK_EQ(tlsbio_get_error(server, -1), TLSBIO_ERROR_SSL);
    CHECK(strstr(tlsbio_error_string(server), "NULL") != NULL);
    CHECK_EQ(tlsbio_bio_write(server, NULL, 10), -1);

    /* Lent output: consuming more than was lent is refused, nothing lost. */
    const uint8_t *data = NULL;
    size_t lent = tlsbio_bio_peek_out(client, &data);
    CHECK(lent > 0);
    CHECK_EQ(tlsbio_bio_consume_out(client, lent + 1), -1);
    CHECK(strstr(tlsbio_error_string(client), "were lent") != NULL);
    CHECK_EQ(tlsbio_bio_ctrl_pending(client), lent);
    CHECK_EQ(tlsbio_bio_peek_out(client, NULL), 0);

    /* The handshake, the ciphertext moved one byte at a time, exactly as
     * much as the read request asks. */
    int client_done = 0, server_done = 0;
    for (int i = 0; i < 100000 && !(client_done && server_done); i++) {
        if (!client_done) client_done = tlsbio_connect(client) == 1;
        if (!server_done) server_done = tlsbio_accept(server) == 1;
        uint8_t byte;
        if (tlsbio_bio_read(client, &byte, 1) == 1) CHECK_EQ(tlsbio_bio_write(server, &byte, 1), 1);
        if (tlsbio_bio_read(server, &byte, 1) == 1) CHECK_EQ(tlsbio_bio_write(client, &byte, 1), 1);
    }
    CHECK(client_done && server_done);

    /* A read buffer smaller than a record: byte by byte, the rest pending. */
    const char *msg = "a record read one byte at a time";
    CHECK_EQ(tlsbio_write(client, (const uint8_t *)msg, strlen(msg)), strlen(msg));
    pump(client, server, 1);
    char got[64] = {0};
    for (size_t i = 0; i < strlen(msg); i++) {
        CHECK_EQ(tlsbio_read(server, (uint8_t *)got + i, 1), 1);
        CHECK_EQ(tlsbio_pending(server), strlen(msg) - i - 1);
    }
    CHECK(strcmp(got, msg) == 0);
    /* Peek leaves the bytes. */
    CHECK_EQ(tlsbio_write(client, (const uint8_t *)"peek", 4), 4);
    pump(client, server, 0);
    uint8_t peeked[4];
    CHECK_EQ(tlsbio_peek(server, peeked, 4), 4);
    CHECK_EQ(tlsbio_read(server, peeked, 4), 4);
    CHECK(memcmp(peeked, "peek", 4) == 0);

    /* Writing after shutdown is a misuse, reported. */
    CHECK_EQ(tlsbio_shutdown(client), 0);
    int ret = tlsbio_write(client, (const uint8_t *)"late", 4);
    CHECK_EQ(ret, -1);
    CHECK_EQ(tlsbio_get_error(client, ret), TLSBIO_ERROR_SSL);
    printf("ok: write after shutdown: %s\n", tlsbio_error_string(client));
    /* A full read buffer takes no more. */
    size_t room = tlsbio_bio_get_write_guarantee(server);
    uint8_t *junk = calloc(room + 100, 1);
    CHECK_EQ(tlsbio_bio_write(server, junk, room + 100), room);
    CHECK_EQ(tlsbio_bio_write(server, junk, 1), 0);
    free(junk);
    tlsbio_free(client);
    tlsbio_free(server);
    printf("ok: contexts freed mid-handshake, zero-length and 1-byte buffers, lent output\n");
}

/* The system store, pointed at our CA through SSL_CERT_FILE, then at
 * nothing. */
static void system_roots(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    CHECK_EQ(unsetenv("SSL_CERT_DIR"), 0);
    CHECK_EQ(setenv("SSL_CERT_FILE", path, 1), 0);
    tlsbio_ctx *cctx = tlsbio_ctx_new_client_system_roots();
    if (!cctx) fprintf(stderr, "%s\n", tlsbio_last_error());
    CHECK(cctx != NULL);
    /* It verifies our server. */
    struct file chain = read_file(dir, "server.pem"), key = read_file(dir, "server.key");
    tlsbio_ctx *sctx = tlsbio_ctx_new_server(chain.data, chain.len, key.data, key.len);
    tlsbio_conn *client = tlsbio_new_client(cctx, "127.0.0.1");
    tlsbio_conn *server = tlsbio_new_server(sctx);
    int done = 0;
    for (int i = 0; i < 20 && done != 2; i++) {
        done = tlsbio_connect(client) == 1;
        pump(client, server, 0);
        done += tlsbio_accept(server) == 1;
        pump(server, client, 0);
    }
    CHECK_EQ(done, 2);
    tlsbio_free(client);
    tlsbio_free(server);
    tlsbio_ctx_free(sctx);
    tlsbio_ctx_free(cctx);
    free(chain.data);
    free(key.data);

    CHECK_EQ(setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1), 0);
    CHECK(tlsbio_ctx_new_client_system_roots() == NULL);
    CHECK(strstr(tlsbio_last_error(), "no usable CA certificate") != NULL);
    printf("ok: system roots from SSL_CERT_FILE; none: %s\n", tlsbio_last_error());
    unsetenv("SSL_CERT_FILE");
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    dir = argv[1];
    nulls();
    system_roots();
    bad_configuration();
    lifetimes_and_buffers();
    printf("all C misuse tests passed\n");
    return 0;
}
