/* CLibPQ: libpq for Swift, plus the few Linux calls the database threads need
 * that Swift's Glibc module does not import. */
#ifndef SEATCAST_CLIBPQ_SHIM_H
#define SEATCAST_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

/* eventfd(2): the wake-up a database thread polls beside PQsocket. Wrapped
 * because sys/eventfd.h is not part of Swift's Glibc module map. */
static inline int seatcast_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

/* Ring an eventfd (any thread). */
static inline void seatcast_eventfd_signal(int fd) { uint64_t one = 1; (void)!write(fd, &one, sizeof one); }

/* Drain an eventfd after poll() said it is readable. */
static inline void seatcast_eventfd_drain(int fd) { uint64_t v; (void)!read(fd, &v, sizeof v); }

#endif
