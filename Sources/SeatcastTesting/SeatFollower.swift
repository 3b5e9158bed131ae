import Foundation
import SeatcastCore

/// A subscriber that follows a trip the way docs/PROTOCOL.md tells clients to: its `ClientMap`
/// takes the snapshot and every event; on a seq gap it resubscribes with `since`
/// (counted: the server is meant to heal gaps itself). Every trip event received is kept
/// in `received`, in order. One thread uses it.
public final class SeatFollower {
    public let client: WSClient
    public let tripId: String
    public let name: String
    public private(set) var map: ClientMap
    /// The seq of the first snapshot.
    public let initialSeq: Int64
    /// Every seat_* event received, in arrival order (including any dropped during a resubscribe).
    public private(set) var received: [JSON] = []
    /// Events whose seq was at or below the map's (a broadcast delivered twice).
    public private(set) var duplicates: [JSON] = []
    /// Times this client saw a gap and resubscribed with `since`.
    public private(set) var resubscribes = 0
    /// Gaps seen: (map seq, event seq).
    public private(set) var gaps: [(Int64, Int64)] = []
    /// Snapshots that arrived without being asked for.
    public private(set) var unaskedSnapshots = 0
    /// `error` messages received.
    public private(set) var errors: [JSON] = []
    private var resubscribing = false

    public init(port: Int, tripId: String, name: String) throws {
        self.tripId = tripId
        self.name = name
        client = try WSClient(port: port, path: "/ws/trips/\(tripId)")
        let deadline = Date().addingTimeInterval(10)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let text = try client.nextText(timeout: left) else { throw TestFailure("\(name): no snapshot") }
            let j = try JSON.parse(text)
            if j.type == "snapshot" {
                map = try ClientMap(snapshot: j)
                initialSeq = map.seq
                return
            }
        }
    }

    /// Takes one message.
    public func handle(_ j: JSON) throws {
        switch j.type {
        case "subscribed":
            resubscribing = false
        case "error":
            errors.append(j)
        case "seat_locked", "seat_released", "seat_booked":
            guard j["tripId"]?.stringValue == tripId else { return }
            received.append(j)
            // While a resubscribe is under way, the replay after `subscribed` covers these.
            if resubscribing { return }
            switch try map.receive(j) {
            case .stale:
                duplicates.append(j)
            case .gap:
                gaps.append((map.seq, j.seq ?? -1))
                resubscribes += 1
                resubscribing = true
                try client.send(resumeJSON(tripId, epoch: map.map.epoch, seq: map.seq))
            case .unknownSeat:
                throw TestFailure("\(name): event for an unknown seat: \(j.compact)")
            case .snapshot, .applied, .ignored:
                return
            }
        default:
            if try map.receive(j) == .snapshot {
                if resubscribing { resubscribing = false } else { unaskedSnapshots += 1 }
            }
        }
    }

    /// Handles whatever has already arrived, without waiting.
    public func drain() throws {
        while let text = try client.nextText(timeout: 0) { try handle(try JSON.parse(text)) }
    }

    /// Handles messages until `done` holds; throws at the timeout.
    public func pump(timeout: Double, _ what: String, until done: (SeatFollower) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(self) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw TestFailure("\(name): \(what) not within \(timeout)s (map at seq \(map.seq); last received "
                    + "\(received.suffix(3).map(\.compact)))")
            }
            if let text = try client.nextText(timeout: min(left, 0.5)) { try handle(try JSON.parse(text)) }
        }
    }

    /// Waits for an event of `type` on `seat` (optionally also matching `match`).
    @discardableResult
    public func waitForEvent(_ type: String, seat: String, timeout: Double = 10,
                             where match: (JSON) -> Bool = { _ in true }) throws -> JSON {
        var found: JSON?
        try pump(timeout: timeout, "\(type) \(seat)") { f in
            found = f.received.first { $0.type == type && $0.seatNo == seat && match($0) }
            return found != nil
        }
        return found!
    }

    /// Events received of `type` on `seat`.
    public func events(_ type: String, seat: String) -> [JSON] {
        received.filter { $0.type == type && $0.seatNo == seat }
    }

    /// Pumps until the map has caught up with `seq` (no resubscribe pending).
    public func catchUp(to seq: Int64, timeout: Double = 10) throws {
        try pump(timeout: timeout, "catching up to seq \(seq)") { $0.map.seq >= seq && !$0.resubscribing }
    }

    /// Seats whose state differs from `snapshot` (empty when the maps agree), for messages.
    public func differences(from snapshot: TripSnapshot) -> [String] { map.differences(from: snapshot) }
}
