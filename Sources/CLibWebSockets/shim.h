/* CLibWebSockets: libwebsockets for Swift.
 * Each seatcast_lws_* function below exists because Swift cannot import the
 * macro or inline construct it wraps. */
#ifndef SEATCAST_CLIBWEBSOCKETS_SHIM_H
#define SEATCAST_CLIBWEBSOCKETS_SHIM_H

#include <libwebsockets.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <ev.h>

/* LWS_PRE is a macro expression: the headroom lws_write needs before a payload. */
static inline size_t seatcast_lws_pre(void) { return LWS_PRE; }

/* lws_write_http is a static inline in lws-write.h that Swift does not see reliably. */
static inline int seatcast_lws_write_http(struct lws *wsi, void *buf, size_t len, int final) {
    return lws_write(wsi, (unsigned char *)buf, len, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
}

/* lws_write with the text opcode; LWS_WRITE_TEXT is an enum Swift imports as a
 * struct, this keeps the hot path a single plain call. */
static inline int seatcast_lws_write_text(struct lws *wsi, unsigned char *payload, size_t len) {
    return lws_write(wsi, payload, len, LWS_WRITE_TEXT);
}

/* Bytes sent as they are (LWS_WRITE_RAW is a macro alias of LWS_WRITE_HTTP): used to
 * send several already-framed WebSocket messages in one write. Needs LWS_PRE headroom. */
static inline int seatcast_lws_write_raw(struct lws *wsi, unsigned char *buf, size_t len) {
    return lws_write(wsi, buf, len, LWS_WRITE_RAW);
}

/* One non-blocking send() that never raises SIGPIPE: MSG_NOSIGNAL and MSG_DONTWAIT are
 * macros Swift imports with platform-dependent types. Returns what send() returns. */
static inline long seatcast_send_nonblocking(int fd, const void *buf, size_t len) {
    return (long)send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* One write of a parallel flush pass (Sender): `iov_count` iovecs from `iov_start` of
 * the pass's iovec array, `length` bytes in all, to `fd`. `result` is what send() or
 * sendmsg() returned, `err` its errno when negative. */
struct seatcast_send_job {
    int fd;
    int iov_count;
    size_t iov_start;
    size_t length;
    long result;
    int err;
};

/* Runs `n` jobs, each one non-blocking send (one iovec) or sendmsg (several), no
 * SIGPIPE. Touches nothing but the sockets and the jobs' result fields, so two threads
 * may run disjoint jobs of one pass at once. */
static inline void seatcast_send_jobs(struct seatcast_send_job *jobs, size_t n, const struct iovec *iov) {
    for (size_t i = 0; i < n; i++) {
        struct seatcast_send_job *j = &jobs[i];
        long r;
        if (j->iov_count == 1) {
            r = (long)send(j->fd, iov[j->iov_start].iov_base, iov[j->iov_start].iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            struct msghdr m = {0};
            m.msg_iov = (struct iovec *)&iov[j->iov_start];
            m.msg_iovlen = (size_t)j->iov_count;
            r = (long)sendmsg(j->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        j->result = r;
        j->err = r < 0 ? errno : 0;
    }
}

/* libev, the event loop lws runs on (its evlib plugin, libwebsockets-evlib-ev): epoll
 * instead of lws's default poll() over every descriptor, which costs O(connections) per
 * loop pass. ev.h's EV_P macros and enum flags do not import cleanly into Swift. */
static inline void *seatcast_ev_loop_new(void) {
    return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
}
/* One loop iteration: waits for at least one event, handles everything ready. */
static inline void seatcast_ev_run_once(void *loop) { ev_run((struct ev_loop *)loop, EVRUN_ONCE); }
static inline void seatcast_ev_run_nowait(void *loop) { ev_run((struct ev_loop *)loop, EVRUN_NOWAIT); }
static inline void seatcast_ev_loop_destroy(void *loop) { ev_loop_destroy((struct ev_loop *)loop); }

/* The lwsl_* logging macros expand to _lws_log(level, fmt, ...), a C variadic. */
static inline void seatcast_lws_log_err(const char *msg) { lwsl_err("%s\n", msg); }

/* The sorted-usec-list callback receives the list node; the struct embedding it
 * begins with it, so the node pointer is the struct pointer. */
typedef void (*seatcast_sul_cb)(lws_sorted_usec_list_t *sul);

#endif
