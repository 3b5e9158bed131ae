import SeatcastCore

/// `seatcast reserve|confirm|release|extend`: one request over a fresh WebSocket, its reply
/// printed as the server sent it.
public enum OneShot {
    public struct Reply {
        public var text: String
        /// reserved, confirmed, released or extended.
        public var succeeded: Bool
    }

    /// Sends `request` (a JSON object with `"id":"cli"`) and waits for the reply with that id.
    public static func run(url: WebSocketURL, request: String) -> Result<Reply, WebSocketConnection.Closed> {
        var reply: Reply?
        let conn = WebSocketConnection(url: url.with(path: "/ws"))
        let ended = conn.run { c, event in
            switch event {
            case .open:
                c.send(request)
            case let .message(text):
                guard let j = try? JSON.parse(text), j["id"]?.stringValue == "cli" else { return }
                let type = j["type"]?.stringValue ?? ""
                reply = Reply(text: text, succeeded: ["reserved", "confirmed", "released", "extended"].contains(type))
                c.close()
            }
        }
        if let reply { return .success(reply) }
        return .failure(ended)
    }

    /// `count`/`together` ask for the best available seats (reserve); `seconds` is an extend's length.
    public static func request(type: String, tripId: String, seats: [String]?, hold: String?,
                               count: Int? = nil, together: Bool = false, seconds: Int? = nil) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", type)
        w.field("tripId", tripId)
        if let seats, !seats.isEmpty { w.field("seats", strings: seats) }
        if let count {
            w.field("count", count)
            if together { w.key("together"); w.bool(true) }
        }
        if let hold { w.field("hold", hold) }
        if let seconds { w.field("seconds", seconds) }
        w.field("id", "cli")
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
