import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

// The compact snapshot end to end (docs/PROTOCOL.md "Compact snapshot"): asked for over
// WebSocket (`compact:true`, `?compact=1` on the trip URL) and HTTP (`?compact=1`, loaded
// and not loaded), equal to the database and to the full form, followed by events, and
// kept on resumes that end in a snapshot.

@Suite(.timeLimit(.minutes(1)))
struct CompactSnapshotServerTests {
    static func isCompact(_ j: JSON) -> Bool { j["compact"] == .bool(true) }

    @Test func compactOverWebSocketAndHTTP() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 3, cols: 30, name: "Wide") { server, trip in
            // Not loaded yet: encoded from the store's snapshot.
            let cold = try server.http("GET", "/api/trips/\(trip)?compact=1")
            #expect(cold.status == 200)
            let coldJSON = try JSON.parse(cold.body)
            #expect(Self.isCompact(coldJSON))
            #expect(try ClientMap.parseSnapshot(coldJSON) == (try db.snapshot(trip)))

            let viaURL = try server.client("/ws/trips/\(trip)?compact=1")
            let first = try viaURL.next(type: "snapshot")
            #expect(Self.isCompact(first))
            #expect(first["status"]?.stringValue == String(repeating: "a", count: 90))
            var urlMap = try ClientMap(snapshot: first)

            let viaJSON = try server.client()
            try viaJSON.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true,"id":"c1"}"#)
            let second = try viaJSON.next(type: "snapshot")
            #expect(Self.isCompact(second))
            var jsonMap = try ClientMap(snapshot: second)
            let (full, fullMap0) = try server.subscriber(trip)
            var fullMap = fullMap0

            let actor = try server.client()
            try actor.send(reserveJSON(trip, ["2-7"], id: "r1"))
            #expect(try actor.reply(id: "r1").type == "reserved")
            try actor.send(reserveJSON(trip, ["3-30"], id: "r2"))
            let hold = try actor.reply(id: "r2")["hold"]?.stringValue ?? ""
            try actor.send(#"{"type":"confirm","tripId":"\#(trip)","hold":"\#(hold)","id":"r3"}"#)
            #expect(try actor.reply(id: "r3").type == "confirmed")
            for (c, m) in [(viaURL, 0), (viaJSON, 1), (full, 2)] {
                for type in ["seat_locked", "seat_locked", "seat_booked"] {
                    let e = try c.next(type: type)
                    switch m {
                    case 0: try urlMap.apply(e)
                    case 1: try jsonMap.apply(e)
                    default: try fullMap.apply(e)
                    }
                }
            }
            let now = try db.snapshot(trip)
            #expect(urlMap.differences(from: now).isEmpty)
            #expect(jsonMap.differences(from: now).isEmpty)
            #expect(fullMap.differences(from: now).isEmpty)

            // Loaded: the hub's cached compact frame, at the same seq as the database.
            let warm = try JSON.parse(try server.http("GET", "/api/trips/\(trip)?compact=1").body)
            #expect(Self.isCompact(warm))
            #expect(warm["status"]?.stringValue?.filter { $0 == "h" }.count == 1)
            #expect(warm["status"]?.stringValue?.filter { $0 == "b" }.count == 1)
            #expect(try ClientMap.parseSnapshot(warm) == now)
            // Without the flag, the full form as before.
            #expect(!Self.isCompact(try JSON.parse(try server.http("GET", "/api/trips/\(trip)").body)))
        }
    }

    /// A resume that cannot continue answers with the form the client asked for; one that can continues with events as usual.
    @Test func resumeWithCompact() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip(rows: 4, cols: 4) { server, trip in
            let (watcher, _) = try server.subscriber(trip)
            let c = try server.client()
            try c.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true}"#)
            let snap = try c.next(type: "snapshot")
            let epoch = snap["epoch"]?.stringValue ?? ""
            let seq = snap.seq ?? 0
            try c.send(reserveJSON(trip, ["1A"], id: "r1"))
            _ = try c.reply(id: "r1")
            _ = try watcher.next(type: "seat_locked")

            // Another epoch: a fresh compact snapshot.
            try c.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true,"since":{"epoch":"other","seq":0}}"#)
            let fresh = try c.next(type: "snapshot")
            #expect(Self.isCompact(fresh))
            #expect(try ClientMap.parseSnapshot(fresh) == (try db.snapshot(trip)))

            // Ahead of the trip: a snapshot too, compact.
            try c.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true,"since":{"epoch":"\#(epoch)","seq":\#(seq + 100)}}"#)
            #expect(Self.isCompact(try c.next(type: "snapshot")))

            // A resume that can continue: subscribed, then the missed event, no snapshot.
            try c.send(#"{"type":"subscribe","tripId":"\#(trip)","compact":true,"since":{"epoch":"\#(epoch)","seq":\#(seq)},"id":"s2"}"#)
            let sub = try c.next(type: "subscribed")
            #expect(sub.seq == seq)
            let e = try c.next(type: "seat_locked")
            #expect(e.seatNo == "1A")
        }
    }
}
