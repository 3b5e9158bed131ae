import CLibPQ
import Synchronization

/// A mutex-guarded list of work plus an eventfd that rings when the list stops being
/// empty. Any thread pushes; one thread waits (poll) and takes everything at once, so
/// work that piles up while the consumer is busy is handled as one batch.
final class WakeQueue<Item: Sendable>: Sendable {
    /// The eventfd: made in init (which cannot fail once it exists) and closed only in
    /// deinit, so exactly once; the consumer thread keeps its owner alive while it polls.
    let fd: Int32
    private let items = Mutex<[Item]>([])

    init() {
        fd = seatcast_eventfd()
        precondition(fd >= 0, "eventfd failed")
    }

    deinit { close(fd) }

    func push(_ item: Item) {
        let wasEmpty = items.withLock { list in
            list.append(item)
            return list.count == 1
        }
        if wasEmpty { seatcast_eventfd_signal(fd) }
    }

    /// Rings without adding work (used to stop the consumer).
    func wake() { seatcast_eventfd_signal(fd) }

    /// Consumer thread: everything queued so far. Drains the eventfd first, so an item
    /// pushed after this call rings again.
    func takeAll() -> [Item] {
        seatcast_eventfd_drain(fd)
        return items.withLock { list in
            let out = list
            list.removeAll(keepingCapacity: true)
            return out
        }
    }

    /// Consumer thread: waits until rung, `extraFD` is readable, or `timeoutMs` passes (-1: forever).
    /// Returns whether `extraFD` is readable.
    @discardableResult
    func wait(extraFD: Int32 = -1, timeoutMs: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: extraFD, events: Int16(POLLIN), revents: 0)]
        let n = poll(&fds, extraFD >= 0 ? 2 : 1, timeoutMs)
        return n > 0 && extraFD >= 0 && fds[1].revents != 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
