/*
 * sbagent_export.h - serving and writing the metrics text.
 */
#ifndef SBAGENT_EXPORT_H
#define SBAGENT_EXPORT_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct sb_export sb_export_t;

/* Parse "ADDR:PORT" or "[ADDR6]:PORT" (numeric addresses only; an empty
 * address means 127.0.0.1).  Returns 0, or -1 with a message in err. */
int sb_export_parse_listen(const char *spec, struct sockaddr_storage *ss, int *is_loopback,
                           char *err, size_t errlen);

/* Serve GET /metrics on listen with libmicrohttpd (its own thread).
 * Returns NULL with a message in err when the address is bad or taken. */
sb_export_t *sb_export_start(const char *listen, char *err, size_t errlen);

/* Replace the text served (copied). */
void sb_export_publish(sb_export_t *x, const char *text);

void sb_export_stop(sb_export_t *x);

/* Write text to path atomically (a temporary file in the same directory,
 * mode 0644, renamed over path).  Returns 0, or -1 with a message. */
int sb_export_write_textfile(const char *path, const char *text, char *err, size_t errlen);

#endif
