import SeatcastCore

// What a test client sends and reads: requests written as docs/PROTOCOL.md shows them, and
// the fields of a server message that tests look at most.

/// A `reserve` request; without `hold` the server makes one.
public func reserveJSON(_ trip: String, _ seats: [String], hold: String? = nil, id: String? = nil) -> String {
    var s = #"{"type":"reserve","tripId":"\#(trip)","seats":\#(seatList(seats))"#
    if let hold { s += #","hold":"\#(hold)""# }
    if let id { s += #","id":"\#(id)""# }
    return s + "}"
}

/// A `release` request; without `seats`, every seat of the hold on the trip.
public func releaseJSON(_ trip: String, hold: String, seats: [String]? = nil, id: String? = nil) -> String {
    var s = #"{"type":"release","tripId":"\#(trip)","hold":"\#(hold)""#
    if let seats { s += #","seats":\#(seatList(seats))"# }
    if let id { s += #","id":"\#(id)""# }
    return s + "}"
}

/// A `subscribe` that resumes from stream position (`epoch`, `seq`).
public func resumeJSON(_ trip: String, epoch: String, seq: Int64, id: String? = nil) -> String {
    var s = #"{"type":"subscribe","tripId":"\#(trip)","since":{"epoch":"\#(epoch)","seq":\#(seq)}"#
    if let id { s += #","id":"\#(id)""# }
    return s + "}"
}

private func seatList(_ seats: [String]) -> String { "[" + seats.map { "\"\($0)\"" }.joined(separator: ",") + "]" }

extension JSON {
    /// `type` of a server message.
    public var type: String? { self["type"]?.stringValue }
    /// `seatNo` of an event.
    public var seatNo: String? { self["seatNo"]?.stringValue }
    /// `seq` of an event, a snapshot or `subscribed`.
    public var seq: Int64? { self["seq"]?.int64Value }
    /// The strings of an array (a reply's `seats`).
    public var strings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
    /// The message's start, for failure notes.
    public var compact: String { String(text.prefix(200)) }
}
