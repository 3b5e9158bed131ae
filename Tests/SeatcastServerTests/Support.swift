import Foundation
import SeatcastCore
import SeatcastTesting

/// Lets one WSClient per index be used from `concurrentPerform` (each index touches only its own client).
final class Clients: @unchecked Sendable {
    var all: [WSClient]
    init(_ all: [WSClient]) { self.all = all }
}

/// Sends `text(i)` from every client at the same moment, one thread per client.
func sendAtOnce(_ clients: [WSClient], _ text: @escaping @Sendable (Int) -> String) {
    let box = Clients(clients)
    let start = DispatchSemaphore(value: 0)
    let group = DispatchGroup()
    let senders = 8
    for t in 0..<senders {
        DispatchQueue.global().async(group: group) {
            start.wait()
            var i = t
            while i < box.all.count {
                try? box.all[i].send(text(i))
                i += senders
            }
        }
    }
    for _ in 0..<senders { start.signal() }
    group.wait()
}

extension JSON {
    var type: String? { self["type"]?.stringValue }
    var seatNo: String? { self["seatNo"]?.stringValue }
    var seq: Int64? { self["seq"]?.int64Value }
    var strings: [String] { self.arrayValue?.compactMap(\.stringValue) ?? [] }
}

func reserveJSON(_ trip: String, _ seats: [String], hold: String? = nil, id: String? = nil) -> String {
    var s = #"{"type":"reserve","tripId":"\#(trip)","seats":[\#(seats.map { "\"\($0)\"" }.joined(separator: ","))]"#
    if let hold { s += #","hold":"\#(hold)""# }
    if let id { s += #","id":"\#(id)""# }
    return s + "}"
}
