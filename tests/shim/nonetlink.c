/*
 * nonetlink.c - an LD_PRELOAD shim for the tests: socket(AF_NETLINK, ...)
 * fails with EPERM, as on a host whose policy (seccomp, an LSM) forbids
 * netlink sockets, so that the kernel source fails every time it is
 * opened.  Every other socket is made by the real socket().
 *
 * Built by the test that uses it: cc -shared -fPIC -o nonetlink.so nonetlink.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol)
{
    static int (*real_socket)(int, int, int);

    if (domain == AF_NETLINK) {
        errno = EPERM;
        return -1;
    }
    if (!real_socket) {
        real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    }
    return real_socket(domain, type, protocol);
}
