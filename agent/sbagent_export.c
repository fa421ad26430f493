/*
 * sbagent_export.c - the Prometheus endpoint (libmicrohttpd) and the
 * node_exporter textfile.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhttpd.h>
#include <apr_strings.h>

#include "sbagent_export.h"

struct sb_export {
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock;
    char *text;                 /* malloc'ed, replaced each second */
    size_t len;
};

#if MHD_VERSION < 0x00097002
typedef int mhd_result_t;
#else
typedef enum MHD_Result mhd_result_t;
#endif

static mhd_result_t answer(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version,
                           const char *upload_data, size_t *upload_size, void **state)
{
    sb_export_t *x = cls;
    struct MHD_Response *resp;
    mhd_result_t ret;
    unsigned int code = MHD_HTTP_OK;
    const char *ctype = "text/plain; version=0.0.4; charset=utf-8";
    char *body;
    size_t len;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET\n";
        resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Allow", "GET, HEAD");
        ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (strcmp(url, "/metrics") == 0) {
        pthread_mutex_lock(&x->lock);
        len = x->len;
        body = malloc(len ? len : 1);
        if (body && len) {
            memcpy(body, x->text, len);
        }
        pthread_mutex_unlock(&x->lock);
        if (!body) {
            return MHD_NO;
        }
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    else if (strcmp(url, "/") == 0) {
        static const char msg[] = "sbagent: metrics at /metrics\n";
        ctype = "text/plain; charset=utf-8";
        resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
    }
    else {
        static const char msg[] = "not found: metrics are at /metrics\n";
        ctype = "text/plain; charset=utf-8";
        code = MHD_HTTP_NOT_FOUND;
        resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    ret = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

int sb_export_parse_listen(const char *spec, struct sockaddr_storage *ss, int *is_loopback,
                           char *err, size_t errlen)
{
    char host[128];
    const char *colon;
    char *end;
    long port;

    memset(ss, 0, sizeof(*ss));
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host)) {
            snprintf(err, errlen, "listen '%s': expected [IPv6]:PORT", spec);
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        colon = rb + 1;
    }
    else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
            snprintf(err, errlen, "listen '%s': expected ADDRESS:PORT, e.g. 127.0.0.1:9117",
                     spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 1 || port > 65535) {
        snprintf(err, errlen, "listen '%s': the port must be 1 to 65535", spec);
        return -1;
    }
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
            snprintf(err, errlen, "listen '%s': '%s' is not an IPv6 address", spec, host);
            return -1;
        }
        *is_loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
    }
    else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &s4->sin_addr) != 1) {
            snprintf(err, errlen, "listen '%s': '%s' is not an IPv4 address (names are not "
                     "resolved)", spec, host);
            return -1;
        }
        *is_loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    return 0;
}

sb_export_t *sb_export_start(const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int loop;
    sb_export_t *x;

    if (sb_export_parse_listen(listen, &ss, &loop, err, errlen) != 0) {
        return NULL;
    }
    x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&x->lock, NULL);
    x->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
                              | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                              0, NULL, NULL, answer, x,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                              MHD_OPTION_END);
    if (!x->mhd) {
        snprintf(err, errlen, "cannot serve metrics on %s: %s", listen,
                 errno ? strerror(errno) : "libmicrohttpd refused");
        pthread_mutex_destroy(&x->lock);
        free(x);
        return NULL;
    }
    return x;
}

void sb_export_publish(sb_export_t *x, const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);

    if (!copy) {
        return;
    }
    memcpy(copy, text, len + 1);
    pthread_mutex_lock(&x->lock);
    free(x->text);
    x->text = copy;
    x->len = len;
    pthread_mutex_unlock(&x->lock);
}

void sb_export_stop(sb_export_t *x)
{
    if (!x) {
        return;
    }
    MHD_stop_daemon(x->mhd);
    pthread_mutex_destroy(&x->lock);
    free(x->text);
    free(x);
}

int sb_export_write_textfile(const char *path, const char *text, char *err, size_t errlen)
{
    char tmp[4096];
    int fd;
    size_t len = strlen(text), off = 0;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "textfile path too long: %s", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fchmod(fd, 0644);
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
