import Foundation
import SeatcastCore
import Synchronization

// Owns: the one clock of token expiries: a thread that wakes the loop (`LoopMessage.expire`)
// when the earliest deadline the loop published has passed. Thread: its own, plus `next`,
// `start` and `stop` from the loop. It keeps no per-connection state: the loop's
// `ExpiryQueue` does.

final class ExpiryTicker: Sendable {
    /// How often the thread looks at the deadline: a token outlives its deadline by at most
    /// this much (plus one loop pass).
    static let period = 0.25
    private let entry: LoopEntry
    /// The earliest deadline (wall-clock seconds, as a bit pattern); +infinity for none.
    private let deadline = Atomic<UInt64>(Double.infinity.bitPattern)
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(entry: LoopEntry) { self.entry = entry }

    /// Loop: the queue's earliest deadline changed (nil: nothing is waiting).
    func next(_ earliest: Double?) {
        deadline.store((earliest ?? .infinity).bitPattern, ordering: .releasing)
    }

    /// Loop: starts the thread the first time a deadline is watched (open mode never does).
    func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let t = Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                Thread.sleep(forTimeInterval: Self.period)
                let bits = deadline.load(ordering: .acquiring)
                if Double(Timestamp.nowMs()) / 1000 > Double(bitPattern: bits) {
                    // Once per deadline: the loop publishes the next one when it has expired it
                    // (unless it published another meanwhile, which stays).
                    _ = deadline.compareExchange(expected: bits, desired: Double.infinity.bitPattern, ordering: .acquiringAndReleasing)
                    entry.push(.expire)
                }
            }
        }
        t.name = "seatcast-expiry"
        t.start()
    }

    /// The thread ends within one period.
    func stop() { stopped.store(true, ordering: .releasing) }
}
