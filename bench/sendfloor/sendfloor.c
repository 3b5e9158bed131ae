/* sendfloor: the kernel's cost of one small send() per subscriber over loopback TCP on
 * this machine, with nothing else in the way: no WebSocket library, no event loop, no
 * JSON. N receiver sockets are read by a child process (epoll, as a load client would);
 * the parent sends R rounds of one B-byte message to every socket, at a fixed rate, and
 * reports its own CPU time (user + system, as `seatcast bench fanout` does for the
 * server) per send. It is the floor under "server CPU per delivered event".
 * With `uring` as fifth argument the sends of a round go through io_uring instead
 * (IORING_OP_SEND, one io_uring_enter per 256 sends), to see whether batching the
 * syscalls lowers the cost (issue 8, item 5).
 *   cc -O2 -o .build/sendfloor bench/sendfloor/sendfloor.c -luring
 *   .build/sendfloor [N=2000] [rounds_per_second=25] [seconds=10] [bytes=90] [send|uring] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    double rate = argc > 2 ? atof(argv[2]) : 25;
    double seconds = argc > 3 ? atof(argv[3]) : 10;
    int bytes = argc > 4 ? atoi(argv[4]) : 90;
    int uring = argc > 5 && strcmp(argv[5], "uring") == 0;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(lfd, (struct sockaddr *)&a, sizeof a);
    listen(lfd, 4096);
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);

    pid_t child = fork();
    if (child == 0) {
        int ep = epoll_create1(0);
        for (int i = 0; i < n; i++) {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        struct epoll_event evs[512];
        char buf[65536];
        for (;;) {
            int k = epoll_wait(ep, evs, 512, -1);
            for (int i = 0; i < k; i++)
                if (read(evs[i].data.fd, buf, sizeof buf) <= 0) exit(0);
        }
    }
    int *fds = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++) {
        fds[i] = accept(lfd, NULL, NULL);
        int one = 1;
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    char *msg = malloc(bytes);
    memset(msg, 'x', bytes);
    int rounds = (int)(rate * seconds);
    double c0 = cpu(), t0 = now();
    long sent = 0, blocked = 0;
    struct io_uring ring;
    if (uring && io_uring_queue_init(256, &ring, 0) != 0) { fprintf(stderr, "io_uring unavailable\n"); return 1; }
    for (int r = 0; r < rounds; r++) {
        while (now() - t0 < r / rate) usleep(200);
        if (!uring) {
            for (int i = 0; i < n; i++) {
                ssize_t w = send(fds[i], msg, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w == bytes) sent++; else blocked++;
            }
            continue;
        }
        for (int i = 0; i < n; i += 256) {
            int k = n - i < 256 ? n - i : 256;
            for (int j = 0; j < k; j++) {
                struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
                io_uring_prep_send(sqe, fds[i + j], msg, bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
            }
            io_uring_submit_and_wait(&ring, k);
            struct io_uring_cqe *cqe;
            unsigned head, seen = 0;
            io_uring_for_each_cqe(&ring, head, cqe) {
                if (cqe->res == bytes) sent++; else blocked++;
                seen++;
            }
            io_uring_cq_advance(&ring, seen);
        }
    }
    double c1 = cpu();
    printf("sendfloor%s: %d sockets x %d rounds of %d bytes at %.0f/s: %ld sends (%ld would block); sender CPU %.2f s = %.2f us per send\n",
           uring ? " (io_uring)" : "", n, rounds, bytes, rate, sent, blocked, c1 - c0, (c1 - c0) / sent * 1e6);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    return 0;
}
