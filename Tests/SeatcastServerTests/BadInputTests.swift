import Foundation
import SeatcastCore
import SeatcastTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct BadInputTests {
    /// Every bad input of docs/PROTOCOL.md semantics 8 gets its error code, the connection still answers ping, and no seat changes.
    @Test func eachBadInputGetsItsCodeAndChangesNothing() throws {
        let db = TestDatabase.shared
        try TestServer.withTrip { server, trip in
            let (bystander, _) = try server.subscriber(trip)
            let before = try db.snapshot(trip)
            let c = try server.client()
            let hold = String(repeating: "k", count: 20)
            let cases: [(String, String)] = [
                ("{not json", "bad_request"),
                ("[1,2,3]", "unknown_type"),  // not starting with { : read as words
                (#"{"tripId":"x"}"#, "bad_request"),
                (#"{"type":42}"#, "bad_request"),
                (#"{"type":"teleport","id":"q1"}"#, "unknown_type"),
                ("teleport \(trip)", "unknown_type"),
                (#"{"type":"reserve","tripId":"no-such-trip","seats":["1A"]}"#, "unknown_trip"),
                (#"{"type":"reserve","tripId":"bad trip!","seats":["1A"]}"#, "unknown_trip"),
                (#"{"type":"subscribe","tripId":"no-such-trip"}"#, "unknown_trip"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["99Z"]}"#, "unknown_seat"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","99Z"]}"#, "unknown_seat"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["no seat"]}"#, "unknown_seat"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":"1A"}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":[1]}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":[]}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)"}"#, "bad_request"),
                (#"{"type":"reserve","tripId":7,"seats":["1A"]}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","1A"]}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"],"hold":"short"}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"],"id":7}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A"],"id":"\#(String(repeating: "i", count: 65))"}"#, "bad_request"),
                (#"{"type":"reserve","tripId":"\#(trip)","seats":["1A","1B","1C","1D","2A","2B","2C","2D","3A","3B","3C"]}"#, "too_large"),
                (#"{"type":"confirm","tripId":"\#(trip)"}"#, "bad_request"),
                (#"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)","seats":["1A","77Q"]}"#, "unknown_seat"),
                (#"{"type":"subscribe","tripId":"\#(trip)","since":{"epoch":1}}"#, "bad_request"),
                ("reserve \(trip)", "bad_request"),
                ("", "bad_request"),
                (String(repeating: "[", count: 100), "unknown_type"),
                ("{" + String(repeating: #""a":["#, count: 50), "bad_request"),
            ]
            for (i, (frame, code)) in cases.enumerated() {
                try c.send(frame)
                let r = try c.next(type: "error")
                #expect(r["code"]?.stringValue == code, "case \(i): \(frame.prefix(80)) -> \(r)")
                #expect((r["message"]?.stringValue ?? "").isEmpty == false)
                _ = try c.roundTrip()
            }
            // A binary frame is refused with a clear error, and the connection stays usable.
            try c.sendFrame(opcode: 2, [1, 2, 3])
            #expect(try c.next(type: "error")["code"]?.stringValue == "bad_request")
            // The id of a readable request is echoed in its error.
            try c.send(#"{"type":"teleport","id":"echo-me"}"#)
            #expect(try c.next(type: "error")["id"]?.stringValue == "echo-me")

            _ = try c.roundTrip()
            let after = try db.snapshot(trip)
            #expect(after.seq == before.seq)
            #expect(after.seats == before.seats)
            #expect(try bystander.roundTrip().isEmpty, "the bystander saw something")
        }
    }

    /// A message over 64 KiB closes the connection with 1009, in one frame or in fragments; 64 KiB exactly is fine.
    @Test func oversizedMessagesClose1009() throws {
        let server = try TestServer()
        defer { server.stop() }
        let ok = try server.client()
        // 65536 bytes: a valid JSON ping padded with spaces inside the object.
        let pad = String(repeating: " ", count: 65536 - #"{"type":"ping","id":"big"}"#.utf8.count)
        try ok.send(#"{"type":"ping","id":"big"\#(pad)}"#)
        #expect(try ok.next(type: "pong")["id"]?.stringValue == "big")

        let one = try server.client()
        try one.send(String(repeating: "x", count: 65537))
        #expect(try one.waitForClose() == 1009)

        let frag = try server.client()
        try frag.sendFrame(opcode: 1, Array(repeating: UInt8(ascii: " "), count: 40000), fin: false)
        try frag.sendFrame(opcode: 0, Array(repeating: UInt8(ascii: " "), count: 40000), fin: true)
        #expect(try frag.waitForClose() == 1009)

        // Others are not disturbed.
        _ = try ok.roundTrip()
    }

    /// A message split across fragments is reassembled.
    @Test func fragmentedMessageIsReassembled() throws {
        let server = try TestServer()
        defer { server.stop() }
        let c = try server.client()
        let text = Array(#"{"type":"ping","id":"frag"}"#.utf8)
        try c.sendFrame(opcode: 1, Array(text[0..<5]), fin: false)
        try c.sendFrame(opcode: 0, Array(text[5..<12]), fin: false)
        try c.sendFrame(opcode: 0, Array(text[12...]), fin: true)
        #expect(try c.next(type: "pong")["id"]?.stringValue == "frag")
    }

    /// A flood gets rate_limited, then the connection is usable again once the client slows down.
    @Test func floodIsRateLimited() throws {
        let server = try TestServer()
        defer { server.stop() }
        let c = try server.client()
        for i in 0..<160 { try c.send(#"{"type":"ping","id":"f\#(i)"}"#) }
        var pongs = 0, limited = 0
        for i in 0..<160 {
            _ = i
            guard let text = try c.nextText(timeout: 2) else { break }
            let j = try JSON.parse(text)
            if j.type == "pong" { pongs += 1 }
            if j.type == "error" && j["code"]?.stringValue == "rate_limited" { limited += 1 }
            if pongs + limited == 160 { break }
        }
        #expect(limited > 0)
        #expect(pongs >= 100 && pongs < 160)
        // Waiting on the event itself: a ping answered with its pong. Refused messages cost no
        // token, and the bucket refills at 50/s, so one gets through within a few replies.
        var answered = false
        let deadline = Date().addingTimeInterval(5)
        var attempt = 0
        while !answered && Date() < deadline {
            attempt += 1
            try c.send(#"{"type":"ping","id":"again\#(attempt)"}"#)
            while let text = try c.nextText(timeout: 0.5) {
                let j = try JSON.parse(text)
                if j.type == "pong" && j["id"]?.stringValue == "again\(attempt)" { answered = true }
                if j.type == "error" || answered { break }
            }
        }
        #expect(answered)
    }

    /// More than 64 subscriptions on one connection get too_large; the first 64 work.
    @Test func subscriptionLimit() throws {
        let db = TestDatabase.shared
        let server = try TestServer()
        defer { server.stop() }
        let trips = try (0..<65).map { _ in try db.createTrip(rows: 1, cols: 1) }
        let c = try server.client()
        for t in trips.prefix(64) {
            try c.send(#"{"type":"subscribe","tripId":"\#(t)"}"#)
            _ = try c.next(type: "snapshot") { $0["tripId"]?.stringValue == t }
        }
        try c.send(#"{"type":"subscribe","tripId":"\#(trips[64])","id":"s65"}"#)
        let r = try c.next(type: "error")
        #expect(r["code"]?.stringValue == "too_large")
        #expect(r["id"]?.stringValue == "s65")
        try c.send(#"{"type":"unsubscribe","tripId":"\#(trips[0])"}"#)
        _ = try c.next(type: "unsubscribed")
        try c.send(#"{"type":"subscribe","tripId":"\#(trips[64])"}"#)
        _ = try c.next(type: "snapshot") { $0["tripId"]?.stringValue == trips[64] }
    }

    /// A disallowed Origin is closed with 1008; an allowed one and none at all are served.
    @Test func originPolicy() throws {
        let server = try TestServer { $0.allowedOrigins = ["http://good.example"] }
        defer { server.stop() }
        let bad = try server.client(headers: ["Origin": "http://evil.example"])
        #expect(try bad.waitForClose() == 1008)
        let good = try server.client(headers: ["Origin": "http://good.example"])
        _ = try good.roundTrip()
        let none = try server.client()
        _ = try none.roundTrip()
    }

    /// WebSocket paths other than /ws and /ws/trips/{id} are refused at the upgrade.
    @Test func unknownWebSocketPathIsRefused() throws {
        let server = try TestServer()
        defer { server.stop() }
        #expect(throws: TestFailure.self) { _ = try server.client("/nope") }
        #expect(throws: TestFailure.self) { _ = try server.client("/ws/trips/bad%20id") }
    }
}
