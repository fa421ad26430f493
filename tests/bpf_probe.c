/*
 * bpf_probe - drives lib/sb_bpf for tests/integration/t_bpf_counts.sh.
 *
 *   bpf_probe PORT [PORT...]
 *
 * Opens the eBPF source, watches the ports and prints JSON lines on
 * stdout (flushed one by one):
 *
 *   {"ready":true}                        once attached and watching
 *   {"close":"server","lifetime":S,"port":P}   per followed connection
 *   {"counts":{...},"final":false}        on SIGUSR1
 *   {"counts":{...},"final":true}         on SIGTERM/SIGINT, then exit 0
 *
 * The ring buffer is read every 50 ms.  Exit status: 0 after a signal; 1
 * when the source fails (its error on stderr); 2 on a usage error; 77
 * when this build has no BPF source.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>

#include "sb_bpf.h"

static volatile sig_atomic_t stop_flag, dump_flag;

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        dump_flag = 1;
    }
    else {
        stop_flag = 1;
    }
}

static void on_close(void *baton, double lifetime_s, sb_bpf_closer_t closer, uint16_t port)
{
    static const char *const names[] = { "server", "client", "reset" };

    printf("{\"close\":\"%s\",\"lifetime\":%.6f,\"port\":%u}\n",
           (unsigned)closer < 3 ? names[closer] : "?", lifetime_s, port);
}

static void print_counts(const sb_bpf_counts_t *c, int final)
{
    printf("{\"counts\":{\"arrivals\":%llu,\"closed_server\":%llu,\"closed_client\":%llu,"
           "\"closed_reset\":%llu,\"untracked\":%llu,\"lost\":%llu},\"final\":%s}\n",
           (unsigned long long)c->arrivals, (unsigned long long)c->closed_server,
           (unsigned long long)c->closed_client, (unsigned long long)c->closed_reset,
           (unsigned long long)c->untracked, (unsigned long long)c->lost,
           final ? "true" : "false");
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_bpf_t *b;
    sb_kernel_ports_t ports = { 0 };
    sb_bpf_counts_t c;
    struct sigaction sa;
    struct timespec tick = { 0, 50 * 1000 * 1000 };
    apr_status_t st;
    int i;

    if (argc < 2 || argc - 1 > SB_KERNEL_MAX_PORTS) {
        fprintf(stderr, "usage: bpf_probe PORT [PORT...] (at most %d)\n", SB_KERNEL_MAX_PORTS);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        ports.port[ports.nports++] = (uint16_t)atoi(argv[i]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    apr_initialize();
    apr_pool_create(&pool, NULL);

    st = sb_bpf_open(&b, pool);
    if (st != APR_SUCCESS) {
        fprintf(stderr, "bpf_probe: %s\n", sb_bpf_error(b));
        return sb_bpf_built() ? 1 : 77;
    }
    st = sb_bpf_set_ports(b, &ports);
    if (st != APR_SUCCESS) {
        fprintf(stderr, "bpf_probe: %s\n", sb_bpf_error(b));
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    printf("{\"ready\":true}\n");

    for (;;) {
        int last = stop_flag;

        st = sb_bpf_poll(b, &c, on_close, NULL);
        if (st != APR_SUCCESS) {
            fprintf(stderr, "bpf_probe: %s\n", sb_bpf_error(b));
            return 1;
        }
        if (last) {
            print_counts(&c, 1);
            break;
        }
        if (dump_flag) {
            dump_flag = 0;
            print_counts(&c, 0);
        }
        nanosleep(&tick, NULL);
    }
    sb_bpf_close(b);
    sb_bpf_close(b);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
