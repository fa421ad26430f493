/*
 * sbtune_observe.c - how the apply procedure looks at httpd: the
 * scoreboard (sb_shm) and mod_status (sb_status_fetch), and the status
 * URL's keep-alive headers (contracts in sbtune_apply_int.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <curl/curl.h>

#include "sb_shm.h"
#include "sb_slot.h"
#include "sb_status.h"
#include "sbtune_apply_int.h"

void sbtune_observer_init(sbtune_observer_t *w, const sbtune_apply_opts_t *o, apr_pool_t *p)
{
    memset(w, 0, sizeof(*w));
    w->pool = p;
    w->scoreboard = o->scoreboard;
    w->status_url = o->status_url;
    sb_status_opts_default(&w->sopts);
    w->sopts.url = o->status_url;
    w->sopts.user = o->status_user;
    w->sopts.password = o->status_password;
    w->sopts.ca_file = o->ca_file;
    w->sopts.insecure = o->insecure;
    w->sopts.connect_timeout_ms = 1000;
    w->sopts.timeout_ms = 2000;
}

void sbtune_observer_close(sbtune_observer_t *w)
{
    sb_shm_close(w->shm);
    w->shm = NULL;
}

/* One look at httpd through the given sources.  The one place sbtune's
 * apply reads httpd (to become a user of the shared lib/sb_source). */
void sbtune_observe(sbtune_observer_t *w, sbtune_obs_t *ob, apr_pool_t *p)
{
    sb_sample_t *smp;
    apr_status_t rv;
    int i;

    memset(ob, 0, sizeof(*ob));
    ob->gen = ob->server_limit = ob->thread_limit = ob->sb_len = -1;
    ob->sb_line = apr_pstrdup(p, "");
    if (w->scoreboard) {
        if (w->shm == NULL) {
            rv = sb_shm_open(&w->shm, w->scoreboard, w->pool);
            if (rv != APR_SUCCESS) {
                snprintf(ob->err, sizeof(ob->err), "scoreboard: %s", sb_shm_error(w->shm));
                sb_shm_close(w->shm);
                w->shm = NULL;
                ob->shm_gone = 1;
            }
        }
        if (w->shm) {
            rv = sb_shm_sample(w->shm, p, &smp);
            if (rv == APR_SUCCESS) {
                ob->ok = 1;
                ob->gen = smp->server.generation;
                ob->server_limit = smp->server.server_limit;
                ob->thread_limit = smp->server.thread_limit;
                ob->nprocs = smp->nprocs;
                ob->proc_old = apr_pcalloc(p, sizeof(int) * (apr_size_t)(smp->nprocs + 1));
                for (i = 0; i < smp->nprocs; i++) {
                    ob->proc_old[i] = smp->procs[i].pid > 0
                        && smp->procs[i].generation != smp->server.generation;
                }
            }
            else {
                ob->shm_gone = 1;
                snprintf(ob->err, sizeof(ob->err), "scoreboard: %s", sb_shm_error(w->shm));
            }
        }
    }
    if (w->status_url) {
        char err[512];

        rv = sb_status_fetch(&w->sopts, p, &smp, NULL, err, sizeof(err));
        if (rv == APR_SUCCESS) {
            ob->ok = 1;
            if (!w->scoreboard) {
                ob->gen = smp->server.generation;
            }
            ob->sb_len = smp->nworkers;
            ob->sb_line = apr_palloc(p, (apr_size_t)smp->nworkers + 1);
            for (i = 0; i < smp->nworkers; i++) {
                ob->sb_line[i] = sb_slot_table[smp->workers[i].state].ch;
            }
            ob->sb_line[smp->nworkers] = '\0';
            apr_cpystrn(ob->mpm, smp->server.mpm, sizeof(ob->mpm));
            apr_cpystrn(ob->version, smp->server.version, sizeof(ob->version));
        }
        else {
            ob->status_down = 1;
            snprintf(ob->err + strlen(ob->err), sizeof(ob->err) - strlen(ob->err), "%s%s",
                     *ob->err ? "; " : "", err);
        }
    }
}

static size_t ka_header_cb(char *buf, size_t size, size_t n, void *baton)
{
    sbtune_ka_hdr_t *h = baton;
    size_t len = size * n;
    char line[256];
    char *v;

    if (len >= sizeof(line)) {
        return len;
    }
    memcpy(line, buf, len);
    line[len] = '\0';
    if (strncasecmp(line, "Keep-Alive:", 11) == 0) {
        h->keepalive_hdr = 1;
        v = strstr(line, "timeout=");
        if (v) {
            h->timeout = atoi(v + 8);
        }
    }
    else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close")) {
        h->conn_close = 1;
    }
    return len;
}

static size_t discard_cb(char *buf, size_t size, size_t n, void *baton)
{
    return size * n;
}

int sbtune_observe_keepalive(sbtune_observer_t *w, sbtune_ka_hdr_t *h)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *hdrs;
    CURLcode rc;
    long code = 0;

    memset(h, 0, sizeof(*h));
    h->timeout = -1;
    if (curl == NULL) {
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, w->status_url);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ka_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sbtune-apply");
    if (w->sopts.user && w->sopts.password) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, w->sopts.user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, w->sopts.password);
    }
    if (w->sopts.ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, w->sopts.ca_file);
    }
    if (w->sopts.insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* httpd answers with "Keep-Alive: timeout=N" only to a client that asks */
    hdrs = curl_slist_append(NULL, "Connection: Keep-Alive");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);        /* closes the kept-alive connection */
    curl_slist_free_all(hdrs);
    return rc == CURLE_OK && code > 0 ? 0 : -1;
}
