import Foundation
import SeatcastCore
import Synchronization

/// The one LISTEN connection of a server instance, on its own thread. For each watched
/// trip it keeps a cursor (the last `seq` delivered) and, whenever the doorbell rings
/// for that trip, reads the outbox for `seq > cursor` and hands the events to the sink
/// in order. After a reconnect it reads every watched trip's outbox again, so nothing
/// committed while it was away is lost: the outbox, not the doorbell, is the log.
final class EventListener: Sendable {
    enum Control: Sendable {
        case watch(String, afterSeq: Int64)
        case unwatch(String)
    }

    let url: String
    let queue = WakeQueue<Control>()
    let sink = Mutex<(any SeatEventSink)?>(nil)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    let connected = Atomic<Bool>(false)
    let reconnects = Atomic<Int>(0)
    /// Signalled once the first connection attempt has succeeded or failed.
    let firstAttempt = DispatchSemaphore(value: 0)

    init(url: String) { self.url = url }

    func start() {
        let t = Thread { [self] in
            self.run()
            self.finished.signal()
        }
        t.name = "seatcast-listener"
        t.start()
    }

    func stop() {
        running.store(false, ordering: .sequentiallyConsistent)
        queue.wake()
        finished.wait()
    }

    // MARK: Listener thread

    private func run() {
        var cursors: [String: Int64] = [:]
        var conn: PGConnection?
        var backoffMs: Int32 = 50
        var everConnected = false
        var attempted = false
        while running.load(ordering: .sequentiallyConsistent) {
            if conn == nil {
                defer {
                    if !attempted {
                        attempted = true
                        firstAttempt.signal()
                    }
                }
                do {
                    let c = try PGConnection(url)
                    try c.exec("LISTEN \(Schema.notifyChannel)")
                    conn = c
                    connected.store(true, ordering: .relaxed)
                    if everConnected { reconnects.add(1, ordering: .relaxed) }
                    everConnected = true
                    backoffMs = 50
                    // Heal whatever was committed while we were away.
                    for trip in cursors.keys { catchUp(trip, &cursors, c) }
                } catch {
                    queue.wait(timeoutMs: backoffMs)
                    backoffMs = min(backoffMs * 2, 2000)
                    apply(queue.takeAll(), &cursors, nil)
                    continue
                }
            }
            guard let db = conn else { continue }
            do {
                // Queries on this connection (catch-ups) read arriving notifications into
                // libpq's buffer instead of leaving them on the socket: drain them before
                // every poll, or a doorbell would wait for the poll timeout.
                try drainNotifications(db, &cursors)
                // The timeout only bounds how late a dead connection is noticed.
                queue.wait(extraFD: db.socket, timeoutMs: 5000)
                apply(queue.takeAll(), &cursors, db)
                try drainNotifications(db, &cursors)
                if !db.isConnected { throw PGError(kind: .connection, sqlState: nil, message: "connection lost") }
            } catch {
                conn = nil
                connected.store(false, ordering: .relaxed)
            }
        }
        connected.store(false, ordering: .relaxed)
    }

    private func apply(_ controls: [Control], _ cursors: inout [String: Int64], _ db: PGConnection?) {
        for c in controls {
            switch c {
            case let .watch(trip, after):
                cursors[trip] = after
                if let db { catchUp(trip, &cursors, db) }
            case let .unwatch(trip):
                cursors[trip] = nil
            }
        }
    }

    /// Handles every notification libpq has (reading what the socket has first).
    private func drainNotifications(_ db: PGConnection, _ cursors: inout [String: Int64]) throws(PGError) {
        while true {
            let rung = Set(try db.notifications().map(\.payload))
            if rung.isEmpty { return }
            for trip in rung where cursors[trip] != nil { catchUp(trip, &cursors, db) }
        }
    }

    /// Reads and delivers everything after the trip's cursor.
    private func catchUp(_ trip: String, _ cursors: inout [String: Int64], _ db: PGConnection) {
        let store = SeatStore(db)
        let limit = 5000
        while let cursor = cursors[trip] {
            guard let events = try? store.events(tripId: trip, afterSeq: cursor, limit: limit) else { return }
            let target = sink.withLock { $0 }
            guard let last = events.last else {
                // Nothing new. A trip that is gone (deleted: its trigger rings too) or whose
                // stream went back (deleted and created again) needs its subscribers told:
                // the server reloads it, and a reload of a missing trip ends their
                // subscriptions with unknown_trip.
                guard let pos = try? Optional(store.position(tripId: trip)) else { return }  // the read failed
                if let pos, pos.seq >= cursor { return }
                target?.resync(tripId: trip)
                return
            }
            if events[0].seq != cursor + 1 {
                // History before these events is gone (retention or reset): the subscribers
                // need a fresh snapshot rather than a stream with a hole.
                target?.resync(tripId: trip)
            } else {
                target?.deliver(tripId: trip, events: events)
            }
            cursors[trip] = last.seq
            if events.count < limit { return }
        }
    }
}
