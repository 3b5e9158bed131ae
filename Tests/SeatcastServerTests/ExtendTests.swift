import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

/// `extend` over WebSocket and HTTP (docs/PROTOCOL.md, "Extend").
@Suite struct ExtendTests {
    /// An extend moves the hold's `until` for the buyer (`extended`) and for every subscriber (`seat_locked`, next seq); the shorthand and HTTP do the same; another hold gets `not_held`.
    @Test func extendReachesEverySubscriber() throws {
        try TestServer.withTrip(configure: { $0.holdTTL = 60 }) { server, trip in
            let (watcher, map) = try server.subscriber(trip)
            let buyer = try server.client()
            let hold = "extend-hold-0123456789"
            try buyer.send(reserveJSON(trip, ["4B", "4C"], hold: hold, id: "r1"))
            let reserved = try buyer.next(type: "reserved")
            let first = try #require(reserved["until"]?.stringValue.flatMap(ClientMap.parseMs))
            for _ in 0..<2 { _ = try watcher.next(type: "seat_locked") }

            // Without `seconds`: now + the hold TTL, later than the reserve's own until.
            try buyer.send(#"{"type":"extend","tripId":"\#(trip)","hold":"\#(hold)","id":"e1"}"#)
            let extended = try buyer.next(type: "extended")
            #expect(extended["id"]?.stringValue == "e1")
            #expect(extended["hold"]?.stringValue == hold)
            #expect(Set(extended["seats"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["4B", "4C"])
            let until = try #require(extended["until"]?.stringValue.flatMap(ClientMap.parseMs))
            #expect(until > first)
            var seen: [String: Int64] = [:]
            for i in 1...2 {
                let e = try watcher.next(type: "seat_locked")
                #expect(e.seq == map.seq + 2 + Int64(i))
                seen[e.seatNo ?? ""] = e["until"]?.stringValue.flatMap(ClientMap.parseMs)
            }
            #expect(seen == ["4B": until, "4C": until])

            // The terminal words and HTTP reach the same command.
            try buyer.send("extend \(trip) \(hold) 60")
            #expect(try buyer.next(type: "extended")["hold"]?.stringValue == hold)
            let (status, body) = try server.http("POST", "/api/trips/\(trip)/extend", body: #"{"hold":"\#(hold)","id":"h1"}"#)
            #expect(status == 200)
            #expect(body.contains(#""type":"extended""#) && body.contains(#""id":"h1""#))

            // A hold that holds nothing here.
            try buyer.send(#"{"type":"extend","tripId":"\#(trip)","hold":"someone-else-0123456789","id":"e2"}"#)
            let refused = try buyer.next(type: "rejected")
            #expect(refused["reason"]?.stringValue == "not_held")
            // Three over the WebSocket, one over HTTP.
            #expect(try server.metric("seatcast_requests_total{type=\"extend\"}") == 4)
        }
    }
}
